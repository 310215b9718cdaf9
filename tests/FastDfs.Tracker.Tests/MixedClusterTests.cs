using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>
/// Sequences seen by hand in a mixed cluster (stock 6.16.1 tracker + ours, stock storage + ours, network
/// namespaces; docs/compatibility.md "Mixed clusters"): a stock storage restarted on an empty directory at a
/// known address re-joined with init_flag 1, asked SYNC_DEST_REQ of the first tracker it reached (our follower)
/// and sent SYNC_NOTIFY to the stock leader, which kept it ONLINE, made it ACTIVE while empty, and no source ever
/// pushed it the group's files.
/// </summary>
public sealed class MixedClusterTests
{
    private static byte[] Notify(string srcId, long until)
    {
        var body = new byte[SyncSourceBody.Size];
        new SyncSourceBody(srcId, until).Write(body);
        return body;
    }

    private static byte[] ReportStatus(StorageStatus status, string id)
    {
        var body = new byte[ProtocolConstants.GroupNameMaxLen + StorageBrief.Size];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), "group1");
        new StorageBrief(status, 23000, id, id).Write(body.AsSpan(ProtocolConstants.GroupNameMaxLen));
        return body;
    }

    [Fact]
    public async Task Follower_RefusesSyncDestReq_WithEagain_AndTakesTheLeadersAnswerFromSyncNotify()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var first = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await using var peer = await tracker.ConnectAsync();
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");

        // Another tracker leads (a reachable stand-in): this one gives up the lead (EINVAL, as stock) and follows.
        await using var leader = new FakeLeader();
        await using var lister = await tracker.IntroduceTrackersAsync("127.0.0.2", leader.HostPort);
        byte[] leaderText = Encoding.ASCII.GetBytes(leader.HostPort);
        Assert.Equal(Errno.EINVAL, await peer.StatusOfAsync(FdfsCommand.TrackerNotifyNextLeader, leaderText));
        Assert.Empty(await peer.RequestOkAsync(FdfsCommand.TrackerNotifyNextLeader, leaderText));
        Assert.Empty(await peer.RequestOkAsync(FdfsCommand.TrackerCommitNextLeader, leaderText));
        Assert.False(tracker.Server.IsLeader);

        await using var fresh = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true, status: -1);
        Assert.Equal(Errno.EAGAIN, await fresh.Connection.StatusOfAsync(FdfsCommand.StorageSyncDestReq));
        Assert.Equal(StorageStatus.Init, await peer.StatusOfStorageAsync("group1", "127.0.0.3"));

        // The leader's answer arrives with SYNC_NOTIFY (the storage echoes it to every tracker): WAIT_SYNC here too.
        long until = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Empty(await fresh.Connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, Notify("127.0.0.2", until)));
        var listed = (await peer.ListStoragesAsync("group1", "127.0.0.3")).Single();
        Assert.Equal(StorageStatus.WaitSync, listed.Status);
        Assert.Equal("127.0.0.2", listed.SrcId);
        Assert.Equal(new SyncSourceBody("127.0.0.2", until),
            SyncSourceBody.Parse(await peer.RequestOkAsync(FdfsCommand.StorageSyncSrcReq, Frames.GroupAndId("group1", "127.0.0.3"))));
    }

    [Fact]
    public async Task Leader_MakesAMemberRestartedEmpty_WaitForTheSourceAnotherTrackerGaveIt_Once()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var source = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        var member = await tracker.ActiveStorageAsync(localIp: "127.0.0.3");
        await using var client = await tracker.ConnectAsync();
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // The member stops and comes back on an empty directory: JOIN with init_flag 1 makes it ONLINE (stock)...
        await member.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.3") == StorageStatus.Offline, "OFFLINE");
        await using var empty = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true, status: -1);
        Assert.Equal(StorageStatus.Online, empty.Joined.Status);

        // ...then echoes the source another tracker gave it. It has no data: it waits for that source.
        long until = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Empty(await empty.Connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, Notify("127.0.0.2", until)));
        var listed = (await client.ListStoragesAsync("group1", "127.0.0.3")).Single();
        Assert.Equal(StorageStatus.WaitSync, listed.Status);
        Assert.Equal("127.0.0.2", listed.SrcId);
        await empty.BeatAsync();
        Assert.Equal(StorageStatus.WaitSync, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // The source learns it owes the old data; it reports SYNCING then OFFLINE; a beat makes the member ACTIVE.
        Assert.Equal(new SyncSourceBody("127.0.0.2", until),
            SyncSourceBody.Parse(await client.RequestOkAsync(FdfsCommand.StorageSyncSrcReq, Frames.GroupAndId("group1", "127.0.0.3"))));
        await using var fromSource = await tracker.ConnectAsync("127.0.0.2");
        Assert.Empty(await fromSource.RequestOkAsync(FdfsCommand.StorageReportStatus, ReportStatus(StorageStatus.Syncing, "127.0.0.3")));
        Assert.Empty(await fromSource.RequestOkAsync(FdfsCommand.StorageReportStatus, ReportStatus(StorageStatus.Offline, "127.0.0.3")));
        await empty.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // A storage thread that retries later repeats JOIN (init_flag 1) + the same SYNC_NOTIFY: no step back.
        await using var retry = await tracker.JoinAsync(localIp: "127.0.0.3", initFlag: true, status: (sbyte)StorageStatus.Active);
        Assert.Empty(await retry.Connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, Notify("127.0.0.2", until)));
        await retry.BeatAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
    }
}
