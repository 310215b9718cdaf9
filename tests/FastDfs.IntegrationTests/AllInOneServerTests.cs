using System.Net;
using System.Net.Sockets;
using FastDfs.Cli;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests;

/// <summary><c>fdfs server</c>, the README's first command, started as a user would (ports made free for the test).</summary>
public sealed class AllInOneServerTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task ServerCommandStartsATrackerAndAStorageThatServeClients()
    {
        string data = Path.Combine(Path.GetTempPath(), "fdfs-aio-" + Guid.NewGuid().ToString("N")[..12]);
        int trackerPort = FreePort();
        int storagePort = FreePort();
        int trackerHttpPort = FreePort();
        int storageHttpPort = FreePort();
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
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await server);
            Directory.Delete(data, recursive: true);
        }
    }
}
