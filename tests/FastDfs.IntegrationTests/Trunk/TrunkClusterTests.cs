using System.Collections.Concurrent;
using System.Diagnostics;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Hosting;
using FastDfs.Storage.Trunk;
using Xunit.Abstractions;

using static FastDfs.IntegrationTests.Trunk.TrunkTesting;

namespace FastDfs.IntegrationTests.Trunk;

/// <summary>
/// Trunk mode with two storages (127.0.0.2 and .3): the tracker elects one trunk server, the other allocates
/// through it (TRUNK_ALLOC_SPACE & co.), the slots and the trunk binlog replicate, and a killed trunk server is
/// replaced without any byte range handed to two files.
/// </summary>
public sealed class TrunkClusterTests(ITestOutputHelper output)
{
    private static Task<TestCluster> StartAsync(CancellationToken ct, int syncAckReplicas = 1) => TestCluster.StartAsync(2,
        tracker => TrunkTesting.WithTrunk(tracker, 8 << 20),
        (i, c) => ReplicationCluster.Configure(i, c) with { SyncAckReplicas = syncAckReplicas, SyncAckTimeout = 30 },
        ct);

    /// <summary>Waits until one storage allocates as trunk server and every other one allocates through it.</summary>
    private static async Task<StorageServer> WaitForTrunkServerAsync(IReadOnlyList<StorageServer> storages, CancellationToken ct)
    {
        StorageServer? trunkServer = null;
        await Eventually.TrueAsync(() =>
        {
            var selves = storages.Where(s => Role(s) == TrunkServerRole.Self).ToList();
            trunkServer = selves.Count == 1 ? selves[0] : null;
            return Task.FromResult(trunkServer is not null && storages.All(s => s == trunkServer || Role(s) == TrunkServerRole.Remote));
        }, TimeSpan.FromSeconds(40), "a trunk server elected and announced", ct);
        return trunkServer!;
    }

