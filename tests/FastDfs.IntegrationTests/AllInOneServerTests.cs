using System.Net;
using System.Net.Sockets;
using FastDfs.Cli;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary><c>fdfs server</c>, the README's first command, started as a user would (ports made free for the test).</summary>
public sealed class AllInOneServerTests
{
    [Fact]
    public async Task ServerCommandStartsATrackerAndAStorageThatServeClients()
    {
        string data = Path.Combine(Path.GetTempPath(), "fdfs-aio-" + Guid.NewGuid().ToString("N")[..12]);
        int trackerPort = FreePorts.On();
        int storagePort = FreePorts.On();
        int trackerHttpPort = FreePorts.On();
        int storageHttpPort = FreePorts.On();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var output = new StringWriter();
        var server = CliApp.InvokeAsync(
            ["server", "--data", data, "--tracker-port", $"{trackerPort}", "--storage-port", $"{storagePort}",
             "--tracker-http-port", $"{trackerHttpPort}", "--storage-http-port", $"{storageHttpPort}"],
            output, new StringWriter(), stop.Token);
        try
        {
            await using var client = new FastDfsClient(FastDfsClientOptions.ForTrackers($"127.0.0.1:{trackerPort}"));
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(server.IsCompleted, "fdfs server exited: " + output);
                try
                {
                    var storages = await client.ListStoragesAsync("group1");
                    return storages.Any(s => s.Status == StorageStatus.Active && s.StoragePort == storagePort);
                }
                catch (FastDfsException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "the all-in-one storage to be ACTIVE", stop.Token);

            var id = await client.UploadAsync("all in one"u8.ToArray(), "txt");
            Assert.Equal("all in one"u8.ToArray(), await client.DownloadBytesAsync(id));
            Assert.True(Directory.Exists(Path.Combine(data, "storage", "data", "FF", "FF")), "256x256 sub-directories");

            // The README's URLs: the file through the storage and through the tracker (a redirect), the dashboard.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("all in one", await http.GetStringAsync($"http://127.0.0.1:{storageHttpPort}/{id}", stop.Token));
            Assert.Equal("all in one", await http.GetStringAsync($"http://127.0.0.1:{trackerHttpPort}/{id}", stop.Token));
            Assert.Contains("FastDFS.NET cluster", await http.GetStringAsync($"http://127.0.0.1:{trackerHttpPort}/", stop.Token));
            Assert.Contains($"dashboard http://127.0.0.1:{trackerHttpPort}/", output.ToString());

            // Stock's log files, one per role, written in the foreground too (flushed on stop).
            await stop.CancelAsync();
            Assert.Equal(0, await server);
            string trackerLog = await File.ReadAllTextAsync(Path.Combine(data, "tracker", "logs", "trackerd.log"));
            string storageLog = await File.ReadAllTextAsync(Path.Combine(data, "storage", "logs", "storaged.log"));
            Assert.Matches(@"(?m)^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO - tracker listening on ", trackerLog);
            Assert.Matches(@"(?m)^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO - storage group1 listening on ", storageLog);
            Assert.Contains("INFO - storage group1 stopped", storageLog);
            Assert.DoesNotContain("storage group1 listening", trackerLog); // each role its own file
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await server);
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ServerCommandWithTrunk_StoresSmallFilesInTrunkFiles()
    {
        string data = Path.Combine(Path.GetTempPath(), "fdfs-aio-" + Guid.NewGuid().ToString("N")[..12]);
        int trackerPort = FreePorts.On();
        int storagePort = FreePorts.On();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var output = new StringWriter();
        var server = CliApp.InvokeAsync(
            ["server", "--trunk", "--data", data, "--tracker-port", $"{trackerPort}", "--storage-port", $"{storagePort}",
             "--tracker-http-port", "0", "--storage-http-port", "0"],
            output, new StringWriter(), stop.Token);
        try
        {
            await using var client = new FastDfsClient(FastDfsClientOptions.ForTrackers($"127.0.0.1:{trackerPort}"));
            // Until the tracker has named the storage trunk server, small uploads are normal files; then trunk slots.
            FileId? trunkId = null;
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(server.IsCompleted, "fdfs server exited: " + output);
                try
                {
                    var id = await client.UploadAsync("small file in a trunk"u8.ToArray(), "txt");
                    trunkId = id.LogicName.Length == 60 ? id : null;
                    return trunkId is not null;
                }
                catch (FastDfsException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(120), "an upload stored in a trunk slot", stop.Token);

            Assert.True(FileNameCodec.Decode(trunkId!.Value.LogicName).IsTrunk);
            Assert.Equal("small file in a trunk"u8.ToArray(), await client.DownloadBytesAsync(trunkId.Value));
            Assert.Contains("trunk mode", output.ToString());
            Assert.True(File.Exists(Path.Combine(data, "storage", "data", "trunk", "binlog")));
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await server);
            Directory.Delete(data, recursive: true);
        }
    }
}
