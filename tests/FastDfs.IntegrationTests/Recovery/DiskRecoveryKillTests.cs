using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// A storage in its own process (<c>fdfs storage storage.conf</c>, a stock-format conf) restarted after one of its two
/// disks was replaced, killed with SIGKILL twice while it recovers that disk, and started again: it finishes the
/// recovery, every acknowledged file of the disk is back byte-identical, and it ends ACTIVE.
/// </summary>
public sealed class DiskRecoveryKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string ChildAddress = "127.0.0.5";

    private static readonly ConcurrentQueue<string> ChildOutput = new();

    private static Process StartStorageProcess(string conf)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fdfs.dll"));
        psi.ArgumentList.Add("storage");
        psi.ArgumentList.Add(conf);
        var process = Process.Start(psi)!;
        void Keep(string? line)
        {
            if (line is not null)
            {
                ChildOutput.Enqueue(line);
                while (ChildOutput.Count > 300 && ChildOutput.TryDequeue(out _))
                {
                }
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task KillAsync(Process child, CancellationToken ct)
    {
        child.Kill(entireProcessTree: true); // SIGKILL: no mark written on the way out
        await child.WaitForExitAsync(ct);
        child.Dispose();
    }

    private static Task WriteConfAsync(string conf, string basePath, int port, int trackerPort, string rate, CancellationToken ct) =>
        File.WriteAllTextAsync(conf, $"""
            # stock-format storage.conf, two disks
            group_name = group1
            bind_addr = {ChildAddress}
            port = {port}
            base_path = {basePath}
            store_path_count = 2
            store_path0 = {Path.Combine(basePath, "disk0")}
            store_path1 = {Path.Combine(basePath, "disk1")}
            subdir_count_per_path = 4
            tracker_server = 127.0.0.1:{trackerPort}
            heart_beat_interval = 1
            stat_report_interval = 1
            sync_wait_msec = 20
            write_mark_file_freq = 50
            disk_recovery_threads = 2
            disk_recovery_rate = {rate}
            log_level = info
            http.server_port = 0
            """, ct);

    [Fact]
    public async Task A_storage_killed_twice_while_it_recovers_a_replaced_disk_finishes_the_recovery()
    {
        var ct = Timeouts.Test(240);
        ChildOutput.Clear();
        // Every member of a group has the same store paths: the in-process peer has two disks as well.
        await using var cluster = await ReplicationCluster.StartAsync(1, ct, (_, c) => DiskRecoveryTests.TwoDisks(c));
        await using var client = cluster.CreateClient();
        string basePath = Path.Combine(cluster.Root, "child");
        string conf = Path.Combine(cluster.Root, "child.conf");
        int port = FreePorts.On(ChildAddress);
        await WriteConfAsync(conf, basePath, port, cluster.Tracker.EndPoint.Port, "0", ct);
        var child = StartStorageProcess(conf);
        try
        {
            await cluster.WaitForActiveAsync(2, ct);
            var files = new Dictionary<FileId, byte[]>();
            for (int i = 0; i < 120; i++)
            {
                var content = ReplicationCluster.RandomBytes(2000 + (i * 997 % 60_000), i + 900);
                files[await client.UploadAsync(content, "bin", ct: ct)] = content;
            }

            var childEndpoint = new StorageEndpoint(ChildAddress, port);
            var onDisk1 = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
            Assert.True(onDisk1.Count >= 20, $"{onDisk1.Count} files on M01");
            await Eventually.TrueAsync(async () =>
            {
                foreach (var id in onDisk1)
                {
                    try
                    {
                        await client.GetStorage(childEndpoint).DownloadAsync(id, Stream.Null, ct: ct);
                    }
                    catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(60), "the child to hold every file", ct);
            // And the peer too: a file whose only copy was on the destroyed disk could not come back from anywhere.
            await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, TimeSpan.FromSeconds(60));

            // The disk is replaced while the storage is down; it recovers slowly (16 KB/s) and is killed twice.
            await KillAsync(child, ct);
            string disk1 = Path.Combine(basePath, "disk1");
            Directory.Delete(disk1, recursive: true);
            await WriteConfAsync(conf, basePath, port, cluster.Tracker.EndPoint.Port, "16KB", ct);
            for (int kill = 0; kill < 2; kill++)
            {
                child = StartStorageProcess(conf);
                await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(Path.Combine(disk1, "data")) &&
                        Directory.EnumerateFiles(Path.Combine(disk1, "data"), ".recovery.mark.*").Any()),
                    TimeSpan.FromSeconds(60), "the recovery under way", ct);
                await Task.Delay(1500, ct);
                await KillAsync(child, ct);
                Assert.True(File.Exists(Path.Combine(disk1, "data", ".recovery.flag")), "the recovery ended before the kill");
            }

            await WriteConfAsync(conf, basePath, port, cluster.Tracker.EndPoint.Port, "0", ct);
            child = StartStorageProcess(conf);
            await cluster.WaitForActiveAsync(2, ct);
            foreach (var id in onDisk1)
            {
                Assert.Equal(files[id], await File.ReadAllBytesAsync(Path.Combine(disk1, "data", id.LogicName[4..]), ct));
            }

            Assert.Empty(Directory.EnumerateFiles(Path.Combine(disk1, "data"), "*recovery*", SearchOption.AllDirectories));
            // The child serves the recovered files to clients, and both members serve everything.
            foreach (var id in onDisk1.Take(10))
            {
                var copy = new MemoryStream();
                await client.GetStorage(childEndpoint).DownloadAsync(id, copy, ct: ct);
                Assert.Equal(files[id], copy.ToArray());
            }

            await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        }
        catch
        {
            output.WriteLine(string.Join("\n", ChildOutput));
            throw;
        }
        finally
        {
            try
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already killed and disposed.
            }
        }
    }
}
