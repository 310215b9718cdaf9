using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Tracker.Tests;

public sealed class StorageLifecycleTests
{
    [Fact]
    public async Task NewStorage_JoinsInit_SyncDestReqMakesOnline_BeatMakesActive()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.JoinAsync(initFlag: true, status: -1);
        await using var client = await tracker.ConnectAsync();

        Assert.Equal(StorageStatus.Init, storage.Joined.Status);
        Assert.Equal("", storage.Joined.SrcId);
        Assert.Equal(StorageStatus.Init, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        // Alone in its group: no source needed, empty reply, ONLINE.
        var syncDest = await storage.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestReq);
        Assert.Empty(syncDest);
        Assert.Equal(StorageStatus.Online, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        var first = await storage.BeatAsync();
        Assert.Equal(ChangeFlags.TrackerLeader | ChangeFlags.GroupServers, first.Flags);
        Assert.Equal("127.0.0.1", first.Leader!.Value.IpAddr);
        Assert.Equal("127.0.0.1", first.Leader!.Value.Id);
        Assert.Equal(tracker.EndPoint.Port, first.Leader!.Value.Port);
        var self = Assert.Single(first.GroupServers);
        Assert.Equal(new StorageBrief(StorageStatus.Active, 23000, "127.0.0.1", "127.0.0.1"), self);
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        // Nothing changed since: the minimal one-byte reply.
        var second = await storage.Connection.RequestOkAsync(FdfsCommand.StorageBeat);
        Assert.Equal([0], second);
    }

