using FastDfs.Cli;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Hosting;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>
/// Appender files changed in place (append, modify, truncate, regenerate) while a peer is down or is killed in the
/// middle of catching up: whatever the interleaving, every member ends with the source's bytes.
/// </summary>
public sealed class ConvergenceTests
{
    /// <summary>Waits until every member serves exactly what the source (storage 0) serves, for every file.</summary>
    internal static async Task AllIdenticalAsync(TestCluster cluster, FastDfsClient client, IEnumerable<FileId> ids, CancellationToken ct,
        int seconds = 30)
    {
        var list = ids.ToList();
        string last = "";
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                foreach (var id in list)
                {
                    var source = await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[0], id, ct);
                    for (int s = 1; s < cluster.Storages.Count; s++)
                    {
                        var replica = await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[s], id, ct);
                        bool same = source is null ? replica is null : replica is not null && replica.AsSpan().SequenceEqual(source);
                        if (!same)
                        {
                            last = $"{id}: source {source?.Length.ToString() ?? "none"} bytes, storage {s} {replica?.Length.ToString() ?? "none"} bytes";
                            return false;
                        }
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(seconds), "every member to hold the source's bytes", ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last difference: {last}", e);
        }
    }

    /// <summary><c>fdfs check group1</c> as a user runs it: every member compared file by file, CRC32 of every file.</summary>
    internal static async Task AssertCheckIsCleanAsync(TestCluster cluster, CancellationToken ct)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CliApp.InvokeAsync(["check", "group1", "--tracker", cluster.TrackerAddress], output, error, ct);
        Assert.True(exit == 0, $"fdfs check exit {exit}:\n{output}{error}");
        Assert.Contains(" 0 differences", output.ToString(), StringComparison.Ordinal);
    }

    private static async Task<StorageServer> RestartAsync(TestCluster cluster, int index, CancellationToken ct)
    {
        var restarted = await cluster.RestartStorageAsync(index, ct: ct);
        await cluster.WaitForActiveAsync(cluster.Storages.Count, ct);
        return restarted;
    }

    [Fact]
    public async Task AppendThenTruncateWhileThePeerIsDownConverges()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var empty = await source.UploadAppenderAsync(new MemoryStream(), 0, "log", ct: ct);
        var modified = await source.UploadAppenderAsync(new MemoryStream(), 0, "log", ct: ct);
        var grown = await source.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(10, 1)), 10, "log", ct: ct);
        await AllIdenticalAsync(cluster, client, [empty, modified, grown], ct);

        await cluster.Storages[1].KillAsync();
        await source.AppendAsync(empty, new MemoryStream(ReplicationCluster.RandomBytes(100, 2)), 100, ct);
        await source.TruncateAsync(empty, 40, ct);
        await source.ModifyAsync(modified, 0, new MemoryStream(ReplicationCluster.RandomBytes(100, 3)), 100, ct);
        await source.TruncateAsync(modified, 50, ct);
        await source.AppendAsync(grown, new MemoryStream(ReplicationCluster.RandomBytes(100, 4)), 100, ct);
        await source.TruncateAsync(grown, 5, ct);
        await source.TruncateAsync(grown, 30, ct); // grows again: zeros

        await RestartAsync(cluster, 1, ct);
        await AllIdenticalAsync(cluster, client, [empty, modified, grown], ct);
        Assert.Equal(40, (await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], empty, ct))!.Length);
        await AssertCheckIsCleanAsync(cluster, ct);
    }

    [Fact]
    public async Task AClientKilledMidAppendLeavesTheOldSizeOnEveryMember()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var original = ReplicationCluster.RandomBytes(1000, 1);
        var log = await source.UploadAppenderAsync(new MemoryStream(original), original.Length, "log", ct: ct);
        await AllIdenticalAsync(cluster, client, [log], ct);

        // A raw client sends the header and 600 KB of a 1 MB append (more than one 256 KB write), then dies.
        var request = new AppendFileRequest(log.LogicName, 1 << 20);
        var frame = new byte[ProtocolConstants.HeaderSize + request.HeaderSize + 600_000];
        new PacketHeader(request.HeaderSize + (1 << 20), FdfsCommand.AppendFile).WriteTo(frame);
        request.Write(frame.AsSpan(ProtocolConstants.HeaderSize));
        using (var socket = new System.Net.Sockets.TcpClient())
        {
            await socket.ConnectAsync(cluster.Storages[0].EndPoint, ct);
            await socket.GetStream().WriteAsync(frame, ct);
            await Task.Delay(300, ct);
            socket.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0); // RST
        }

        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[0], log, ct))!.Length == original.Length;
            }
            catch (FastDfsException e) when (e is FastDfsConnectionException || e.ErrorCode == Errno.EIO)
            {
                // The download began while the cut append's bytes were there and the rollback shrank the file under it:
                // the storage cannot complete that reply: it closes the connection, or answers EIO (the short read) when
                // the shrink came before the reply's first byte.
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the source back at its old size", ct);
        await source.AppendAsync(log, new MemoryStream("after"u8.ToArray()), 5, ct);
        byte[] expected = [.. original, .. "after"u8.ToArray()];
        foreach (var storage in cluster.Storages)
        {
            await Eventually.TrueAsync(async () => (await ReplicationCluster.TryDownloadAsync(client, storage, log, ct))!.AsSpan().SequenceEqual(expected),
                TimeSpan.FromSeconds(10), "every member with the old bytes and the next append", ct);
        }

        await AssertCheckIsCleanAsync(cluster, ct);
    }

    [Fact]
    public async Task RandomInterleavingsWithPeersGoingDownAndComingBackConverge()
    {
        var ct = Timeouts.Test(150);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var random = new Random(20261207);
        var files = new List<FileId>();
        var sizes = new Dictionary<FileId, long>();
        for (int i = 0; i < 6; i++)
        {
            int size = random.Next(0, 2000);
            var id = await source.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(size, i)), size, "dat", ct: ct);
            files.Add(id);
            sizes[id] = size;
        }

        var down = new HashSet<int>();
        for (int step = 0; step < 240; step++)
        {
            if (step % 40 == 10)
            {
                // A peer goes down (a crash) or comes back, in the middle of the stream of changes.
                int peer = 1 + random.Next(2);
                if (down.Remove(peer))
                {
                    await cluster.RestartStorageAsync(peer, ct: ct);
                }
                else
                {
                    await cluster.Storages[peer].KillAsync();
                    down.Add(peer);
                }
            }

            var id = files[random.Next(files.Count)];
            long size = sizes[id];
            switch (random.Next(3))
            {
                case 0:
                {
                    int length = random.Next(1, 3000);
                    await source.AppendAsync(id, new MemoryStream(ReplicationCluster.RandomBytes(length, step)), length, ct);
                    sizes[id] = size + length;
                    break;
                }

                case 1:
                {
                    long offset = size == 0 ? 0 : random.NextInt64(0, size + 1);
                    int length = random.Next(1, 3000);
                    await source.ModifyAsync(id, offset, new MemoryStream(ReplicationCluster.RandomBytes(length, step)), length, ct);
                    sizes[id] = Math.Max(size, offset + length);
                    break;
                }

                default:
                {
                    long newSize = random.NextInt64(0, size + 500);
                    await source.TruncateAsync(id, newSize, ct);
                    sizes[id] = newSize;
                    break;
                }
            }
        }

        // Two appender files become normal files after changes a downed peer never saw.
        foreach (int peer in new[] { 1, 2 }.Where(p => !down.Contains(p)))
        {
            await cluster.Storages[peer].KillAsync();
            down.Add(peer);
        }

        await source.AppendAsync(files[0], new MemoryStream(ReplicationCluster.RandomBytes(777, 1)), 777, ct);
        var renamed = await source.RegenerateAppenderFilenameAsync(files[0], ct);
        await source.TruncateAsync(files[1], 3, ct);
        var renamedToo = await source.RegenerateAppenderFilenameAsync(files[1], ct);
        files.AddRange([renamed, renamedToo]);
        foreach (int peer in down)
        {
            await cluster.RestartStorageAsync(peer, ct: ct);
        }

        await cluster.WaitForActiveAsync(3, ct);
        await AllIdenticalAsync(cluster, client, files, ct, seconds: 60);
        await AssertCheckIsCleanAsync(cluster, ct);
        foreach (var id in files.Skip(2).Take(4))
        {
            Assert.Equal(sizes[id], (await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[0], id, ct))!.Length);
        }
    }

    [Fact]
    public async Task APeerKilledWhileCatchingUpConverges()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var log = await source.UploadAppenderAsync(new MemoryStream(), 0, "log", ct: ct);
        var other = await source.UploadAppenderAsync(new MemoryStream(), 0, "log", ct: ct);
        await AllIdenticalAsync(cluster, client, [log, other], ct);

        await cluster.Storages[1].KillAsync();
        for (int i = 0; i < 300; i++)
        {
            var chunk = ReplicationCluster.RandomBytes(4000 + i, i);
            await source.AppendAsync(i % 3 == 0 ? other : log, new MemoryStream(chunk), chunk.Length, ct);
            if (i % 50 == 49)
            {
                await source.TruncateAsync(other, 1000 * (i / 50), ct);
            }
        }

        await cluster.RestartStorageAsync(1, ct: ct);
        // Killed again as soon as it holds part of the backlog.
        await Eventually.TrueAsync(async () => await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], log, ct) is { Length: > 0 },
            TimeSpan.FromSeconds(30), "the peer catching up", ct);
        await cluster.Storages[1].KillAsync();
        await source.AppendAsync(log, new MemoryStream(ReplicationCluster.RandomBytes(123, 9)), 123, ct);
        await RestartAsync(cluster, 1, ct);
        await AllIdenticalAsync(cluster, client, [log, other], ct, seconds: 60);
        await AssertCheckIsCleanAsync(cluster, ct);
    }

    [Fact]
    public async Task ATornBinlogTailWrittenByHandIsCutAndTheNextChangesReplicate()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var before = ReplicationCluster.RandomBytes(500, 1);
        var beforeId = await source.UploadAsync(new MemoryStream(before), before.Length, "bin", ct: ct);
        await cluster.Storages[0].StopAsync();
        string binlog = Path.Combine(cluster.StorageConfigs[0].BasePath, "data", "sync", "binlog.000");
        await File.AppendAllTextAsync(binlog, "1795479397 C M00/00/00/fwAAAmsWdZGAWnjz", ct);

        await cluster.RestartStorageAsync(0, ct: ct);
        await cluster.WaitForActiveAsync(2, ct);
        source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var after = ReplicationCluster.RandomBytes(700, 2);
        var afterId = await source.UploadAsync(new MemoryStream(after), after.Length, "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [beforeId] = before, [afterId] = after }, ct);
        Assert.DoesNotContain(File.ReadAllLines(binlog), l => l.Contains("fwAAAmsWdZGAWnjz", StringComparison.Ordinal));
    }
}
