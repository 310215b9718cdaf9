using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.TrackerCluster;

/// <summary>A spare storage with two trackers: the leader chooses its place, the follower takes the choice over.</summary>
public sealed class SpareStorageClusterTests
{
    [Fact]
    public async Task The_leader_gives_the_place_and_every_tracker_retires_the_missing_member()
    {
        var ct = Timeouts.Test(120);
        await using var set = await TrackerSet.StartAsync(2, 2, ct, t => t with { SpareStorageTakeoverTime = 3 },
            (i, c) => ReplicationCluster.Configure(i, c) with { GroupName = "group1" });
        await set.WaitForActiveAsync(2, ct);
        await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);
        await using var client = set.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 20; i++)
        {
            var content = ReplicationCluster.RandomBytes(3000 + i * 101, i + 2100);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, [set.Storages[0]!, set.Storages[1]!], files, ct);
        var spareStart = set.AddStorageAsync(c => ReplicationCluster.Configure(2, c) with
        {
            GroupName = null,
            SpareStorage = true,
            Port = FreePorts.On(ReplicationCluster.AddressOf(2)),
        }, ct);
        await set.StopStorageAsync(1, ct);
        var spare = await spareStart.WaitAsync(TimeSpan.FromSeconds(60), ct);

        string gone = ReplicationCluster.AddressOf(1);
        foreach (int t in set.Running)
        {
            await using var only = set.ClientOf(t);
            await Eventually.TrueAsync(async () =>
            {
                var members = await only.ListStoragesAsync("group1", ct: ct);
                return members.Single(s => s.Id == gone).Status == StorageStatus.Deleted &&
                    members.FirstOrDefault(s => s.IpAddr == ReplicationCluster.AddressOf(2))?.Status == StorageStatus.Active;
            }, TimeSpan.FromSeconds(30), $"tracker {t}: the member retired and the spare ACTIVE", ct);
        }

        await ReplicationCluster.AllServeAsync(client, [set.Storages[0]!, spare], files, ct, TimeSpan.FromSeconds(60));
    }
}
