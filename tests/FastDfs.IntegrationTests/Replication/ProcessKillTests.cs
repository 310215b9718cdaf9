using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>
/// A storage run as its own process (<c>fdfs storage storage.conf</c>, a stock-format conf file) is killed
/// with SIGKILL during uploads, restarted on the same data, and catches up: nothing lost, nothing corrupt.
/// </summary>
public sealed class ProcessKillTests
{
    private const string ChildAddress = "127.0.0.4";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Parse(ChildAddress), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The child's last output lines, shown when the test fails.</summary>
    private static readonly ConcurrentQueue<string> ChildOutput = new();

    private static void KeepChildLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        ChildOutput.Enqueue(line);
        while (ChildOutput.Count > 200 && ChildOutput.TryDequeue(out _))
        {
        }
    }

    private static Process StartStorageProcess(string conf)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fdfs.dll"));
        psi.ArgumentList.Add("storage");
        psi.ArgumentList.Add(conf);
        var process = Process.Start(psi)!;
        // Drain the output so a chatty child never blocks on a full pipe; the tail explains a failure.
        process.OutputDataReceived += (_, e) => KeepChildLine(e.Data);
        process.ErrorDataReceived += (_, e) => KeepChildLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>What each in-process member knows of its peers and where its sync workers stand, then the child's log.</summary>
    private static string Diagnostics(TestCluster cluster, Process child)
    {
        var state = string.Join("\n", cluster.Storages.Select(s =>
            $"{s.EndPoint}: group {string.Join(", ", s.Context.Group.Servers.Select(b => $"{b.Id}={b.Status}"))}\n  " +
            string.Join("\n  ", s.Context.Replication.Workers.Select(w => w.Describe()))));
        string exited = child.HasExited ? $"exited with {child.ExitCode}" : "running";
        return $"{state}\nchild process {exited}, output:\n{string.Join("\n", ChildOutput)}";
    }

    private static async Task<(string Conf, string BasePath, int Port)> WriteChildConfAsync(TestCluster cluster, CancellationToken ct)
    {
        string basePath = Path.Combine(cluster.Root, "child-storage");
        Directory.CreateDirectory(basePath);
        int port = FreePort();
        string conf = Path.Combine(cluster.Root, "storage.conf");
        await File.WriteAllTextAsync(conf, $"""
            # stock-format storage.conf for a storage in its own process
            group_name = group1
            bind_addr = {ChildAddress}
            port = {port}
            base_path = {basePath}
            store_path_count = 1
            store_path0 = {basePath}
            subdir_count_per_path = 4
            tracker_server = 127.0.0.1:{cluster.Tracker.EndPoint.Port}
            heart_beat_interval = 1
            stat_report_interval = 1
            sync_wait_msec = 20
            write_mark_file_freq = 50
            log_level = info
            http.server_port = 0
            """, ct);
        return (conf, basePath, port);
    }

    private static async Task KillAsync(Process child, CancellationToken ct)
    {
        child.Kill(entireProcessTree: true); // SIGKILL: no flush, no mark write, nothing
        await child.WaitForExitAsync(ct);
        child.Dispose();
    }

    /// <summary>
    /// After catch-up: every member ACTIVE as `fdfs monitor` lists them, every member serving every acknowledged
    /// file byte-identical, and no temp, half-written or corrupt file in the killed storage's data directory.
    /// </summary>
    private static async Task AssertCaughtUpAsync(TestCluster cluster, FastDfsClient client, Func<Process> child, int port, string basePath,
        IReadOnlyDictionary<FileId, byte[]> files, CancellationToken ct)
    {
        try
        {
            await cluster.WaitForActiveAsync(3, ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Diagnostics(cluster, child())}", e);
        }

        var endpoints = cluster.Storages.Select(s => new StorageEndpoint(s.EndPoint.Address.ToString(), s.EndPoint.Port))
            .Append(new StorageEndpoint(ChildAddress, port)).ToList();
        var pending = endpoints.SelectMany(e => files.Keys.Select(id => (e, id))).ToHashSet();
        string Pending() => string.Join(", ", pending.GroupBy(p => p.e).Select(g =>
            $"{g.Key}: {g.Count()} missing, e.g. {g.First().id}"));
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                foreach (var (endpoint, id) in pending.ToList())
                {
                    var buffer = new MemoryStream();
                    try
                    {
                        await client.GetStorage(endpoint).DownloadAsync(id, buffer, ct: ct);
                    }
                    catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
                    {
                        continue;
                    }

                    Assert.Equal(files[id], buffer.ToArray()); // present means complete and identical
                    pending.Remove((endpoint, id));
                }

                return pending.Count == 0;
            }, TimeSpan.FromSeconds(40), "every member to serve every acknowledged file", ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}: {Pending()}\n{Diagnostics(cluster, child())}", e);
        }

        // What `fdfs monitor` shows: all three ACTIVE, the restarted one included, and nothing stuck.
        var listed = await client.ListStoragesAsync("group1", ct: ct);
        Assert.Equal(3, listed.Count);
        Assert.All(listed, s => Assert.Equal(StorageStatus.Active, s.Status));
        var sync = await client.Tracker.GetSyncStatusAsync("group1", ct);
        Assert.Empty(sync.Reasons);

        // Every regular file in the killed storage's data directory is either a replica whose name matches its
        // size and CRC, or metadata/bookkeeping; no replica temp file is left.
        foreach (string path in Directory.EnumerateFiles(Path.Combine(basePath, "data"), "*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(path);
            Assert.False(name.StartsWith(".cp", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal),
                $"replica temp file left: {path}");
            if (name.Length == 34 && FileNameCodec.TryDecode($"M00/00/00/{name}", out var info) && !info.IsAppender)
            {
                byte[] bytes = await File.ReadAllBytesAsync(path, ct);
                Assert.Equal(info.FileSize, bytes.Length);
                Assert.Equal(info.Crc32, Crc32.HashToUInt32(bytes));
            }
        }
    }

    /// <summary>
    /// A new member is killed while its sync source pushes it the group's files (SYNCING), restarted, killed
    /// again right after it re-joined, and restarted once more, with uploads going on: it ends ACTIVE with a full copy.
    /// </summary>
    [Fact]
    public async Task NewStorageKilledTwiceDuringItsInitialCopyCatchesUp()
    {
        var ct = Timeouts.Test(60);
        ChildOutput.Clear();
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 150; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i + 5000);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        var (conf, basePath, port) = await WriteChildConfAsync(cluster, ct);
        var child = StartStorageProcess(conf);
        try
        {
            // Kill it once the copy has begun: some replicas are in place, not all.
            string data = Path.Combine(basePath, "data");
            await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(data) &&
                Directory.EnumerateFiles(data, "*.bin", SearchOption.AllDirectories).Any()), TimeSpan.FromSeconds(30), "the first replica on the new storage", ct);
            await KillAsync(child, ct);
            Assert.NotEqual(StorageStatus.Active, (await client.ListStoragesAsync("group1", ct: ct)).Single(s => s.IpAddr == ChildAddress).Status);

            child = StartStorageProcess(conf);
            for (int i = 150; i < 170; i++)
            {
                var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i + 5000);
                files[await client.UploadAsync(content, "bin", ct: ct)] = content;
            }

            // Killed again as soon as the tracker has it back (re-joined).
            await Eventually.TrueAsync(async () => (await client.ListStoragesAsync("group1", ct: ct))
                .Single(s => s.IpAddr == ChildAddress).UpTime > 0, TimeSpan.FromSeconds(30), "the new storage re-joined", ct);
            await KillAsync(child, ct);
            child = StartStorageProcess(conf);
            for (int i = 170; i < 200; i++)
            {
                var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i + 5000);
                try
                {
                    files[await client.UploadAsync(content, "bin", ct: ct)] = content;
                }
                catch (FastDfsException)
                {
                    // Sent to the storage while it was starting: not acknowledged.
                }
            }

            await AssertCaughtUpAsync(cluster, client, () => child, port, basePath, files, ct);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }

            child.Dispose();
        }
    }

    [Fact]
    public async Task StorageKilledWithSigkillDuringUploadsCatchesUpAfterRestart()
    {
        var ct = Timeouts.Test(60);
        ChildOutput.Clear();
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        var (conf, basePath, port) = await WriteChildConfAsync(cluster, ct);
        var child = StartStorageProcess(conf);
        try
        {
            await cluster.WaitForActiveAsync(3, ct);
            await using var client = cluster.CreateClient();
            var files = new Dictionary<FileId, byte[]>();
            for (int i = 0; i < 200; i++)
            {
                if (i == 70)
                {
                    await KillAsync(child, ct);
                }

                var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i + 1000);
                try
                {
                    files[await client.UploadAsync(content, "bin", ct: ct)] = content;
                }
                catch (FastDfsException)
                {
                    // An upload that hit the dying process was not acknowledged.
                }
            }

            Assert.True(files.Count >= 190, $"only {files.Count} of 200 uploads acknowledged");
            child = StartStorageProcess(conf);
            await AssertCaughtUpAsync(cluster, client, () => child, port, basePath, files, ct);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }

            child.Dispose();
        }
    }

    /// <summary>
    /// Appender files changed in place (append, modify, truncate) while a peer process is killed with SIGKILL, twice, the
    /// second time in the middle of catching up: `fdfs check` finds every member byte-identical afterwards.
    /// </summary>
    [Fact]
    public async Task AppenderChangesConvergeWhenThePeerProcessIsKilledMidSync()
    {
        var ct = Timeouts.Test(120);
        ChildOutput.Clear();
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        var (conf, basePath, port) = await WriteChildConfAsync(cluster, ct);
        var child = StartStorageProcess(conf);
        try
        {
            await cluster.WaitForActiveAsync(3, ct);
            await using var client = cluster.CreateClient();
            var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
            var random = new Random(7);
            var logs = new List<FileId>();
            for (int i = 0; i < 4; i++)
            {
                logs.Add(await source.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(100, i)), 100, "log", ct: ct));
            }

            async Task ChangeAsync(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    var log = logs[random.Next(logs.Count)];
                    long size = (await source.QueryFileInfoAsync(log, skipCrc: true, ct)).FileSize;
                    switch (random.Next(3))
                    {
                        case 0:
                            var chunk = ReplicationCluster.RandomBytes(random.Next(1, 50_000), i);
                            await source.AppendAsync(log, new MemoryStream(chunk), chunk.Length, ct);
                            break;
                        case 1:
                            var patch = ReplicationCluster.RandomBytes(random.Next(1, 5000), i);
                            await source.ModifyAsync(log, random.NextInt64(0, size + 1), new MemoryStream(patch), patch.Length, ct);
                            break;
                        default:
                            await source.TruncateAsync(log, random.NextInt64(0, size + 1), ct);
                            break;
                    }
                }
            }

            await KillAsync(child, ct);
            await ChangeAsync(150);
            child = StartStorageProcess(conf);
            // Killed again in the middle of catching up: it holds the first file, not yet every change.
            await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(Path.Combine(basePath, "data")) &&
                Directory.EnumerateFiles(Path.Combine(basePath, "data"), "*.log", SearchOption.AllDirectories).Any()),
                TimeSpan.FromSeconds(30), "the peer catching up", ct);
            await KillAsync(child, ct);
            await ChangeAsync(50);
            child = StartStorageProcess(conf);
            await cluster.WaitForActiveAsync(3, ct);

            var output = new StringWriter();
            var error = new StringWriter();
            int exit = -1;
            await Eventually.TrueAsync(async () =>
            {
                output = new StringWriter();
                exit = await FastDfs.Cli.CliApp.InvokeAsync(["check", "group1", "--tracker", cluster.TrackerAddress], output, error, ct);
                return exit == 0;
            }, TimeSpan.FromSeconds(60), "fdfs check to find the three members identical", ct);
            Assert.Contains("comparing 3 members", output.ToString(), StringComparison.Ordinal);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Diagnostics(cluster, child)}", e);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }

            child.Dispose();
        }
    }
}
