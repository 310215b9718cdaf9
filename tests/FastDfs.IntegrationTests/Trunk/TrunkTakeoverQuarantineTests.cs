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
/// The takeover hazard without sync_ack_replicas: the trunk server acknowledges files whose slots neither its trunk
/// binlog push nor its file sync has delivered to the other member, and dies. The new trunk server must not hand
/// those ranges out again (quarantine: only new trunk files, with ids above the old server's reservation, until the
/// old server is back and its files have reached the new one).
/// </summary>
public sealed class TrunkTakeoverQuarantineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TrunkServerDiesWithUnreplicatedFiles_NewTrunkServerQuarantinesOldSpace_EveryAcknowledgedFileSurvivesOnEveryMember()
    {
        var ct = Timeouts.Test(300);
        // Storage 0 starts alone and becomes trunk server; its sync_interval (an hour) stalls both its file sync and
        // its trunk binlog push after their first batch, so later files of it reach nobody before it dies.
        await using var cluster = await TestCluster.StartAsync(1,
            tracker => TrunkTesting.WithTrunk(tracker, 4 << 20),
            (i, c) => ReplicationCluster.Configure(i, c) with { SyncInterval = 3_600_000 },
            ct);
        var oldTrunk = cluster.Storages[0];
        await Eventually.TrueAsync(() => Task.FromResult(Role(oldTrunk) == TrunkServerRole.Self), TimeSpan.FromSeconds(40), "storage 0 trunk server", ct);
        var survivor = await cluster.AddStorageAsync(c => ReplicationCluster.Configure(1, c), ct);
        await cluster.WaitForActiveAsync(2, ct);
        await Eventually.TrueAsync(() => Task.FromResult(Role(survivor) == TrunkServerRole.Remote && Role(oldTrunk) == TrunkServerRole.Self),
            TimeSpan.FromSeconds(40), "storage 1 allocating through storage 0", ct);
        await using var client = cluster.CreateClient();
        var acknowledged = new Dictionary<FileId, byte[]>();

        async Task<FileId> UploadAsync(StorageServer target, int size, int seed)
        {
            var content = ReplicationCluster.RandomBytes(size, seed);
            var id = await ReplicationCluster.Direct(client, target).UploadAsync(new MemoryStream(content), content.Length, "bin", ct: ct);
            acknowledged[id] = content;
            return id;
        }

        // Prime both pushes of the trunk server, which then stall for an hour: its file sync with an appender file
        // (never a trunk slot), its trunk binlog push with the first trunk allocation (an upload through the survivor).
        var appenderContent = ReplicationCluster.RandomBytes(1000, 1);
        var appender = await ReplicationCluster.Direct(client, oldTrunk).UploadAppenderAsync(new MemoryStream(appenderContent), appenderContent.Length, "bin", ct: ct);
        acknowledged[appender] = appenderContent;
        await ReplicationCluster.AllServeAsync(client, [survivor], new Dictionary<FileId, byte[]> { [appender] = appenderContent }, ct, TimeSpan.FromSeconds(60));
        int seed = 10;
        await Eventually.TrueAsync(async () => IsTrunk(await UploadAsync(survivor, 1000, seed++)), TimeSpan.FromSeconds(30), "a trunk upload through the survivor", ct);
        await Eventually.TrueAsync(() => Task.FromResult(survivor.Context.Trunk.Binlog.Length > 0), TimeSpan.FromSeconds(30), "the first trunk binlog push", ct);

        // (Under heavy load a lapsed trunk server lease turns an upload into a normal file; those do not matter here.)
        var unreplicated = new List<FileId>();
        for (int i = 0; i < 60; i++)
        {
            unreplicated.Add(await UploadAsync(oldTrunk, 100 + i * 97 % 6000, 100 + i));
            await UploadAsync(survivor, 200 + i * 53 % 6000, 1000 + i);
        }

        unreplicated.RemoveAll(id => !IsTrunk(id));
        Assert.True(unreplicated.Count >= 30, $"{unreplicated.Count} of 60 uploads to the trunk server went to slots");
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, survivor, unreplicated[^1], ct));
        int oldMaxTrunkId = acknowledged.Keys.Where(IsTrunk).Max(id => FileNameCodec.Decode(id.LogicName).Trunk!.Value.TrunkId);
        long oldReserved = oldTrunk.Context.Trunk.Ids.ReservedUpTo;
        // Every trunk file id used was reserved with the tracker before its use (REPORT_TRUNK_FID ahead).
        Assert.True(oldReserved >= oldMaxTrunkId, $"reserved {oldReserved}, used {oldMaxTrunkId}");
        long trackerId = (await client.Tracker.ListGroupAsync("group1", ct)).CurrentTrunkFileId;
        Assert.True(trackerId >= oldReserved, $"tracker current_trunk_file_id {trackerId}, reserved {oldReserved}");

        await oldTrunk.KillAsync();
        await Eventually.TrueAsync(() => Task.FromResult(Role(survivor) == TrunkServerRole.Self), TimeSpan.FromSeconds(60), "the survivor to take over", ct);
        Assert.True(survivor.Context.Trunk.Manager.InQuarantine);

        // The new trunk server allocates while the old one is down: only in new trunk files, ids above the old reservation.
        var duringQuarantine = new List<FileId>();
        for (int i = 0; i < 100; i++)
        {
            duringQuarantine.Add(await UploadAsync(survivor, 100 + i * 71 % 6000, 2000 + i));
        }

        var quarantineSlots = duringQuarantine.Where(IsTrunk).Select(id => FileNameCodec.Decode(id.LogicName)).ToList();
        Assert.True(quarantineSlots.Count >= 50, $"{quarantineSlots.Count} of 100 uploads during the quarantine went to slots");
        Assert.All(quarantineSlots, info => Assert.True(info.Trunk!.Value.TrunkId > Math.Max(oldMaxTrunkId, oldReserved),
            $"trunk id {info.Trunk!.Value.TrunkId} during quarantine, old term used up to {oldMaxTrunkId} and reserved {oldReserved}"));
        Assert.True(survivor.Context.Trunk.Manager.InQuarantine);

        // The old trunk server comes back (no longer paced): its files reach the survivor, the quarantine lifts.
        var restarted = await cluster.RestartStorageAsync(0, c => c with { SyncInterval = 0 }, ct);
        await Eventually.TrueAsync(() => Task.FromResult(!survivor.Context.Trunk.Manager.InQuarantine), TimeSpan.FromSeconds(90), "the quarantine to lift", ct);
        await Eventually.TrueAsync(() => Task.FromResult(Role(restarted) == TrunkServerRole.Remote), TimeSpan.FromSeconds(30), "storage 0 allocating through storage 1", ct);

        // After the lift the old trunk files' free space is used again, without touching any acknowledged slot.
        for (int i = 0; i < 100; i++)
        {
            await UploadAsync(i % 2 == 0 ? survivor : restarted, 100 + i * 61 % 6000, 3000 + i);
        }

        var storages = new[] { restarted, survivor };
        await ReplicationCluster.AllServeAsync(client, storages, acknowledged, ct, TimeSpan.FromSeconds(120));
        TrunkClusterTests.AssertNoOverlap(acknowledged.Keys);
        output.WriteLine($"{acknowledged.Count} files, {unreplicated.Count} unreplicated at the kill; old term ids <= {Math.Max(oldMaxTrunkId, oldReserved)}, " +
            $"quarantine ids {string.Join(",", quarantineSlots.Select(i => i.Trunk!.Value.TrunkId).Distinct())}");
    }
}
