using FastDfs.Cli;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary>The <c>fdfs</c> client commands as a user runs them, against a real cluster.</summary>
public sealed class CliEndToEndTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(ct: Timeouts.Test());

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<(int Exit, string Out, string Err)> FdfsAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CliApp.InvokeAsync([.. args, "--tracker", _cluster.TrackerAddress], output, error, Timeouts.Test());
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task UploadDownloadInfoMetaDelete()
    {
        string source = Path.Combine(_cluster.Root, "photo.jpg");
        byte[] content = new byte[12345];
        new Random(5).NextBytes(content);
        await File.WriteAllBytesAsync(source, content);

        var upload = await FdfsAsync("upload", source, "--meta", "width=160", "--meta", "height=80");
        Assert.True(upload.Exit == 0, upload.Err);
        string fileId = upload.Out.Trim();
        var id = FileId.Parse(fileId);
        Assert.EndsWith(".jpg", id.LogicName, StringComparison.Ordinal);

        string target = Path.Combine(_cluster.Root, "copy.jpg");
        var download = await FdfsAsync("download", fileId, target);
        Assert.True(download.Exit == 0, download.Err);
        Assert.Equal(content, await File.ReadAllBytesAsync(target));

        var info = await FdfsAsync("info", fileId);
        Assert.Equal(0, info.Exit);
        Assert.Contains("12345", info.Out, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", info.Out, StringComparison.Ordinal);

        var meta = await FdfsAsync("meta", "get", fileId);
        Assert.Equal(0, meta.Exit);
        Assert.Contains("height=80", meta.Out, StringComparison.Ordinal);
        Assert.Contains("width=160", meta.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await FdfsAsync("meta", "set", fileId, "width=200", "--merge")).Exit);
        var merged = await FdfsAsync("meta", "get", fileId);
        Assert.Contains("width=200", merged.Out, StringComparison.Ordinal);
        Assert.Contains("height=80", merged.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await FdfsAsync("delete", fileId)).Exit);
        var again = await FdfsAsync("delete", fileId);
        Assert.Equal(2, again.Exit);
        Assert.Contains("error no: 2", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendToAnAppenderFile()
    {
        string first = Path.Combine(_cluster.Root, "a.log");
        string second = Path.Combine(_cluster.Root, "b.log");
        await File.WriteAllTextAsync(first, "line 1\n");
        await File.WriteAllTextAsync(second, "line 2\n");
        var upload = await FdfsAsync("upload", first, "--appender");
        Assert.True(upload.Exit == 0, upload.Err);
        string fileId = upload.Out.Trim();
        Assert.Equal(0, (await FdfsAsync("append", fileId, second)).Exit);
        string target = Path.Combine(_cluster.Root, "ab.log");
        Assert.Equal(0, (await FdfsAsync("download", fileId, target)).Exit);
        Assert.Equal("line 1\nline 2\n", await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task MonitorPrintsTheActiveStorage()
    {
        var monitor = await FdfsAsync("monitor");
        Assert.Equal(0, monitor.Exit);
        Assert.Contains("group name = group1", monitor.Out, StringComparison.Ordinal);
        Assert.Contains("ACTIVE", monitor.Out, StringComparison.Ordinal);
        Assert.Contains($"host = 127.0.0.1:{_cluster.Storages[0].EndPoint.Port}  ACTIVE", monitor.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorsAreClearAndExitNonZero()
    {
        var missing = await FdfsAsync("download", "group1/M00/00/00/fwAAAWsGREiAd6n-AAAADg4Qul0430.txt", Path.Combine(_cluster.Root, "x"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("No such file or directory", missing.Err, StringComparison.Ordinal);

        var wrongGroup = await FdfsAsync("download", "group9/M00/00/00/fwAAAWsGREiAd6n-AAAADg4Qul0430.txt", Path.Combine(_cluster.Root, "y"));
        Assert.NotEqual(0, wrongGroup.Exit);
        Assert.NotEmpty(wrongGroup.Err);

        var badId = await FdfsAsync("info", "not-a-file-id");
        Assert.NotEqual(0, badId.Exit);
        Assert.NotEmpty(badId.Err);
    }

    [Fact]
    public async Task Delete_takes_several_ids_and_a_list_and_reports_each_failure()
    {
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            string source = Path.Combine(_cluster.Root, $"d{i}.txt");
            await File.WriteAllTextAsync(source, $"file {i}");
            ids.Add((await FdfsAsync("upload", source)).Out.Trim());
        }

        var two = await FdfsAsync("delete", ids[0], ids[1]);
        Assert.True(two.Exit == 0, two.Err);
        string list = Path.Combine(_cluster.Root, "ids.txt");
        await File.WriteAllTextAsync(list, $"# cleanup\n{ids[2]}\n\n{ids[0]}\n{ids[3]}\n");
        var fromList = await FdfsAsync("delete", "--from-file", list, ids[4]);
        Assert.Equal(2, fromList.Exit); // ids[0] was deleted already: ENOENT, the others still went
        Assert.Contains(ids[0] + ": error no: 2", fromList.Err, StringComparison.Ordinal);
        foreach (string id in ids)
        {
            Assert.Equal(2, (await FdfsAsync("download", id, Path.Combine(_cluster.Root, "gone"))).Exit); // all five are gone
        }

        var none = await FdfsAsync("delete");
        Assert.Equal(2, none.Exit);
        Assert.Contains("no file ID given", none.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Meta_get_of_a_file_without_metadata_prints_nothing_and_a_missing_file_is_enoent()
    {
        string source = Path.Combine(_cluster.Root, "plain.txt");
        await File.WriteAllTextAsync(source, "no metadata");
        string id = (await FdfsAsync("upload", source)).Out.Trim();
        var empty = await FdfsAsync("meta", "get", id);
        Assert.True(empty.Exit == 0, empty.Err);
        Assert.Equal("", empty.Out);
        Assert.Equal(0, (await FdfsAsync("delete", id)).Exit);
        var missing = await FdfsAsync("meta", "get", id);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("error no: 2", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_of_a_directory_is_a_usage_error_and_upload_dash_reads_standard_input()
    {
        var directory = await FdfsAsync("upload", _cluster.Root);
        Assert.Equal(2, directory.Exit);
        Assert.Contains("is a directory", directory.Err, StringComparison.Ordinal);

        // Standard input needs a process of its own.
        byte[] content = new byte[300_000];
        new Random(9).NextBytes(content);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "fdfs.dll"), "upload", "-", "--ext", "bin", "--tracker", _cluster.TrackerAddress })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(content);
        process.StandardInput.Close();
        await process.WaitForExitAsync(Timeouts.Test());
        Assert.True(process.ExitCode == 0, await stderr);
        string id = (await stdout).Trim();
        Assert.EndsWith(".bin", id, StringComparison.Ordinal);
        string copy = Path.Combine(_cluster.Root, "from-stdin.bin");
        Assert.Equal(0, (await FdfsAsync("download", id, copy)).Exit);
        Assert.Equal(content, await File.ReadAllBytesAsync(copy));
    }

    [Fact]
    public async Task Slave_upload_appender_changes_regenerate_meta_delete_and_query()
    {
        string master = Path.Combine(_cluster.Root, "master.jpg"), thumb = Path.Combine(_cluster.Root, "thumb.jpg");
        await File.WriteAllTextAsync(master, "the master");
        await File.WriteAllTextAsync(thumb, "the thumbnail");
        string masterId = (await FdfsAsync("upload", master)).Out.Trim();
        var slave = await FdfsAsync("upload", thumb, "--slave-of", masterId, "--prefix", "_150x150");
        Assert.True(slave.Exit == 0, slave.Err);
        Assert.Equal(masterId[..^4] + "_150x150.jpg", slave.Out.Trim());
        Assert.Equal(2, (await FdfsAsync("upload", thumb, "--slave-of", masterId)).Exit); // no --prefix

        string text = Path.Combine(_cluster.Root, "appender.txt"), patch = Path.Combine(_cluster.Root, "patch.txt");
        await File.WriteAllTextAsync(text, "0123456789");
        await File.WriteAllTextAsync(patch, "ab");
        string appenderId = (await FdfsAsync("upload", text, "--appender")).Out.Trim();
        Assert.Equal(0, (await FdfsAsync("modify", appenderId, "3", patch)).Exit);
        Assert.Equal(0, (await FdfsAsync("truncate", appenderId, "6")).Exit);
        string copy = Path.Combine(_cluster.Root, "appender-copy.txt");
        Assert.Equal(0, (await FdfsAsync("download", appenderId, copy)).Exit);
        Assert.Equal("012ab5", await File.ReadAllTextAsync(copy));

        var regenerated = await FdfsAsync("regenerate", appenderId);
        Assert.True(regenerated.Exit == 0, regenerated.Err);
        string normalId = regenerated.Out.Trim();
        Assert.NotEqual(appenderId, normalId);
        Assert.Equal(0, (await FdfsAsync("download", normalId, copy)).Exit);
        Assert.Equal("012ab5", await File.ReadAllTextAsync(copy));
        Assert.Equal(2, (await FdfsAsync("truncate", appenderId)).Exit); // the appender name is gone

        Assert.Equal(0, (await FdfsAsync("meta", "set", normalId, "a=1", "b=2")).Exit);
        Assert.Contains("a=1", (await FdfsAsync("meta", "get", normalId)).Out, StringComparison.Ordinal);
        Assert.Equal(0, (await FdfsAsync("meta", "delete", normalId)).Exit);
        var none = await FdfsAsync("meta", "get", normalId);
        Assert.Equal((0, ""), (none.Exit, none.Out));

        var query = await FdfsAsync("query", normalId);
        Assert.True(query.Exit == 0, query.Err);
        string storage = $"127.0.0.1:{_cluster.Storages[0].EndPoint.Port}";
        Assert.Equal($"fetch: {storage}\nupdate: {storage}\n", query.Out.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
