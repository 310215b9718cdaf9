using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary>
/// Draining a storage (issue 19): under upload load, <c>fdfs monitor drain</c> stops the uploads to it at once, says when
/// every file it is the source of is on its peer, and after <c>monitor delete</c> every acknowledged file is still served.
/// </summary>
// Heavy (many processes or thousands of uploads): alone, so that timing-sensitive tests do not run starved beside it.
[Collection(SerialCollection.Name)]
public sealed class DrainTests
{
    [Fact]
    public async Task A_drained_storage_takes_no_upload_and_can_be_deleted_with_every_acknowledged_file_still_served()
    {
        var ct = Timeouts.Test(180);
        // Two members on two addresses: a file name says which one is its source.
        await using var cluster = await TestCluster.StartAsync(2, configureStorage: (i, c) => c with { BindAddr = $"127.0.0.{i + 2}" }, ct: ct, http: true);
        await using var client = cluster.CreateClient();
        string tracker = cluster.TrackerAddress;
        const string Drained = "127.0.0.2", Peer = "127.0.0.3";

        // drain then undrain: nothing is left of it. Draining the last member that takes uploads says so.
        Assert.DoesNotContain("warning", (await MonitorAsync(["drain", "group1", Drained], tracker, ct)).Output);
        Assert.Contains("warning: no member of group1 takes uploads now", (await MonitorAsync(["drain", "group1", Peer], tracker, ct)).Output);
        var (exit, output, error) = await MonitorAsync(["undrain", "group1", Drained], tracker, ct);
        Assert.True(exit == 0, error + output);
        Assert.Equal(0, (await MonitorAsync(["undrain", "group1", Peer], tracker, ct)).Exit);
        Assert.Empty((await client.Tracker.GetSyncStatusAsync("group1", ct)).Draining);

        var acknowledged = new ConcurrentDictionary<FileId, (byte[] Content, long Started)>();
        using var stopLoad = new CancellationTokenSource();
        int key = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                byte[] content = BitConverter.GetBytes(Interlocked.Increment(ref key));
                long started = Stopwatch.GetTimestamp();
                var id = await client.UploadAsync(content, "bin", ct: ct);
                acknowledged[id] = (content, started);
            }
        })));

        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Keys.Any(id => FastDfsClient.DecodeName(id).Source == Drained)),
            TimeSpan.FromSeconds(30), "uploads on both members", ct);

        // An appender file whose source is the storage to drain: its changes must still reach it while it drains.
        FileId appender;
        do
        {
            await using var first = new MemoryStream("head"u8.ToArray());
            appender = await client.UploadAppenderAsync(first, 4, "log", ct: ct);
        }
        while (FastDfsClient.DecodeName(appender).Source != Drained);
        (exit, output, error) = await MonitorAsync(["drain", "group1", Drained], tracker, ct);
        long drainSet = Stopwatch.GetTimestamp();
        Assert.True(exit == 0, error + output);
        Assert.Contains($"drain storage server group1::{Drained} success", output);
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await stopLoad.CancelAsync();
        await load;

        // While it drains, the files it is the source of still take changes and deletes (QUERY_UPDATE names it).
        await client.AppendAsync(appender, "-tail"u8.ToArray(), ct);
        Assert.Equal("head-tail"u8.ToArray(), await client.DownloadBytesAsync(appender, ct: ct));
        var doomed = acknowledged.Keys.First(id => FastDfsClient.DecodeName(id).Source == Drained);
        await client.DeleteAsync(doomed, ct);
        acknowledged.TryRemove(doomed, out _);
        acknowledged[appender] = ("head-tail"u8.ToArray(), 0);

        var afterDrain = acknowledged.Where(a => a.Value.Started > drainSet).Select(a => a.Key).ToList();
        Assert.True(afterDrain.Count > 20, $"{afterDrain.Count} uploads after the drain");
        Assert.All(afterDrain, id => Assert.Equal(Peer, FastDfsClient.DecodeName(id).Source));

        // --wait returns once the peer has every file the drained storage is the source of.
        (exit, output, error) = await MonitorAsync(["drain", "group1", Drained, "--wait"], tracker, ct);
        Assert.True(exit == 0, error + output);
        Assert.Contains($"drained: every file {Drained} holds is on every other ACTIVE member (compared file by file)", output);
        (_, output, _) = await MonitorAsync([], tracker, ct);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, "draining = since .*, complete"), output);
        (_, output, _) = await MonitorAsync(["--json"], tracker, ct);
        var listed = JsonDocument.Parse(output).RootElement.GetProperty("groups")[0].GetProperty("storages").EnumerateArray().ToList();
        Assert.True(listed.Single(s => s.GetProperty("ipAddr").GetString() == Drained).GetProperty("draining").GetProperty("complete").GetBoolean());
        Assert.Equal(JsonValueKind.Null, listed.Single(s => s.GetProperty("ipAddr").GetString() == Peer).GetProperty("draining").ValueKind);
        using (var http = new HttpClient())
        {
            using var snapshot = JsonDocument.Parse(await http.GetStringAsync(new Uri(cluster.TrackerHttp, "/api/cluster"), ct));
            var storages = snapshot.RootElement.GetProperty("groups")[0].GetProperty("storages").EnumerateArray().ToList();
            Assert.StartsWith("drained", storages.Single(s => s.GetProperty("ip").GetString() == Drained).GetProperty("drain").GetString());
            Assert.Equal(JsonValueKind.Null, storages.Single(s => s.GetProperty("ip").GetString() == Peer).GetProperty("drain").ValueKind);
        }

        // Stopped and deleted: every acknowledged byte is served by the peer.
        await cluster.Storages[0].StopAsync(ct);
        await Eventually.TrueAsync(async () => (await MonitorAsync(["delete", "group1", Drained], tracker, ct)).Exit == 0,
            TimeSpan.FromSeconds(60), "the drained storage to be deleted", ct);
        foreach (var (id, (content, _)) in acknowledged)
        {
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        }
    }

    private static async Task<(int Exit, string Output, string Error)> MonitorAsync(string[] args, string tracker, CancellationToken ct)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Cli.CliApp.InvokeAsync(["monitor", .. args, "--tracker", tracker], output, error, ct);
        return (exit, output.ToString(), error.ToString());
    }
}
