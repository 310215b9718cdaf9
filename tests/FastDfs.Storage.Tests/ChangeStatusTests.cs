using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Storage.Tests;

/// <summary>
/// CHANGE_STATUS (59) toward a follower, as seen in a mixed cluster (docs/compatibility.md "Mixed clusters"): our
/// storage, restarted on an empty directory, pushed the leader's lagging WAIT_SYNC onto a stock follower that
/// had already received OFFLINE from the source's REPORT_STATUS; the stock follower stayed WAIT_SYNC for good.
/// </summary>
public class ChangeStatusTests
{
    private static byte[] JoinReply(StorageStatus status)
    {
        var body = new byte[StorageJoinResponse.Size];
        new StorageJoinResponse(status, "").Write(body);
        return body;
    }

    private static byte[] Brief(StorageStatus status, int port)
    {
        var body = new byte[StorageBrief.Size];
        new StorageBrief(status, port, "127.0.0.1", "127.0.0.1").Write(body);
        return body;
    }

    /// <summary>
    /// A leader that lists us as WAIT_SYNC and a follower that answered JOIN with INIT and answers GET_STATUS (71)
    /// with <paramref name="followerNow"/>; returns the follower's frames once it was asked GET_STATUS.
    /// </summary>
    private static async Task<(FdfsCommand Command, byte[] Body)[]> RunAsync(StorageStatus followerNow)
    {
        // Port 0 in a brief stands for "our port" (the storage listens on an ephemeral one).
        const int storagePort = 0;
        ScriptedTracker? leader = null;
        leader = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(StorageStatus.WaitSync),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Notification(),
            _ => null,
        });
        await using var _ = leader;
        await using var follower = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(StorageStatus.Init),
            FdfsCommand.StorageGetStatus => Brief(followerNow, storagePort),
            _ => null,
        });

        byte[] Notification() => LeaderNotification(leader!.Port, StorageStatus.WaitSync, storagePort);

        // The storage's heartbeats follow its clock, which the waits below move: no sleeping through heart_beat_interval.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", leader.Port), new TrackerAddress("127.0.0.1", follower.Port)],
        }, clock: clock);

        // The leader is known after its first beat reply; the follower is then asked for its view after a beat.
        await leader.WaitForAsync(f => f.Count(x => x.Command == FdfsCommand.StorageBeat) >= 2, storage.Timeout, clock);
        await follower.WaitForAsync(f => f.Any(x => x.Command == FdfsCommand.StorageGetStatus), storage.Timeout, clock);
        int beats = follower.Frames.Count(f => f.Command == FdfsCommand.StorageBeat);
        await follower.WaitForAsync(f => f.Count(x => x.Command == FdfsCommand.StorageBeat) >= beats + 2, storage.Timeout, clock);
        return follower.Frames.ToArray();
    }

    [Fact]
    public async Task Follower_that_moved_past_the_leaders_lagging_view_is_not_pushed_back()
    {
        var frames = await RunAsync(StorageStatus.Offline);
        var ask = frames.First(f => f.Command == FdfsCommand.StorageGetStatus).Body;
        Assert.Equal("group1", FixedString.Read(ask.AsSpan(0, ProtocolConstants.GroupNameMaxLen)));
        Assert.StartsWith("127.0.0.1:", Encoding.ASCII.GetString(ask, ProtocolConstants.GroupNameMaxLen, ask.Length - ProtocolConstants.GroupNameMaxLen));
        Assert.DoesNotContain(frames, f => f.Command == FdfsCommand.StorageChangeStatus);
    }

    [Fact]
    public async Task Follower_behind_the_leader_is_told_the_leaders_view()
    {
        var frames = await RunAsync(StorageStatus.Init);
        var change = Assert.Single(frames, f => f.Command == FdfsCommand.StorageChangeStatus);
        Assert.Equal([(byte)StorageStatus.WaitSync], change.Body);
    }

    /// <summary>
    /// Seen when two trackers start together: the follower missed the source's SYNCING and OFFLINE (it did not know the
    /// new storage, or the source, yet), took our push of the leader's WAIT_SYNC, and then stayed WAIT_SYNC: the source
    /// stops reporting once the leader shows the storage ACTIVE, and a connection pushed only once. A later step of the
    /// leader's view is pushed too.
    /// </summary>
    [Fact]
    public async Task Follower_is_told_each_later_step_of_the_leaders_view()
    {
        const int storagePort = 0;
        var leaderView = StorageStatus.WaitSync;
        var followerView = StorageStatus.Init;
        ScriptedTracker? leader = null;
        leader = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(StorageStatus.WaitSync),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Notification(),
            _ => null,
        });
        await using var _ = leader;

        // A follower that takes CHANGE_STATUS as ours does (ONLINE/ACTIVE become OFFLINE; the next beat activates).
        await using var follower = new ScriptedTracker((command, body) => command switch
        {
            FdfsCommand.StorageJoin => (Errno.Ok, JoinReply(followerView)),
            FdfsCommand.StorageGetStatus => (Errno.Ok, Brief(followerView, storagePort)),
            FdfsCommand.StorageChangeStatus => Take((StorageStatus)body[0]),
            _ => null,
        });

        (byte, byte[]) Take(StorageStatus pushed)
        {
            followerView = pushed is StorageStatus.Active or StorageStatus.Online ? StorageStatus.Offline : pushed;
            return (Errno.Ok, []);
        }

        byte[] Notification() => LeaderNotification(leader!.Port, leaderView, storagePort);

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", leader.Port), new TrackerAddress("127.0.0.1", follower.Port)],
        }, clock: clock);

        static bool Pushed(IReadOnlyList<(FdfsCommand Command, byte[] Body)> frames, StorageStatus status) =>
            frames.Any(f => f.Command == FdfsCommand.StorageChangeStatus && f.Body.SequenceEqual(new[] { (byte)status }));

        await follower.WaitForAsync(f => Pushed(f, StorageStatus.WaitSync), storage.Timeout, clock);
        // The source filled us and reported it to the leader only; the leader now lists us ACTIVE.
        leaderView = StorageStatus.Active;
        await follower.WaitForAsync(f => Pushed(f, StorageStatus.Active), storage.Timeout, clock);
        Assert.Equal(StorageStatus.Offline, followerView);

        // Nothing more to push: the follower's view is available like the leader's.
        int pushes = follower.Frames.Count(f => f.Command == FdfsCommand.StorageChangeStatus);
        int beats = follower.Frames.Count(f => f.Command == FdfsCommand.StorageBeat);
        await follower.WaitForAsync(f => f.Count(x => x.Command == FdfsCommand.StorageBeat) >= beats + 3, storage.Timeout, clock);
        Assert.Equal(pushes, follower.Frames.Count(f => f.Command == FdfsCommand.StorageChangeStatus));
    }

    /// <summary>A beat reply naming the leader at <paramref name="leaderPort"/> and its view of the storage.</summary>
    private static byte[] LeaderNotification(int leaderPort, StorageStatus view, int storagePort)
    {
        var change = new ChangeNotification(ChangeFlags.TrackerLeader | ChangeFlags.GroupServers,
            new StorageBrief(StorageStatus.Init, leaderPort, "127.0.0.1", "127.0.0.1"), null,
            [new StorageBrief(view, storagePort, "127.0.0.1", "127.0.0.1")]);
        var body = new byte[change.Size];
        change.Write(body);
        return body;
    }
}
