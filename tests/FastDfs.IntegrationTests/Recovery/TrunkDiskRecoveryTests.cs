using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.IntegrationTests.Trunk;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// Trunk mode: a lost store path gets its trunk containers back whole from the peer (as stock copies them), so every
/// trunk-stored file on it reads again, byte-identical; the other files of the path come back as in any recovery.
/// </summary>
public sealed class TrunkDiskRecoveryTests
{
    [Fact]
    public async Task The_trunk_containers_of_a_lost_store_path_are_copied_from_the_peer_and_every_trunk_stored_file_reads_again()
    {
        var ct = Timeouts.Test(180);
        await using var cluster = await TestCluster.StartAsync(2, tracker => TrunkTesting.WithTrunk(tracker, 1 << 20),
            (i, c) => DiskRecoveryTests.TwoDisks(ReplicationCluster.Configure(i, c)) with { DiskRecoveryThreads = 2 }, ct);
        await using var client = cluster.CreateClient();
        await Eventually.TrueAsync(() => Task.FromResult(cluster.Storages.Any(s => TrunkTesting.Role(s) == Storage.Trunk.TrunkServerRole.Self)),
            TimeSpan.FromSeconds(40), "a trunk server", ct);
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 120; i++)
        {
            // Mostly trunk-stored (up to slot_max_size), some too large for a slot: plain files.
            int size = i % 10 == 9 ? TrunkTesting.SlotMaxSize * 2 : 100 + i * 397 % (TrunkTesting.SlotMaxSize - 200);
            var content = ReplicationCluster.RandomBytes(size, i + 4100);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, TimeSpan.FromSeconds(60));
        // The path with the most trunk-stored files is the one whose disk is replaced.
        int lost = files.Keys.Where(TrunkTesting.IsTrunk).GroupBy(id => id.LogicName[..3]).MaxBy(g => g.Count())!.Key == "M00" ? 0 : 1;
        var onLost = files.Keys.Where(id => id.LogicName.StartsWith($"M{lost:X2}/", StringComparison.Ordinal)).ToList();
        Assert.True(onLost.Count(TrunkTesting.IsTrunk) >= 20, $"{onLost.Count(TrunkTesting.IsTrunk)} trunk-stored files on M{lost:X2}");

        await cluster.Storages[1].DisposeAsync();
        Directory.Delete(cluster.StorageConfigs[1].StorePaths[lost].Path, recursive: true);
        var restarted = await cluster.RestartStorageAsync(1, ct: ct);
        var result = Assert.Single(restarted.Recoveries);
        Assert.Equal(lost, result.StorePathIndex);
        Assert.Equal(0, result.Missing);
        await cluster.WaitForActiveAsync(2, ct);

        foreach (var id in onLost)
        {
            Assert.Equal(files[id], await ReplicationCluster.TryDownloadAsync(client, restarted, id, ct));
        }

        // Uploads go on, replicated to the recovered storage.
        var later = ReplicationCluster.RandomBytes(5000, 9);
        var laterId = await client.UploadAsync(later, "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [laterId] = later }, ct);
    }
}