    [Fact]
    public async Task TwoStorages_UploadThroughBoth_ReplicateByteIdentical_DeleteReclaimsOnBoth_FreedSlotsReused()
    {
        var ct = Timeouts.Test(300);
        await using var cluster = await StartAsync(ct);
        await cluster.WaitForActiveAsync(2, ct);
        var storages = cluster.Storages;
        var trunkServer = await WaitForTrunkServerAsync(storages, ct);
        var member = storages.Single(s => s != trunkServer);
        await using var client = cluster.CreateClient();

        // 2000 files of 1 B .. slot_max_size - 24, half through each storage, 8 at a time on each.
        var random = new Random(19);
        var sizes = Enumerable.Range(0, 2000).Select(i => i switch { 0 => 1, 1 => SlotMaxSize - 24, _ => random.Next(1, SlotMaxSize - 24) }).ToArray();
        var files = new ConcurrentDictionary<FileId, byte[]>();
        await Parallel.ForEachAsync(Enumerable.Range(0, sizes.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var content = new byte[sizes[i]];
            Random.Shared.NextBytes(content);
            var direct = ReplicationCluster.Direct(client, storages[i % 2]);
            files[await direct.UploadAsync(new MemoryStream(content), content.Length, "bin", ct: token)] = content;
        });

        // Under heavy load a heartbeat can come later than the trunk server's lease: for that moment a member's upload
        // becomes a normal file (by design, docs/trunk.md). Nearly all must be trunk files all the same.
        int trunkCount = files.Keys.Count(IsTrunk);
        output.WriteLine($"{trunkCount} of {files.Count} uploads in trunk files");
        Assert.True(trunkCount >= files.Count * 95 / 100, $"only {trunkCount} of {files.Count} uploads went to trunk files");
        AssertNoOverlap(files.Keys);
        await ReplicationCluster.AllServeAsync(client, storages, files, ct, TimeSpan.FromSeconds(120));
        // The trunk server pushes its binlog on its own schedule (TRUNK_SYNC_BINLOG), not with the files.
        await Eventually.TrueAsync(() => Task.FromResult(member.Context.Trunk.Binlog.Length > 0), TimeSpan.FromSeconds(30),
            "the trunk binlog to reach the other member", ct);

        // Delete a random half through both storages: du drops on both, survivors unchanged everywhere.
        string[] dataDirs = [.. storages.Select(s => Path.Combine(s.Config.StorePaths[0].Path, "data"))];
        long[] duBefore = [.. dataDirs.Select(DiskUsage)];
        var deleted = files.Keys.Where(IsTrunk).OrderBy(_ => random.Next()).Take(files.Count / 2).ToList();
        long deletedAlloc = deleted.Sum(id => (long)FileNameCodec.Decode(id.LogicName).Trunk!.Value.AllocSize);
        await Parallel.ForEachAsync(Enumerable.Range(0, deleted.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
            await ReplicationCluster.Direct(client, storages[i % 2]).DeleteAsync(deleted[i], token));
        foreach (var id in deleted)
        {
            files.TryRemove(id, out _);
        }

        await Eventually.TrueAsync(async () =>
        {
            foreach (var storage in storages)
            {
                foreach (var id in deleted.Take(50).Concat(deleted.TakeLast(50)))
                {
                    if (await ReplicationCluster.TryDownloadAsync(client, storage, id, ct) is not null)
                    {
                        return false;
                    }
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), "the deletes replicated", ct);
        for (int s = 0; s < storages.Count; s++)
        {
            await Eventually.TrueAsync(() => Task.FromResult(duBefore[s] - DiskUsage(dataDirs[s]) >= deletedAlloc * 8 / 10),
                TimeSpan.FromSeconds(60), $"du of storage {s} to drop by 80% of {deletedAlloc}", ct);
            output.WriteLine($"storage {s}: deleted {deletedAlloc} slot bytes; du {duBefore[s]} -> {DiskUsage(dataDirs[s])}");
        }

        await ReplicationCluster.AllServeAsync(client, storages, files, ct, TimeSpan.FromSeconds(60));

        // New uploads through the member that is not the trunk server land in freed slots.
        var freed = deleted.Select(id => FileNameCodec.Decode(id.LogicName).Trunk!.Value).ToList();
        int trunkFiles = trunkServer.Context.TrunkStats.TrunkFileCount;
        int reused = 0, trunkUploads = 0;
        foreach (var id in deleted.Take(200))
        {
            var content = new byte[FileNameCodec.Decode(id.LogicName).FileSize];
            Random.Shared.NextBytes(content);
            var newId = await ReplicationCluster.Direct(client, member).UploadAsync(new MemoryStream(content), content.Length, "bin", ct: ct);
            files[newId] = content;
            if (!IsTrunk(newId))
            {
                continue;
            }

            trunkUploads++;
            var slot = FileNameCodec.Decode(newId.LogicName).Trunk!.Value;
            if (freed.Any(f => f.TrunkId == slot.TrunkId && slot.Offset >= f.Offset && slot.Offset < f.Offset + f.AllocSize))
            {
                reused++;
            }
        }

        Assert.True(trunkUploads >= 190, $"only {trunkUploads} of 200 new uploads went to trunk files");
        Assert.Equal(trunkUploads, reused);
        Assert.Equal(trunkFiles, trunkServer.Context.TrunkStats.TrunkFileCount);
        AssertNoOverlap(files.Keys);
        await ReplicationCluster.AllServeAsync(client, storages, files, ct, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task TrunkServerKilledDuringUploads_ANewOneIsElected_EveryAcknowledgedFileReadsBack()
    {
        var ct = Timeouts.Test(240);
        await using var cluster = await StartAsync(ct);
        await cluster.WaitForActiveAsync(2, ct);
        var storages = cluster.Storages;
        var oldTrunkServer = await WaitForTrunkServerAsync(storages, ct);
        var survivor = storages.Single(s => s != oldTrunkServer);
        await using var client = cluster.CreateClient();

        var acknowledged = new ConcurrentDictionary<FileId, byte[]>();
        var bySurvivor = new ConcurrentDictionary<FileId, bool>();
        var order = new ConcurrentQueue<FileId>();
        using var stopUploads = CancellationTokenSource.CreateLinkedTokenSource(ct);
        int failures = 0;
        async Task UploadLoopAsync(StorageServer target, int seed)
        {
            var random = new Random(seed);
            while (!stopUploads.IsCancellationRequested)
            {
                var content = new byte[random.Next(1, 8000)];
                random.NextBytes(content);
                try
                {
                    var id = await ReplicationCluster.Direct(client, target).UploadAsync(new MemoryStream(content), content.Length, "bin", ct: stopUploads.Token);
                    acknowledged[id] = content;
                    order.Enqueue(id);
                    if (target == survivor)
                    {
                        bySurvivor[id] = true;
                    }
                }
                catch (Exception e) when (e is FastDfsException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException)
                {
                    Interlocked.Increment(ref failures);
                    if (target == oldTrunkServer)
                    {
                        return; // it is gone
                    }
                }
            }
        }

        var loops = Enumerable.Range(0, 4).Select(i => Task.Run(() => UploadLoopAsync(storages[i % 2], i))).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count >= 300), TimeSpan.FromSeconds(60), "300 uploads before the kill", ct);
        await oldTrunkServer.KillAsync();
        int atKill = acknowledged.Count;

        // The survivor is elected and allocates itself; uploads through it keep going into trunk slots.
        await Eventually.TrueAsync(() => Task.FromResult(Role(survivor) == TrunkServerRole.Self), TimeSpan.FromSeconds(60),
            "the survivor to become trunk server", ct);
        int atTakeover = acknowledged.Count;
        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count >= atTakeover + 200), TimeSpan.FromSeconds(60), "200 uploads after the takeover", ct);
        await stopUploads.CancelAsync();
        await Task.WhenAll(loops);
        output.WriteLine($"acknowledged {acknowledged.Count} ({atKill} before the kill, {atTakeover} at the takeover), {failures} failed");

        // Uploads after the takeover went into slots the survivor allocated itself.
        Assert.Contains(order.Skip(atTakeover), id => FileNameCodec.Decode(id.LogicName).IsTrunk);
        // Every file the survivor acknowledged (slots from the old trunk server, in flight at the kill, and its own)
        // reads back intact; of the old trunk server's files, whatever had replicated before the kill is intact too
        // (never overwritten by a slot handed out again).
        int replicated = 0;
        var served = new ConcurrentBag<FileId>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (pair, token) =>
        {
            var body = await ReplicationCluster.TryDownloadAsync(client, survivor, pair.Key, token);
            if (bySurvivor.ContainsKey(pair.Key))
            {
                Assert.True(body is not null && pair.Value.AsSpan().SequenceEqual(body), $"{pair.Key} does not read back intact from the survivor");
                served.Add(pair.Key);
            }
            else if (body is not null)
            {
                Assert.True(pair.Value.AsSpan().SequenceEqual(body), $"replica of {pair.Key} was overwritten");
                Interlocked.Increment(ref replicated);
                served.Add(pair.Key);
            }
        });
        output.WriteLine($"{bySurvivor.Count} acknowledged by the survivor, {replicated} of the old trunk server's files replicated");
        Assert.True(replicated > 0);
        // No two files the survivor holds share a byte. (A file the old trunk server acknowledged but had not
        // replicated yet is unknown to the survivor, which may reuse its range: see docs/trunk.md, sync_ack_replicas.)
        AssertNoOverlap(served);
    }

