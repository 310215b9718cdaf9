using System.Diagnostics;
using System.Text;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The README's deployment build: <c>dotnet publish -c Release src/FastDfs.Cli</c> gives one Native AOT executable
/// (docs/benchmarks.md, "Server memory") that runs the daemons, their HTTP ports and the client commands.
/// </summary>
public sealed class NativeAotPublishTests
{
    [Fact]
    public async Task Published_native_executable_runs_a_cluster_that_serves_clients()
    {
        string root = Path.Combine(Path.GetTempPath(), "fdfs-aot-" + Guid.NewGuid().ToString("N")[..12]);
        string output = Path.Combine(root, "out");
        Process? server = null;
        var serverLog = new StringBuilder();
        try
        {
            // As the README says, into a folder of its own (build files outside the source tree).
            var (exit, log) = await ProcessRunner.RunAsync("dotnet",
                ["publish", "-c", "Release", Path.Combine(RepoPaths.Root, "src", "FastDfs.Cli"), "-o", output,
                 "--artifacts-path", Path.Combine(root, "artifacts"), "-nodeReuse:false", "-nologo"],
                TimeSpan.FromMinutes(12));
            Assert.True(exit == 0, "dotnet publish failed:\n" + log);

            string fdfs = Path.Combine(output, "fdfs");
            byte[] head = new byte[4];
            await using (var file = File.OpenRead(fdfs))
            {
                await file.ReadExactlyAsync(head);
            }

            Assert.Equal("\x7F" + "ELF", Encoding.ASCII.GetString(head));
            Assert.False(File.Exists(Path.Combine(output, "fdfs.dll")), "a native executable, not an IL assembly with a host");

            var (versionExit, version) = await ProcessRunner.RunAsync(fdfs, ["--version"], TimeSpan.FromSeconds(30));
            Assert.Equal(0, versionExit);
            Assert.Matches(@"^\d+\.\d+\.\d+", version.Trim());

            int trackerPort = FreePorts.On(), storagePort = FreePorts.On(), trackerHttpPort = FreePorts.On(), storageHttpPort = FreePorts.On();
            var start = new ProcessStartInfo(fdfs,
                ["server", "--data", Path.Combine(root, "data"), "--tracker-port", $"{trackerPort}", "--storage-port", $"{storagePort}",
                 "--tracker-http-port", $"{trackerHttpPort}", "--storage-http-port", $"{storageHttpPort}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            server = Process.Start(start)!;
            server.OutputDataReceived += (_, e) => { lock (serverLog) { serverLog.AppendLine(e.Data); } };
            server.ErrorDataReceived += (_, e) => { lock (serverLog) { serverLog.AppendLine(e.Data); } };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();

            await using var client = new FastDfsClient(FastDfsClientOptions.ForTrackers($"127.0.0.1:{trackerPort}"));
            var content = new byte[300_000];
            new Random(17).NextBytes(content);
            FileId? id = null;
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(server.HasExited, "the published fdfs server exited: " + serverLog);
                try
                {
                    id = await client.UploadAsync(content, "bin");
                    return true;
                }
                catch (FastDfsException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "an upload to the published server", CancellationToken.None);

            Assert.Equal(content, await client.DownloadBytesAsync(id!.Value));

            // The client commands of the same executable, and the HTTP ports (Kestrel, the dashboard's JSON).
            string downloaded = Path.Combine(root, "downloaded.bin");
            var (downloadExit, downloadLog) = await ProcessRunner.RunAsync(fdfs,
                ["download", "--tracker", $"127.0.0.1:{trackerPort}", id.Value.ToString(), downloaded], TimeSpan.FromSeconds(60));
            Assert.True(downloadExit == 0, "fdfs download: " + downloadLog);
            Assert.Equal(content, await File.ReadAllBytesAsync(downloaded));

            // --json is written by a source-generated serializer context: the native executable has no reflection-based one.
            var (infoExit, infoJson) = await ProcessRunner.RunAsync(fdfs,
                ["info", id.Value.ToString(), "--json", "--tracker", $"127.0.0.1:{trackerPort}"], TimeSpan.FromSeconds(60));
            Assert.True(infoExit == 0, "fdfs info --json: " + infoJson);
            using (var info = System.Text.Json.JsonDocument.Parse(infoJson))
            {
                Assert.Equal(content.Length, info.RootElement.GetProperty("size").GetInt64());
                Assert.Equal("normal", info.RootElement.GetProperty("type").GetString());
            }

            var (monitorExit, monitorJson) = await ProcessRunner.RunAsync(fdfs,
                ["monitor", "--json", "--tracker", $"127.0.0.1:{trackerPort}"], TimeSpan.FromSeconds(60));
            Assert.True(monitorExit == 0, "fdfs monitor --json: " + monitorJson);
            using (var monitor = System.Text.Json.JsonDocument.Parse(monitorJson))
            {
                var storage = monitor.RootElement.GetProperty("groups")[0].GetProperty("storages")[0];
                Assert.Equal(storagePort, storage.GetProperty("port").GetInt32());
                Assert.True(storage.GetProperty("counters").GetProperty("successUploadCount").GetInt64() >= 0);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(content, await http.GetByteArrayAsync($"http://127.0.0.1:{trackerHttpPort}/{id}"));
            string cluster = await http.GetStringAsync($"http://127.0.0.1:{trackerHttpPort}/api/cluster");
            Assert.Contains("\"groups\"", cluster);
            Assert.Contains($"{storagePort}", cluster);

            // At the default log_level (info) the log is the servers' own lines, not ASP.NET Core's line per HTTP request.
            lock (serverLog)
            {
                Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", serverLog.ToString());
                Assert.Contains("storage", serverLog.ToString());
            }
        }
        finally
        {
            if (server is not null)
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                }

                await server.WaitForExitAsync();
                server.Dispose();
            }

            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
