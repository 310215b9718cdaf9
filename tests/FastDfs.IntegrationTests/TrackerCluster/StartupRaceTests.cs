using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol;
using FastDfs.Tracker.Peers;

namespace FastDfs.IntegrationTests.TrackerCluster;

/// <summary>
/// Two trackers starting together (seen in SeedTopologyTests and SpareStorageClusterTests under load): a new storage's
/// SYNC_DEST_REQ was answered by a tracker that followed no leader yet, and the storage's first JOIN to the other
/// tracker came only afterwards. That tracker, which had never heard of the storage, won the election.
/// </summary>
public sealed class StartupRaceTests
{
    [Fact]
    public async Task A_storage_whose_source_a_leaderless_tracker_chose_joins_the_leader_that_never_heard_of_it()
    {
        var ct = Timeouts.Test(120);
        await using var set = await TrackerSet.StartAsync(2, 1, ct,
            configureStorage: (i, c) => ReplicationCluster.Configure(i, c) with { GroupName = "group1" });
        await set.WaitForActiveAsync(1, ct);
        // Both trackers have run for less than 300 s (the election's unit): the higher port wins, as in a fresh start.
        int leader = set.Trackers[0]!.EndPoint.Port > set.Trackers[1]!.EndPoint.Port ? 0 : 1, decider = 1 - leader;
        var leaderPeer = new TrackerPeer("127.0.0.1", set.Trackers[leader]!.EndPoint.Port);
        await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);

        // The would-be leader is not up yet, and the decider follows no leader: it waits for a commit that does not come
        // (NOTIFY_NEXT_LEADER without COMMIT), as between the two steps of an election, and answers SYNC_DEST_REQ itself.
        await set.StopTrackerAsync(leader, ct);
        var peers = set.Trackers[decider]!.Runtime.Peers;
        using var keepLeaderless = new CancellationTokenSource();
        peers.NotifyNextLeader(leaderPeer);
        peers.SetLeader(null, "test: no leader elected yet");
        var leaderless = Task.Run(async () =>
        {
            while (!keepLeaderless.IsCancellationRequested)
            {
                peers.NotifyNextLeader(leaderPeer);
                await Task.Delay(500, CancellationToken.None);
            }
        }, CancellationToken.None);

        try
        {
            // The new storage: the decider gives it the first member as its source.
            var added = await set.AddStorageAsync(c => ReplicationCluster.Configure(1, c) with { GroupName = "group1" }, ct);
            await using (var client = set.ClientOf(decider))
            {
                await Eventually.TrueAsync(async () => (await client.ListStoragesAsync("group1", ct: ct))
                    .Any(s => s.IpAddr == ReplicationCluster.AddressOf(1) && s.Status == StorageStatus.WaitSync),
                    TimeSpan.FromSeconds(20), "the decider to set the new storage WAIT_SYNC", ct);
            }

            Assert.Null(set.Trackers[decider]!.LeaderAddress);

            // The leader comes up with its state from before the new storage (before the decider may elect alone).
            await set.StartTrackerAsync(leader, ct);
        }
        finally
        {
            await keepLeaderless.CancelAsync();
            await leaderless;
        }

        // It wins the election; the new storage must join it too and be filled by its source.
        Assert.Equal(leaderPeer.HostPort, await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct));
        await set.WaitForActiveAsync(2, ct, TimeSpan.FromSeconds(30));
    }
}