    /// <summary>No two files share a byte of any trunk file. A trunk file is the file
    /// <c>&lt;store path&gt;/data/HH/LL/&lt;id&gt;</c>, so slots are compared within one (path, HH, LL, id).</summary>
    internal static void AssertNoOverlap(IEnumerable<FileId> ids)
    {
        var slots = ids.Select(id => FileNameCodec.Decode(id.LogicName)).Where(i => i.IsTrunk)
            .Select(i => (i.StorePathIndex, i.SubHigh, i.SubLow, i.Trunk!.Value.TrunkId, i.Trunk.Value.Offset, i.Trunk.Value.AllocSize))
            .OrderBy(s => (s.StorePathIndex, s.SubHigh, s.SubLow, s.TrunkId, s.Offset)).ToList();
        for (int i = 1; i < slots.Count; i++)
        {
            var (a, b) = (slots[i - 1], slots[i]);
            bool sameTrunkFile = (a.StorePathIndex, a.SubHigh, a.SubLow, a.TrunkId) == (b.StorePathIndex, b.SubHigh, b.SubLow, b.TrunkId);
            Assert.False(sameTrunkFile && a.Offset + a.AllocSize > b.Offset, $"slots {a} and {b} overlap");
        }
    }

    private static long DiskUsage(string directory)
    {
        using var du = Process.Start(new ProcessStartInfo("du", ["-s", "-B1", directory]) { RedirectStandardOutput = true })!;
        string text = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(text.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