    [Fact]
    public async Task SecondStorage_GetsActivePeerAsSyncSource_AndPeersSeeGroupChange()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var first = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await using var second = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true);

        var reply = await second.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestReq);
        var source = SyncSourceBody.Parse(reply);
        Assert.Equal("127.0.0.2", source.SrcId);
        Assert.InRange(source.UntilTimestamp, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);

        await using var client = await tracker.ConnectAsync();
        var listed = await client.ListStoragesAsync("group1", "127.0.0.3");
        Assert.Equal(StorageStatus.WaitSync, listed[0].Status);
        Assert.Equal("127.0.0.2", listed[0].SrcId);

        // A beat does not activate a WAIT_SYNC storage.
        await second.BeatAsync();
        Assert.Equal(StorageStatus.WaitSync, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // The source asks whether it must push old data to the new storage.
        var srcReq = await client.RequestOkAsync(FdfsCommand.StorageSyncSrcReq, Frames.GroupAndId("group1", "127.0.0.3"));
        Assert.Equal(source, SyncSourceBody.Parse(srcReq));

        // Sync thread progress: SYNCING, then OFFLINE when done; the next beat makes it ACTIVE.
        foreach (var status in new[] { StorageStatus.Syncing, StorageStatus.Offline })
        {
            var body = new byte[16 + StorageBrief.Size];
            FixedString.Write(body.AsSpan(0, 16), "group1");
            new StorageBrief(status, 23000, "127.0.0.3", "127.0.0.3").Write(body.AsSpan(16));
            // From the source, a member of the group (a stranger is refused).
            await using var fromSource = await tracker.ConnectAsync("127.0.0.2");
            await fromSource.RequestOkAsync(FdfsCommand.StorageReportStatus, body);
            Assert.Equal(status, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        }

        await second.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // The first storage learns about the new peer with flag 4, listing both in id order.
        var notification = await first.BeatAsync();
        Assert.True(notification.Flags.HasFlag(ChangeFlags.GroupServers));
        Assert.Equal(["127.0.0.2", "127.0.0.3"], notification.GroupServers.Select(b => b.Id));
    }

    /// <summary>
    /// A source whose group list still shows the new storage WAIT_SYNC after the copy ended (or that reconnects
    /// then) reports SYNCING again. Stock ignores that for an ONLINE/ACTIVE storage and lets an OFFLINE one only
    /// move forward; accepting it left the storage SYNCING for good: beats do not activate SYNCING, a closed
    /// connection does not demote it, and its source had already reported it done.
    /// </summary>
    [Fact]
    public async Task LateSyncingReport_NeverMovesAnAvailableStorageBack()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var first = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        var second = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true);
        await second.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestReq);
        await using var client = await tracker.ConnectAsync();

        async Task ReportAsync(StorageStatus status)
        {
            var body = new byte[16 + StorageBrief.Size];
            FixedString.Write(body.AsSpan(0, 16), "group1");
            new StorageBrief(status, 23000, "127.0.0.3", "127.0.0.3").Write(body.AsSpan(16));
            await using var fromSource = await tracker.ConnectAsync("127.0.0.2");
            await fromSource.RequestOkAsync(FdfsCommand.StorageReportStatus, body);
        }

        // WAIT_SYNC may go straight to OFFLINE (a source that finished before its SYNCING report counted).
        await ReportAsync(StorageStatus.Offline);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        await ReportAsync(StorageStatus.Syncing);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        await second.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        foreach (var late in new[] { StorageStatus.WaitSync, StorageStatus.Syncing, StorageStatus.Offline })
        {
            await ReportAsync(late);
            Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        }

        // The storage dies and comes back: it is ONLINE after its JOIN, ACTIVE after its beat, whatever is reported.
        await second.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.3") == StorageStatus.Offline, "OFFLINE after close");
        await ReportAsync(StorageStatus.Syncing);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        await using var again = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: false);
        await ReportAsync(StorageStatus.Syncing);
        Assert.Equal(StorageStatus.Online, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        await again.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
    }

    [Fact]
    public async Task SyncDestReq_WithOnlyOfflinePeers_AnswersEnoent()
    {
        await using var tracker = await TestTracker.StartAsync();
        var first = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await first.DisposeAsync();
        await using var client = await tracker.ConnectAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.2") == StorageStatus.Offline, "OFFLINE");

        await using var second = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true);
        Assert.Equal(Errno.ENOENT, await second.Connection.StatusOfAsync(FdfsCommand.StorageSyncDestReq));
        Assert.Empty(await second.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestQuery));
    }

    [Fact]
    public async Task ClosedConnection_TurnsActiveStorageOffline_AndRejoinMakesItOnline()
    {
        await using var tracker = await TestTracker.StartAsync();
        var storage = await tracker.ActiveStorageAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        await storage.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.1") == StorageStatus.Offline, "OFFLINE after close");
        Assert.Equal(0, (await client.ListStoragesAsync("group1")).Single().UpTime);

        await using var again = await tracker.JoinAsync(initFlag: false, status: -1);
        Assert.Equal(StorageStatus.Online, again.Joined.Status);
        await again.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));
    }

    [Fact]
    public async Task SilentActiveStorage_IsDemotedAfterCheckActiveInterval()
    {
        // The tracker's clock moves only when the test says: no waiting for check_active_interval to pass.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var tracker = await TestTracker.StartAsync(c => c with { CheckActiveInterval = 30 }, clock: clock);
        await using var storage = await tracker.ActiveStorageAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        // The connection stays open but no heartbeat follows. The active check runs (every 30 s) but the last beat is
        // not older than check_active_interval yet.
        clock.Advance(TimeSpan.FromSeconds(30));
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.ActiveChecks >= 1), "the first active check");
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        clock.Advance(TimeSpan.FromSeconds(30));
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.1") == StorageStatus.Offline, "demotion");

        await storage.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));
    }

    [Fact]
    public async Task UnknownStorage_JoiningAsNotNewWithoutStatus_GetsEfault()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var connection = await tracker.ConnectAsync();
        var storage = new FakeStorage(connection, "group1", 23000, 1, 10);
        Assert.Equal(Errno.EFAULT, await connection.StatusOfAsync(FdfsCommand.StorageJoin, storage.Request(false, -1).ToArray()));
        Assert.Equal(Errno.EFAULT, await connection.StatusOfAsync(FdfsCommand.StorageJoin,
            storage.Request(false, (sbyte)StorageStatus.Deleted).ToArray()));

        // An unknown storage that says it was ACTIVE is adopted as ONLINE.
        await storage.JoinAsync(initFlag: false, status: (sbyte)StorageStatus.Active);
        Assert.Equal(StorageStatus.Online, storage.Joined.Status);
    }

    [Theory]
    [InlineData("", 23000, 1)]
    [InlineData("grp-1", 23000, 1)]
    [InlineData("group1", 0, 1)]
    [InlineData("group1", 23000, 0)]
    [InlineData("group1", 23000, 257)]
    public async Task InvalidJoin_IsEinval_AndTheConnectionStillJoins(string group, int port, int pathCount)
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var connection = await tracker.ConnectAsync();
        var bad = new FakeStorage(connection, group, port, pathCount, 10);
        Assert.Equal(Errno.EINVAL, await connection.StatusOfAsync(FdfsCommand.StorageJoin, bad.Request(true, 0).ToArray()));

        var good = new FakeStorage(connection, "group1", 23000, 1, 10);
        await good.JoinAsync(initFlag: true, status: 0);
        Assert.Equal(StorageStatus.Init, good.Joined.Status);
    }

    [Fact]
    public async Task TwoStoragesOnOneHost_WithDifferentPorts_ShareAGroup()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var a = await tracker.ActiveStorageAsync(port: 23000);
        await using var b = await tracker.ActiveStorageAsync(port: 23001);
        await using var client = await tracker.ConnectAsync();

        var storages = await client.ListStoragesAsync("group1");
        Assert.Equal(["127.0.0.1", "127.0.0.1:23001"], storages.Select(s => s.Id));
        Assert.Equal([23000L, 23001L], storages.Select(s => s.StoragePort));
        Assert.All(storages, s => Assert.Equal(StorageStatus.Active, s.Status));

        var all = QueryStoreAllResponse.Parse(await client.RequestOkAsync(FdfsCommand.QueryStoreWithoutGroupAll));
        Assert.Equal([new StorageEndpoint("127.0.0.1", 23000), new StorageEndpoint("127.0.0.1", 23001)], all.Storages);

        // Round robin alternates and each answer carries the storage's own port.
        var ports = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            ports.Add((await client.QueryStoreAsync()).Storage.Port);
        }

        Assert.Equal([23000, 23001, 23000, 23001], ports);

        // A re-join of the second storage finds its own record again.
        await using var bAgain = await tracker.JoinAsync(port: 23001, initFlag: false, status: -1);
        Assert.Equal(2, (await client.ListStoragesAsync("group1")).Count);
    }

    [Fact]
    public async Task SecondStorageOnAHostWithALongAddress_IsRefusedWithEexist()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var a = await tracker.JoinAsync(port: 23000, localIp: "127.100.100.100");
        await using var connection = await tracker.ConnectAsync("127.100.100.100");
        var b = new FakeStorage(connection, "group1", 23001, 1, 10);
        Assert.Equal(Errno.EEXIST, await connection.StatusOfAsync(FdfsCommand.StorageJoin, b.Request(true, 0).ToArray()));
        Assert.Empty(await connection.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task SyncNotify_WithEmptySource_EndsInitialSync()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.JoinAsync(initFlag: true);
        await storage.Connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, new byte[SyncSourceBody.Size]);
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(StorageStatus.Online, await client.StatusOfStorageAsync("group1", "127.0.0.1"));

        var unknownSource = new byte[SyncSourceBody.Size];
        new SyncSourceBody("10.0.0.9", 1).Write(unknownSource);
        Assert.Equal(Errno.ENOENT, await storage.Connection.StatusOfAsync(FdfsCommand.StorageSyncNotify, unknownSource));
    }

    [Fact]
    public async Task StorageQueries_GetMyIp_GetStatus_GetServerId_ChangeStatus()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync(localIp: "127.0.0.5");
        await using var client = await tracker.ConnectAsync("127.0.0.6");

        var myIpBody = new byte[21];
        FixedString.Write(myIpBody.AsSpan(0, 17), "group1");
        Assert.Equal("127.0.0.6"u8.ToArray(), await client.RequestOkAsync(FdfsCommand.StorageGetMyIp, myIpBody));

        var brief = StorageBrief.Parse(await client.RequestOkAsync(FdfsCommand.StorageGetStatus,
            Frames.GroupAnd("group1", "127.0.0.5:23000")));
        Assert.Equal(new StorageBrief(StorageStatus.Active, 23000, "127.0.0.5", "127.0.0.5"), brief);
        Assert.Equal("127.0.0.5"u8.ToArray(), await client.RequestOkAsync(FdfsCommand.StorageGetServerId,
            Frames.GroupAnd("group1", "127.0.0.5:23000")));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.StorageGetStatus,
            Frames.GroupAnd("group1", "127.0.0.9:23000")));
        // 6.00-6.15 storages ask with the address alone, or with nothing (their own address) before a disk recovery.
        Assert.Equal(brief, StorageBrief.Parse(await client.RequestOkAsync(FdfsCommand.StorageGetStatus, Frames.GroupAnd("group1", "127.0.0.5"))));
        await using (var itself = await tracker.ConnectAsync("127.0.0.5"))
        {
            Assert.Equal(brief, StorageBrief.Parse(await itself.RequestOkAsync(FdfsCommand.StorageGetStatus, Frames.Group("group1"))));
        }

        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.StorageGetStatus, Frames.GroupAnd("group1", "127.0.0.9")));

        // CHANGE_STATUS between available states changes nothing; to SYNCING it applies.
        await storage.Connection.RequestOkAsync(FdfsCommand.StorageChangeStatus, new[] { (byte)StorageStatus.Online });
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.5"));
        // Unlike stock, never backwards from an available state into SYNCING (spec 12.5: the stuck follower).
        await storage.Connection.RequestOkAsync(FdfsCommand.StorageChangeStatus, new[] { (byte)StorageStatus.Syncing });
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.5"));

        Assert.Equal(new byte[4], await storage.Connection.RequestOkAsync(FdfsCommand.StorageFetchTrunkFid));
        Assert.Empty(await storage.Connection.RequestOkAsync(FdfsCommand.StorageChangelogReq));
    }
}
