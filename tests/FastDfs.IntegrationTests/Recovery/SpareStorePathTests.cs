using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>A spare disk takes the place of a store path whose disk fails, with no human action, and is refilled from the peer.</summary>
public sealed class SpareStorePathTests
{
    [Fact]
    public async Task A_spare_takes_over_a_failed_disk_is_refilled_from_the_peer_and_stays_in_place_after_a_restart()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (i, c) => DiskRecoveryTests.TwoDisks(c) with
        {
            SpareStorePaths = i == 0 ? [Path.Combine(c.BasePath, "spare")] : [],
            StorePathCheckInterval = 1,
        });
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 40; i++)
        {
            var content = ReplicationCluster.RandomBytes(500 + i * 53, i + 700);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        var onDisk1 = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(onDisk1);

        var storage = cluster.Storages[0];
        string spare = Path.Combine(cluster.StorageConfigs[0].BasePath, "spare");
        string disk1Data = Path.Combine(cluster.StorageConfigs[0].StorePaths[1].Path, "data");
        Directory.Move(disk1Data, disk1Data + ".gone"); // the disk fails (its mount vanishes)

        await Eventually.TrueAsync(() => Task.FromResult(storage.Context.Paths[1].Root == spare && storage.Context.Paths[1].Failure is null),
            TimeSpan.FromSeconds(60), "the spare in place and refilled", ct);
        foreach (var id in onDisk1)
        {
            Assert.Equal(files[id], await File.ReadAllBytesAsync(Path.Combine(spare, "data", id.LogicName[4..]), ct));
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(spare, "data"), "*recovery*"));
        string ip = storage.EndPoint.Address.ToString();
        int port = storage.EndPoint.Port;
        await Eventually.TrueAsync(async () => (await client.Tracker.QueryFetchAllAsync(onDisk1[0], ct)).Any(e => e.Ip == ip && e.Port == port),
            TimeSpan.FromSeconds(20), "the tracker offering the path again", ct);

        // The takeover is kept: after a restart the path is still on the spare and serves its files.
        await cluster.RestartStorageAsync(0, ct: ct);
        Assert.Equal(spare, cluster.Storages[0].Context.Paths[1].Root);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
    }
}
