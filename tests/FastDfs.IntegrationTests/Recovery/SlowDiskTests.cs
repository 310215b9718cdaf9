using System.Diagnostics;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// A disk that stops answering (fdfs#387: a stat taking seconds) holds up only the requests for its own store path: the
/// other path keeps serving at once, the path is reported slow so the tracker sends its readers to the peer, and it
/// comes back when the disk answers again.
/// </summary>
public sealed class SlowDiskTests
{
    /// <summary>Replaces a stored file by a named pipe: opening it for reading waits until a writer comes, like a hanging disk.</summary>
    private static void HangOnOpen(string path)
    {
        File.Delete(path);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>
    /// The "disk" answers: each pipe is opened for reading and writing (which never waits), so the opens waiting on it
    /// return, and the stored file is put back in its place for the requests that come after.
    /// </summary>
    private static void Answer(IReadOnlyList<string> pipes, IReadOnlyList<byte[]> contents)
    {
        var writers = pipes.Select(p => File.OpenHandle(p, FileMode.Open, FileAccess.ReadWrite)).ToList();
        for (int i = 0; i < pipes.Count; i++)
        {
            File.Delete(pipes[i]);
            File.WriteAllBytes(pipes[i], contents[i]);
        }

        Thread.Sleep(200);
        writers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task A_hanging_disk_holds_up_only_its_own_paths_requests_and_its_readers_go_to_the_peer_meanwhile()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(2, t => t,
            (i, c) => DiskRecoveryTests.TwoDisks(ReplicationCluster.Configure(i, c)) with { DiskSlowThreshold = 1 }, ct, http: true);
        await using var client = cluster.CreateClient();
        var slow = cluster.Storages[0];
        var direct = ReplicationCluster.Direct(client, slow);
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 60; i++)
        {
            // All on the storage whose disk will hang (their source: the tracker offers it for them while it serves).
            var content = ReplicationCluster.RandomBytes(2000 + i * 41, i + 1300);
            files[await direct.UploadAsync(new MemoryStream(content), content.Length, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        var onDisk1 = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
        var onDisk0 = files.Keys.Where(id => id.LogicName.StartsWith("M00/", StringComparison.Ordinal)).ToList();
        Assert.True(onDisk1.Count >= 4 && onDisk0.Count >= 4, $"{onDisk0.Count} files on M00, {onDisk1.Count} on M01");

        string data1 = Path.Combine(cluster.StorageConfigs[0].StorePaths[1].Path, "data");
        string ip = slow.EndPoint.Address.ToString();
        int port = slow.EndPoint.Port;
        async Task<bool> OffersSlowAsync(FileId id) => (await client.Tracker.QueryFetchAllAsync(id, ct)).Any(e => e.Ip == ip && e.Port == port);
        // Until the disk hangs, the tracker offers this storage for the files of both paths (once it knows they are synced).
        await Eventually.TrueAsync(async () => await OffersSlowAsync(onDisk1[^1]) && await OffersSlowAsync(onDisk0[0]), TimeSpan.FromSeconds(20),
            "the tracker offering the storage", ct);
        var hanging = onDisk1.Take(4).ToList();
        var pipes = hanging.Select(id => Path.Combine(data1, id.LogicName[4..])).ToList();
        pipes.ForEach(HangOnOpen);
        bool answered = false;
        List<Task> stuck = [];
        try
        {
            // The disk starts hanging under a first few readers; once one has waited 0.2 s its requests are isolated. Then more
            // readers than the storage has threads for sockets, or for one disk.
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Task Reader(int i) => Task.Run(async () =>
            {
                await using var reader = new FastDfsClient(FastDfsClientOptions.ForTrackers(cluster.TrackerAddress));
                try
                {
                    await ReplicationCluster.Direct(reader, slow).DownloadAsync(hanging[i % hanging.Count], Stream.Null, ct: abandon.Token);
                }
                catch (Exception e) when (e is FastDfsException or OperationCanceledException or IOException)
                {
                    // Whatever the pipe gives once it is answered: these readers only hold the disk.
                }
            }, CancellationToken.None);
            stuck = [.. Enumerable.Range(0, 2).Select(Reader)];
            Assert.False(slow.Context.Paths[1].Gate.Isolates);
            await Eventually.TrueAsync(() => Task.FromResult(slow.Context.Paths[1].Gate.Isolates), TimeSpan.FromSeconds(5), "the hanging disk isolated", ct);
            Assert.False(slow.Context.Paths[0].Gate.Isolates);
            stuck.AddRange(Enumerable.Range(2, 100).Select(Reader));
            await Task.Delay(1000, ct);
            // Isolated: only a bounded number wait inside that disk (holding a thread each); the rest wait for a turn.
            var gate = slow.Context.Paths[1].Gate;
            Assert.InRange(gate.Inside, 1, gate.Limit + 2);

            // The other path answers at once, on new connections and on an open one.
            var started = Stopwatch.StartNew();
            foreach (var id in onDisk0)
            {
                var buffer = new MemoryStream();
                await direct.DownloadAsync(id, buffer, ct: ct);
                Assert.Equal(files[id], buffer.ToArray());
                Assert.Equal(files[id].Length, (await direct.QueryFileInfoAsync(id, ct: ct)).FileSize);
            }

            var whileHanging = started.Elapsed;
            Assert.True(whileHanging < TimeSpan.FromSeconds(3), $"{onDisk0.Count} downloads and file infos of the other path took {whileHanging}");
            await using (var newcomer = cluster.CreateClient())
            {
                Assert.Equal(files[onDisk0[0]], await ReplicationCluster.TryDownloadAsync(newcomer, slow, onDisk0[0], ct));
            }

            // The path is reported slow: the tracker sends readers of its files to the peer, which has them.
            await Eventually.TrueAsync(async () => !await OffersSlowAsync(onDisk1[^1]), TimeSpan.FromSeconds(10), "the tracker to stop offering the slow path", ct);
            Assert.True(slow.Context.Paths[1].Slow);
            Assert.True(await OffersSlowAsync(onDisk0[0]));
            // Its HTTP port does not ask the slow disk either: it sends the reader to the other member (which has the file).
            using (var http = new HttpClient { BaseAddress = new Uri($"http://{slow.HttpEndPoint}"), Timeout = TimeSpan.FromSeconds(5) })
            {
                Assert.Equal(files[hanging[0]], await http.GetByteArrayAsync("/group1/" + hanging[0].LogicName, ct));
                Assert.Equal(files[onDisk0[0]], await http.GetByteArrayAsync("/group1/" + onDisk0[0].LogicName, ct));
            }

            foreach (var id in hanging)
            {
                Assert.Equal(files[id], await client.DownloadBytesAsync(id, ct: ct));
            }

            // Uploads avoid it, also those that ask for it.
            for (int i = 0; i < 3; i++)
            {
                var upload = await direct.UploadAsync(new MemoryStream("fresh"u8.ToArray()), 5, "txt", storePathIndex: 1, ct: ct);
                Assert.StartsWith("M00/", upload.LogicName);
            }

            // The disk answers again: the held requests come out and the path is back in service.
            Answer(pipes, [.. hanging.Select(id => files[id])]);
            answered = true;
            await Task.WhenAll(stuck).WaitAsync(TimeSpan.FromSeconds(30), ct);
            await Eventually.TrueAsync(() => OffersSlowAsync(onDisk1[^1]), TimeSpan.FromSeconds(20), "the path back in service", ct);
            Assert.False(slow.Context.Paths[1].Slow);
        }
        finally
        {
            if (!answered)
            {
                Answer(pipes, [.. hanging.Select(id => files[id])]);
            }
        }
    }
}
