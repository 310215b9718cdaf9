using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// A store path whose disk goes away while its storage runs: the storage tells the tracker (STORE_PATH_HEALTH), which
/// sends readers of that path's files to the other member; the storage keeps serving its other path and taking uploads.
/// </summary>
public sealed class FailedDiskRoutingTests
{
    [Fact]
    public async Task Readers_of_a_failed_paths_files_are_sent_to_the_peer_and_come_back_when_the_disk_does()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => DiskRecoveryTests.TwoDisks(c) with
        {
            StorePathCheckInterval = 1,
        });
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 30; i++)
        {
            var content = ReplicationCluster.RandomBytes(1000 + i * 37, i + 300);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        var onDisk1 = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
        var onDisk0 = files.Keys.Where(id => id.LogicName.StartsWith("M00/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(onDisk1);
        Assert.NotEmpty(onDisk0);

        var failing = cluster.Storages[0];
        string ip = failing.EndPoint.Address.ToString();
        int port = failing.EndPoint.Port;
        string data1 = Path.Combine(cluster.StorageConfigs[0].StorePaths[1].Path, "data");
        Directory.Move(data1, data1 + ".gone"); // the disk's mount is gone

        async Task<bool> OffersFailingAsync(FileId id) =>
            (await client.Tracker.QueryFetchAllAsync(id, ct)).Any(e => e.Ip == ip && e.Port == port);
        await Eventually.TrueAsync(async () => !await OffersFailingAsync(onDisk1[0]), TimeSpan.FromSeconds(20), "the tracker to stop offering the failed path", ct);

        // Every file of the failed path is read through the tracker, round robin included; the other path still is offered.
        foreach (var id in onDisk1)
        {
            Assert.False(await OffersFailingAsync(id));
            for (int round = 0; round < 2; round++)
            {
                Assert.Equal(files[id], await client.DownloadBytesAsync(id, ct: ct));
            }
        }

        Assert.True(await OffersFailingAsync(onDisk0[0]));
        var stat = (await client.ListStoragesAsync("group1", ct: ct)).Single(s => s.IpAddr == ip && s.StoragePort == port);
        Assert.Equal([1], (await client.Tracker.GetSyncStatusAsync("group1", ct)).FailedPaths[stat.Id]);
        var later = await ReplicationCluster.Direct(client, failing).UploadAsync(new MemoryStream("still writable"u8.ToArray()), 14, "txt", ct: ct);
        Assert.StartsWith("M00/", later.LogicName);

        Directory.Move(data1 + ".gone", data1);
        await Eventually.TrueAsync(() => OffersFailingAsync(onDisk1[0]), TimeSpan.FromSeconds(20), "the path back in service", ct);
    }
}
