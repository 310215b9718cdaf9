using System.Text.Json;
using FastDfs.Cli;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary>
/// <c>--json</c> (one document per invocation, the fields docs/cli.md lists) and the progress bar of uploads and
/// downloads (on stderr, only on a terminal), against a real cluster.
/// </summary>
public sealed class CliJsonAndProgressTests : IAsyncLifetime
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

    /// <summary>Runs a command with --json and parses its output: exactly one JSON document on one line.</summary>
    private async Task<JsonElement> JsonAsync(params string[] args)
    {
        var (exit, output, error) = await FdfsAsync([.. args, "--json"]);
        Assert.True(exit == 0, $"exit {exit}: {error}");
        Assert.Equal(string.Empty, error);
        Assert.EndsWith("\n", output);
        Assert.DoesNotContain('\n', output.TrimEnd('\n'));
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    private string WriteFile(string name, int size, int seed = 1, bool ascii = false)
    {
        string path = Path.Combine(_cluster.Root, name);
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        if (ascii)
        {
            for (int i = 0; i < content.Length; i++)
            {
                content[i] = (byte)('a' + (content[i] % 26));
            }
        }

        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public async Task Upload_info_meta_and_query_print_one_json_document_each()
    {
        string photo = WriteFile("photo.jpg", 12345);
        var upload = await JsonAsync("upload", photo, "--meta", "width=160", "--meta", "author=me");
        string fileId = upload.GetProperty("fileId").GetString()!;
        var id = FileId.Parse(fileId);
        Assert.Equal("group1", upload.GetProperty("group").GetString());
        Assert.Equal(id.LogicName, upload.GetProperty("remoteFilename").GetString());
        Assert.EndsWith(".jpg", id.LogicName, StringComparison.Ordinal);
        Assert.Equal(12345, upload.GetProperty("size").GetInt64());
        Assert.False(upload.GetProperty("appender").GetBoolean());
        Assert.Equal(JsonValueKind.Null, upload.GetProperty("masterFileId").ValueKind);
        await using var client = _cluster.CreateClient();
        Assert.Equal(await File.ReadAllBytesAsync(photo), await client.DownloadBytesAsync(id));

        var info = await JsonAsync("info", fileId);
        var expected = await client.GetFileInfoAsync(id);
        Assert.Equal(fileId, info.GetProperty("fileId").GetString());
        Assert.Equal("normal", info.GetProperty("type").GetString());
        Assert.False(info.GetProperty("fromServer").GetBoolean());
        Assert.Equal("127.0.0.1", info.GetProperty("sourceIpAddress").GetString());
        Assert.Equal(0, info.GetProperty("sourceStorageId").GetInt32());
        Assert.Equal(12345, info.GetProperty("size").GetInt64());
        Assert.Equal(expected.Crc32, info.GetProperty("crc32").GetUInt32());
        Assert.Equal(expected.CreateTimestamp, info.GetProperty("createTimestamp").GetInt64());
        Assert.Equal(expected.CreateTime.UtcDateTime, info.GetProperty("createTime").GetDateTimeOffset().UtcDateTime);
        Assert.EndsWith("Z", info.GetProperty("createTime").GetString());

        var meta = await JsonAsync("meta", "get", fileId);
        Assert.Equal(fileId, meta.GetProperty("fileId").GetString());
        Assert.Equal(
            new Dictionary<string, string> { ["author"] = "me", ["width"] = "160" },
            meta.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));

        var query = await JsonAsync("query", fileId);
        var storage = Assert.Single(query.GetProperty("fetch").EnumerateArray());
        Assert.Equal("127.0.0.1", storage.GetProperty("ip").GetString());
        Assert.Equal(_cluster.Storages[0].EndPoint.Port, storage.GetProperty("port").GetInt32());
        Assert.Equal(_cluster.Storages[0].EndPoint.Port, query.GetProperty("update").GetProperty("port").GetInt32());

        // An appender file (its attributes asked from the storage), a slave, a file without metadata.
        var appender = await JsonAsync("upload", WriteFile("log.txt", 100, 2), "--appender");
        Assert.True(appender.GetProperty("appender").GetBoolean());
        var appenderInfo = await JsonAsync("info", appender.GetProperty("fileId").GetString()!);
        Assert.Equal("appender", appenderInfo.GetProperty("type").GetString());
        Assert.True(appenderInfo.GetProperty("fromServer").GetBoolean());
        Assert.Equal(100, appenderInfo.GetProperty("size").GetInt64());
        var slave = await JsonAsync("upload", WriteFile("thumb.jpg", 10, 3), "--slave-of", fileId, "--prefix", "_small");
        Assert.Equal(fileId, slave.GetProperty("masterFileId").GetString());
        Assert.EndsWith("_small.jpg", slave.GetProperty("fileId").GetString(), StringComparison.Ordinal);
        var none = await JsonAsync("meta", "get", appender.GetProperty("fileId").GetString()!);
        Assert.Empty(none.GetProperty("metadata").EnumerateObject());

        // A failure prints nothing on stdout: the error on stderr and the exit code, as without --json.
        Assert.Equal(0, (await FdfsAsync("delete", fileId)).Exit);
        var gone = await FdfsAsync("meta", "get", fileId, "--json");
        Assert.Equal(2, gone.Exit);
        Assert.Equal(string.Empty, gone.Out);
        Assert.Contains("error no: 2", gone.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_and_check_print_the_cluster_and_the_report_as_json()
    {
        var fileIds = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            fileIds.Add((await FdfsAsync("upload", WriteFile($"f{i}.bin", 1000 + i, i))).Out.Trim());
        }

        var monitor = await JsonAsync("monitor");
        Assert.Equal(_cluster.TrackerAddress, monitor.GetProperty("trackerServer").GetString());
        Assert.Equal(0, monitor.GetProperty("trackerServerIndex").GetInt32());
        Assert.Equal(1, monitor.GetProperty("trackerServerCount").GetInt32());
        var tracker = Assert.Single(monitor.GetProperty("trackers").EnumerateArray());
        Assert.Equal("leader", tracker.GetProperty("role").GetString());
        var group = Assert.Single(monitor.GetProperty("groups").EnumerateArray());
        Assert.Equal("group1", group.GetProperty("groupName").GetString());
        Assert.Equal(1, group.GetProperty("storageCount").GetInt64());
        Assert.Equal(_cluster.Storages[0].EndPoint.Port, group.GetProperty("storagePort").GetInt64());
        Assert.True(group.GetProperty("totalMb").GetInt64() > 0);
        Assert.Equal(Math.Max(0, group.GetProperty("freeMb").GetInt64() - group.GetProperty("reservedMb").GetInt64()), group.GetProperty("availableMb").GetInt64());
        Assert.Equal(JsonValueKind.Null, group.GetProperty("currentTrunkServer").ValueKind);
        var storage = Assert.Single(group.GetProperty("storages").EnumerateArray());
        Assert.Equal("ACTIVE", storage.GetProperty("status").GetString());
        Assert.Equal("127.0.0.1", storage.GetProperty("ipAddr").GetString());
        Assert.Equal(_cluster.Storages[0].EndPoint.Port, storage.GetProperty("port").GetInt64());
        Assert.Equal("both", storage.GetProperty("readWriteMode").GetString());
        Assert.Equal("6.16.1", storage.GetProperty("version").GetString());
        Assert.False(storage.GetProperty("isTrunkServer").GetBoolean());
        Assert.True(storage.GetProperty("connection").GetProperty("maxCount").GetInt32() >= 0);
        var counters = storage.GetProperty("counters");
        Assert.Equal(42, counters.EnumerateObject().Count()); // every counter of the stock listing
        Assert.True(counters.GetProperty("lastHeartBeatTime").GetInt64() > 0);
        await Eventually.TrueAsync(async () =>
        {
            var again = await JsonAsync("monitor", "list", "group1");
            return again.GetProperty("groups")[0].GetProperty("storages")[0].GetProperty("counters").GetProperty("successUploadCount").GetInt64() >= 3;
        }, TimeSpan.FromSeconds(20), "the storage's upload count to reach the tracker");
        Assert.Empty((await JsonAsync("monitor", "list", "group9")).GetProperty("groups").EnumerateArray());

        // Administration: the result as a document, the errno as the exit code (trunk files are off here: EOPNOTSUPP).
        var (exit, output, _) = await FdfsAsync("monitor", "set_trunk_server", "group1", "--json");
        Assert.Equal(95, exit);
        using (var result = JsonDocument.Parse(output))
        {
            Assert.Equal("set_trunk_server", result.RootElement.GetProperty("operation").GetString());
            Assert.False(result.RootElement.GetProperty("success").GetBoolean());
            Assert.Equal(95, result.RootElement.GetProperty("errorNo").GetInt32());
            Assert.Equal("Operation not supported", result.RootElement.GetProperty("errorInfo").GetString());
        }

        var check = await JsonAsync("check", "group1");
        Assert.Equal("group1", check.GetProperty("group").GetString());
        Assert.False(check.GetProperty("quick").GetBoolean());
        Assert.Equal($"127.0.0.1:{_cluster.Storages[0].EndPoint.Port}", Assert.Single(check.GetProperty("members").EnumerateArray()).GetString());
        Assert.Equal(3, check.GetProperty("filesCompared").GetInt64());
        Assert.Empty(check.GetProperty("differences").EnumerateArray());
        Assert.Empty(check.GetProperty("notCompared").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, check.GetProperty("error").ValueKind);

        // A difference: one copy changed behind the storage's back.
        var damaged = FileId.Parse(fileIds[1]);
        string path = Path.Combine(_cluster.StorageConfigs[0].StorePaths[0].Path, "data", damaged.LogicName[4..]);
        await File.WriteAllBytesAsync(path, new byte[5]);
        var (checkExit, checkOutput, _) = await FdfsAsync("check", "group1", "--json");
        Assert.Equal(1, checkExit);
        using var report = JsonDocument.Parse(checkOutput);
        var difference = Assert.Single(report.RootElement.GetProperty("differences").EnumerateArray());
        Assert.Equal(damaged.LogicName, difference.GetProperty("file").GetString());
        Assert.Contains(difference.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("does not match the size and CRC32", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Progress_is_drawn_on_a_terminal_only_never_into_redirected_output()
    {
        string fdfs = Path.Combine(AppContext.BaseDirectory, "fdfs");
        string big = WriteFile("big.bin", 6 << 20, ascii: true);
        string tracker = _cluster.TrackerAddress;

        // Redirected (pipes): stdout is the file ID line alone, stderr stays empty.
        var upload = await ProcessRunner.RunSplitAsync(fdfs, ["upload", big, "--tracker", tracker], TimeSpan.FromSeconds(60));
        Assert.True(upload.Exit == 0, upload.Stderr);
        Assert.Matches(@"^group1/M00/[0-9A-F]{2}/[0-9A-F]{2}/\S+\.bin\n$", upload.Stdout);
        Assert.Equal(string.Empty, upload.Stderr);
        string fileId = upload.Stdout.Trim();
        string copy = Path.Combine(_cluster.Root, "copy.bin");
        var download = await ProcessRunner.RunSplitAsync(fdfs, ["download", fileId, copy, "--tracker", tracker], TimeSpan.FromSeconds(60));
        Assert.Equal((0, "", ""), download);
        var toStdout = await ProcessRunner.RunSplitAsync(fdfs, ["download", fileId, "-", "--tracker", tracker], TimeSpan.FromSeconds(60));
        Assert.Equal(0, toStdout.Exit);
        Assert.Equal(await File.ReadAllTextAsync(big), toStdout.Stdout); // the bytes only
        Assert.Equal(string.Empty, toStdout.Stderr);

        // In-process with writers of its own (a host, a test): no bar either.
        var inProcess = await FdfsAsync("upload", big);
        Assert.Equal(string.Empty, inProcess.Err);

        // On a terminal (script(1) gives the command a pseudo-terminal): the bar is drawn on it and erased, the file ID
        // still printed; not with --no-progress, not for a small file, not through a stock tool's link.
        // util-linux's script(1) is part of every Debian (bsdutils, essential): missing, the check fails, not skips.
        Assert.True(File.Exists("/usr/bin/script"), "/usr/bin/script not found: install bsdutils");

        async Task<string> OnTerminalAsync(string command)
        {
            var (exit, output, error) = await ProcessRunner.RunSplitAsync("/usr/bin/script", ["-qec", command, "/dev/null"], TimeSpan.FromSeconds(60),
                workingDirectory: _cluster.Root);
            Assert.True(exit == 0, output + error);
            return output;
        }

        string drawn = await OnTerminalAsync($"{fdfs} upload {big} --tracker {tracker}");
        Assert.Contains("upload [", drawn, StringComparison.Ordinal);
        Assert.Contains("100% 6.0 MB / 6.0 MB", drawn, StringComparison.Ordinal);
        Assert.Matches(@"\r {20,}\rgroup1/M00/", drawn); // erased before the file ID
        Assert.Contains("download [", await OnTerminalAsync($"{fdfs} download {fileId} again.bin --tracker {tracker}"), StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(big), await File.ReadAllBytesAsync(Path.Combine(_cluster.Root, "again.bin")));
        Assert.DoesNotContain("upload [", await OnTerminalAsync($"{fdfs} upload {big} --no-progress --tracker {tracker}"), StringComparison.Ordinal);
        Assert.DoesNotContain("upload [", await OnTerminalAsync($"{fdfs} upload {WriteFile("small.bin", 1 << 20)} --tracker {tracker}"), StringComparison.Ordinal);

        string link = Path.Combine(_cluster.Root, "fdfs_upload_file");
        File.CreateSymbolicLink(link, fdfs);
        string conf = Path.Combine(_cluster.Root, "client.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {_cluster.Root}\ntracker_server = {tracker}\n");
        string stock = await OnTerminalAsync($"{link} {conf} {big}");
        Assert.DoesNotContain("upload [", stock, StringComparison.Ordinal);
        Assert.Matches(@"group1/M00/\S+\.bin", stock);
    }
}
