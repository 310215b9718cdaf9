using System.Text.Json;
using FastDfs.Cli;
using FastDfs.IntegrationTests.Infrastructure;
using Counter = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.IntegrationTests;

/// <summary><c>fdfs bench</c> against a real in-process cluster: a short run must complete, verify and report.</summary>
public sealed class BenchSmokeTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(ct: Timeouts.Test());

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<JsonElement> BenchAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CliApp.InvokeAsync(
            ["bench", .. args, "--json", "-", "--tracker", _cluster.TrackerAddress, "--server-pid", Environment.ProcessId.ToString()],
            output, error, Timeouts.Test());
        Assert.True(exit == 0, $"exit {exit}: {error}{output}");
        return JsonDocument.Parse(output.ToString()).RootElement.Clone();
    }

    [Fact]
    public async Task Cleanup_deletes_every_file_the_run_uploaded_working_set_included()
    {
        var counters = _cluster.Storages[0].Context.Counters;
        long uploads = counters[Counter.SuccessUploadCount], deletes = counters[Counter.SuccessDeleteCount];

        var summary = await BenchAsync("mixed", "--count", "60", "--concurrency", "3", "--files", "10", "--read-percent", "50", "--cleanup");
        long measuredUploads = summary.GetProperty("uploads").GetInt64();
        Assert.True(measuredUploads > 0);
        Assert.Equal(10 + measuredUploads, counters[Counter.SuccessUploadCount] - uploads);
        Assert.Equal(10 + measuredUploads, counters[Counter.SuccessDeleteCount] - deletes);

        var error = new StringWriter();
        Assert.Equal(2, await CliApp.InvokeAsync(["bench", "upload", "--count", "1", "--cleanup", "--save-ids", "ids.txt", "--tracker", _cluster.TrackerAddress],
            new StringWriter(), error, Timeouts.Test()));
        Assert.Contains("--save-ids and --cleanup", error.ToString());
    }

    [Fact]
    public async Task UploadRunVerifiesEveryFileAndReportsFigures()
    {
        var summary = await BenchAsync("upload", "--count", "100", "--concurrency", "4", "--size", "1KB-8KB");

        Assert.Equal("upload", summary.GetProperty("workload").GetString());
        Assert.Equal(100, summary.GetProperty("ops").GetInt64());
        Assert.Equal(100, summary.GetProperty("uploads").GetInt64());
        Assert.Equal(0, summary.GetProperty("errors").GetInt64());
        long bytes = summary.GetProperty("bytes").GetInt64();
        Assert.InRange(bytes, 100 * 1024, 100 * 8192);
        Assert.True(summary.GetProperty("opsPerSecond").GetDouble() > 0);
        var latency = summary.GetProperty("latencyMicros");
        Assert.True(latency.GetProperty("p50").GetInt64() <= latency.GetProperty("p99").GetInt64());
        Assert.True(latency.GetProperty("p99").GetInt64() <= latency.GetProperty("max").GetInt64());
        var server = summary.GetProperty("server");
        Assert.True(server.GetProperty("cpuMicros").GetInt64() > 0);
        // One figure per --server-pid, summing to the total.
        var byPid = server.GetProperty("cpuMicrosPerOpByPid").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Single(byPid);
        Assert.Equal(server.GetProperty("cpuMicrosPerOp").GetDouble(), byPid[0], 0.11);
    }

    [Fact]
    public async Task DownloadAndMixedRunsVerifyEveryDownloadedByte()
    {
        var download = await BenchAsync("download", "--count", "100", "--concurrency", "4", "--size", "4KB", "--files", "10");
        Assert.Equal(100, download.GetProperty("downloads").GetInt64());
        Assert.Equal(0, download.GetProperty("errors").GetInt64());
        Assert.Equal(100 * 4096, download.GetProperty("verifiedBytes").GetInt64());

        Assert.Equal("blocking", download.GetProperty("io").GetString());

        // The thread-pool mode of the generator verifies the same way.
        var mixed = await BenchAsync("mixed", "--count", "100", "--concurrency", "4", "--size", "2KB", "--files", "10", "--read-percent", "50", "--io", "async");
        Assert.Equal("async", mixed.GetProperty("io").GetString());
        long downloads = mixed.GetProperty("downloads").GetInt64();
        Assert.Equal(100, downloads + mixed.GetProperty("uploads").GetInt64());
        Assert.InRange(downloads, 20, 80);
        Assert.Equal(0, mixed.GetProperty("errors").GetInt64());
        Assert.Equal(downloads * 2048, mixed.GetProperty("verifiedBytes").GetInt64());
    }

    [Fact]
    public async Task DownloadOfListedFileIdsChecksTheCrcInTheirNames()
    {
        string ids = Path.Combine(_cluster.Root, "ids.txt");
        await BenchAsync("upload", "--count", "20", "--concurrency", "2", "--size", "3000", "--save-ids", ids);
        Assert.Equal(20, (await File.ReadAllLinesAsync(ids)).Length);

        var summary = await BenchAsync("download", "--count", "40", "--concurrency", "2", "--file-ids", ids);
        Assert.Equal(0, summary.GetProperty("errors").GetInt64());
        Assert.Equal(40 * 3000, summary.GetProperty("verifiedBytes").GetInt64());

        // A listed file that is gone is counted by errno, and the run says so by its exit code.
        await using (var client = _cluster.CreateClient())
        {
            await client.DeleteAsync(FastDfs.Protocol.FileIds.FileId.Parse((await File.ReadAllLinesAsync(ids))[0]), Timeouts.Test());
        }

        var output = new StringWriter();
        int exit = await CliApp.InvokeAsync(
            ["bench", "download", "--count", "40", "--concurrency", "2", "--file-ids", ids, "--json", "-", "--tracker", _cluster.TrackerAddress],
            output, new StringWriter(), Timeouts.Test());
        Assert.Equal(1, exit);
        var failed = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.True(failed.GetProperty("errorsByErrno").GetProperty("2").GetInt64() > 0);
    }
}
