using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// <c>fdfs</c> started through links named like the stock tools takes their arguments (docs/compatibility.md,
/// "Drop-in for the stock tools"): a script written for fdfs_upload_file & co. runs unchanged.
/// </summary>
public sealed class StockToolLinkTests
{
    [Fact]
    public async Task Links_named_like_the_stock_tools_run_their_command_lines()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await cluster.WaitForActiveAsync(1, ct);
        string bin = Path.Combine(cluster.Root, "bin");
        Directory.CreateDirectory(bin);
        foreach (string tool in Cli.StockToolNames.Tools.Keys)
        {
            File.CreateSymbolicLink(Path.Combine(bin, tool), Path.Combine(AppContext.BaseDirectory, "fdfs"));
        }

        string conf = Path.Combine(cluster.Root, "client.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {cluster.Root}\ntracker_server = {cluster.TrackerAddress}\n", ct);
        string source = Path.Combine(cluster.Root, "report.txt");
        await File.WriteAllTextAsync(source, "0123456789", ct);

        Task<(int Exit, string Output)> Tool(params string[] args) =>
            ProcessRunner.RunAsync(Path.Combine(bin, args[0]), args.Skip(1), TimeSpan.FromSeconds(60), workingDirectory: cluster.Root);

        var upload = await Tool("fdfs_upload_file", conf, source);
        Assert.True(upload.Exit == 0, upload.Output);
        string id = upload.Output.Trim();
        Assert.Matches(@"^group1/M00/[0-9A-F]{2}/[0-9A-F]{2}/\S+\.txt$", id);

        var info = await Tool("fdfs_file_info", conf, id);
        Assert.Equal(0, info.Exit);
        var ours = new StringWriter();
        Assert.Equal(0, await Cli.CliApp.InvokeAsync(["info", id, "--config", conf], ours, new StringWriter(), ct));
        Assert.Equal(ours.ToString(), info.Output); // the text of fdfs_file_info, which `fdfs info` reproduces

        Assert.Equal(0, (await Tool("fdfs_download_file", conf, id, "whole.txt")).Exit);
        Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "whole.txt"), ct));
        Assert.Equal(0, (await Tool("fdfs_download_file", conf, id, "part.txt", "3", "4")).Exit);
        Assert.Equal("3456", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "part.txt"), ct));

        var appender = await Tool("fdfs_upload_appender", conf, source);
        Assert.True(appender.Exit == 0, appender.Output);
        Assert.Equal(0, (await Tool("fdfs_append_file", conf, appender.Output.Trim(), source)).Exit);
        var regenerated = await Tool("fdfs_regenerate_filename", conf, appender.Output.Trim());
        Assert.True(regenerated.Exit == 0, regenerated.Output);
        Assert.Equal(0, (await Tool("fdfs_download_file", conf, regenerated.Output.Trim(), "twice.txt")).Exit);
        Assert.Equal("01234567890123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "twice.txt"), ct));

        var monitor = await Tool("fdfs_monitor", conf, "-h", cluster.TrackerAddress, "list");
        Assert.Equal(0, monitor.Exit);
        Assert.Contains("group name = group1", monitor.Output);

        Assert.Equal(0, (await Tool("fdfs_delete_file", conf, id)).Exit);
        var again = await Tool("fdfs_delete_file", conf, id);
        Assert.Equal(2, again.Exit);
        Assert.Contains("delete file fail, error no: 2, error info: No such file or directory", again.Output); // stock's line

        var usage = await Tool("fdfs_upload_file", conf);
        Assert.Equal(1, usage.Exit);
        Assert.Contains($"Usage: {Path.Combine(bin, "fdfs_upload_file")} <config_file> <local_filename>", usage.Output); // argv[0], as stock
    }
}
