using System.Collections.Concurrent;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Storage.Tests;

/// <summary>
/// The status a new storage claims in STORAGE_JOIN toward a tracker that does not know it (spec 6.1). Seen when two
/// trackers start together: one of them, not yet following a leader, answered our SYNC_DEST_REQ; the other, which had
/// not heard of us yet, then won the election. Our JOIN to it comes after the old-data question is settled
/// (init_flag 0) and, with no leader list naming us, says status -1, which a tracker refuses for a storage it does not
/// know (EFAULT, as stock does). Stock claims INIT once every tracker has answered a JOIN, whatever the answer; waiting
/// for a successful JOIN everywhere instead meant waiting for the leader's group list, which only that leader sends, so
/// the storage never joined the leader and stayed WAIT_SYNC on the other tracker (its source follows the leader's list).
/// </summary>
public class JoinStatusTests
{
    private const string SourceId = "127.0.0.9";
    private const long Until = 1_700_000_000;

    [Fact]
    public async Task A_tracker_that_refused_our_unknown_status_is_joined_as_INIT_and_told_the_source_the_other_tracker_gave()
    {
        // The tracker that answered SYNC_DEST_REQ while no leader was elected; a follower now (its replies carry no flags).
        await using var decider = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageSyncDestReq => SourceBody(),
            _ => null,
        });

        // The leader, which has no record of us: a JOIN with init_flag 0 and status -1 is refused, as by stock.
        var joins = new ConcurrentQueue<StorageJoinRequest>();
        await using var leader = new ScriptedTracker((command, body) =>
        {
            if (command != FdfsCommand.StorageJoin)
            {
                return null;
            }

            var join = StorageJoinRequest.Parse(body);
            joins.Enqueue(join);
            if (join.InitFlag)
            {
                // Still copying the state from its peer when the first JOIN came (EnsureStateAsync): ask again.
                return (Errno.EAGAIN, []);
            }

            if (join.Status < 0)
            {
                return (Errno.EFAULT, []);
            }

            var reply = new byte[StorageJoinResponse.Size];
            new StorageJoinResponse((StorageStatus)(byte)join.Status, "").Write(reply);
            return (Errno.Ok, reply);
        });

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", decider.Port), new TrackerAddress("127.0.0.1", leader.Port)],
        }, clock: clock);

        await decider.WaitForAsync(f => f.Any(x => x.Command == FdfsCommand.StorageSyncNotify), storage.Timeout, clock);
        await leader.WaitForAsync(f => f.Any(x => x.Command == FdfsCommand.StorageSyncNotify), storage.Timeout, clock);

        var accepted = joins.Last();
        Assert.False(accepted.InitFlag);
        Assert.Equal((sbyte)StorageStatus.Init, accepted.Status);
        var notify = SyncSourceBody.Parse(leader.Frames.First(f => f.Command == FdfsCommand.StorageSyncNotify).Body);
        Assert.Equal(SourceId, notify.SrcId);
        Assert.Equal(Until, notify.UntilTimestamp);
        // Only the decider was asked who gives us the old data.
        Assert.DoesNotContain(leader.Frames, f => f.Command == FdfsCommand.StorageSyncDestReq);
    }

    private static byte[] SourceBody()
    {
        var body = new byte[SyncSourceBody.Size];
        new SyncSourceBody(SourceId, Until).Write(body);
        return body;
    }
}
