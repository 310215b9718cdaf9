using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// A store path whose disk was replaced while the storage was stopped is filled again from a peer at the next start,
/// with stock's commands (GET_STATUS, REPORT_STATUS RECOVERY, FETCH_ONE_PATH_BINLOG, DOWNLOAD_FILE); the storage
/// serves and joins only once the path is whole.
/// </summary>
public sealed class DiskRecoveryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static Func<int, StorageConfig, StorageConfig> TwoPaths(long rate = 0) => (_, c) => TwoDisks(c) with
    {
        DiskRecoveryThreads = 3,
        DiskRecoveryRate = rate,
    };

    /// <summary>A storage with two store paths, <c>disk0</c> and <c>disk1</c> under its base path (each a "disk" of its own).</summary>
    internal static StorageConfig TwoDisks(StorageConfig c) =>
        c with { StorePaths = [new StorePath(Path.Combine(c.BasePath, "disk0")), new StorePath(Path.Combine(c.BasePath, "disk1"))] };

    private static string DataDir(TestCluster cluster, int storage, int path) => Path.Combine(cluster.StorageConfigs[storage].StorePaths[path].Path, "data");

    private static string FileOf(TestCluster cluster, int storage, FileId id) =>
        Path.Combine(DataDir(cluster, storage, Convert.ToInt32(id.LogicName[1..3], 16)), id.LogicName[4..]);

    /// <summary>Uploads files of mixed sizes (some changed, one deleted) and waits until both members serve them all.</summary>
    private static async Task<(Dictionary<FileId, byte[]> Files, FileId Deleted)> FillAsync(TestCluster cluster, FastDfsClient client, int count,
        CancellationToken ct)
    {
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < count; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i) % 200_000, i);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        var appender = await client.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(100, 7)), 100, "log", ct: ct);
        await client.AppendAsync(appender, "appended"u8.ToArray(), ct);
        files[appender] = [.. ReplicationCluster.RandomBytes(100, 7), .. "appended"u8.ToArray()];
        var deleted = files.Keys.First();
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, TimeSpan.FromSeconds(60), mutable: true);
        await client.DeleteAsync(deleted, ct);
        files.Remove(deleted);
        await Eventually.TrueAsync(() => Task.FromResult(!File.Exists(FileOf(cluster, 1, deleted))), TimeSpan.FromSeconds(20), "the delete on both", ct);
        return (files, deleted);
    }

    [Fact]
    public async Task A_store_path_emptied_while_stopped_is_recovered_from_a_peer_and_no_reader_is_sent_there_meanwhile()
    {
        var ct = Timeouts.Test(180);
        // A slow recovery (64 KB/s) so that the RECOVERY state can be watched.
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, TwoPaths(rate: 64 << 10));
        await using var client = cluster.CreateClient();
        var (files, deleted) = await FillAsync(cluster, client, 60, ct);
        var onLostPath = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
        Assert.True(onLostPath.Count >= 10, $"{onLostPath.Count} files on M01");
        var mtimes = onLostPath.ToDictionary(id => id, id => File.GetLastWriteTimeUtc(FileOf(cluster, 1, id)));

        var storage = cluster.Storages[1];
        string ip = storage.EndPoint.Address.ToString();
        int port = storage.EndPoint.Port;
        await storage.DisposeAsync();
        Directory.Delete(cluster.StorageConfigs[1].StorePaths[1].Path, recursive: true); // the new, empty disk

        var restart = cluster.RestartStorageAsync(1, ct: ct);
        bool sawRecovery = false, sawProgress = false;
        while (!restart.IsCompleted)
        {
            var stat = (await client.ListStoragesAsync("group1", ct: ct)).Single(s => s.IpAddr == ip && s.StoragePort == port);
            if (stat.Status == StorageStatus.Recovery)
            {
                sawRecovery = true;
                // The progress the storage reports (RECOVERY_PROGRESS), as `fdfs monitor` and the dashboard show it.
                var status = await client.Tracker.GetSyncStatusAsync("group1", ct);
                if (status.Recoveries.TryGetValue(stat.Id, out var progress))
                {
                    sawProgress = true;
                    Assert.Equal(1, progress.StorePathIndex);
                    Assert.Equal(onLostPath.Count, progress.FilesTotal);
                    Assert.InRange(progress.FilesDone, 0, progress.FilesTotal);
                    Assert.Contains("recovering a replaced disk", status.Reasons[stat.Id]);
                }

                // While it recovers, the tracker sends every reader of a file of the lost path to the peer.
                foreach (var id in onLostPath.Take(5))
                {
                    var readers = await client.Tracker.QueryFetchAllAsync(id, ct);
                    Assert.DoesNotContain(readers, r => r.Ip == ip && r.Port == port);
                }
            }

            await Task.WhenAny(restart, Task.Delay(50, ct));
        }

        await restart;
        Assert.True(sawRecovery, "the storage was never seen in RECOVERY");
        Assert.True(sawProgress, "the tracker never had the recovery's progress");
        var result = Assert.Single(cluster.Storages[1].Recoveries);
        output.WriteLine($"recovered {result.Files} files, {result.Bytes} bytes in {result.Elapsed}");
        Assert.Equal(1, result.StorePathIndex);
        Assert.Equal(onLostPath.Count, result.Files);
        await cluster.WaitForActiveAsync(2, ct);

        foreach (var id in onLostPath)
        {
            Assert.Equal(files[id], await File.ReadAllBytesAsync(FileOf(cluster, 1, id), ct));
            Assert.Equal(mtimes[id], File.GetLastWriteTimeUtc(FileOf(cluster, 1, id)));
        }

        Assert.False(File.Exists(FileOf(cluster, 1, deleted)));
        Assert.Empty(Directory.EnumerateFiles(DataDir(cluster, 1, 1), ".*recovery*"));
        // Both members serve everything, and a new upload replicates as before.
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, mutable: true);
        var later = await client.UploadAsync("after the recovery"u8.ToArray(), "txt", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [later] = "after the recovery"u8.ToArray() }, ct);
    }

    [Fact]
    public async Task A_foreign_disk_is_recovered_over_an_interrupted_recovery_resumes_and_swapped_disks_stop_the_start()
    {
        var ct = Timeouts.Test(180);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, TwoPaths());
        await using var client = cluster.CreateClient();
        var (files, _) = await FillAsync(cluster, client, 40, ct);
        var onLostPath = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();

        // Swapped disks: refused with a message that says so, nothing changed.
        await cluster.Storages[1].DisposeAsync();
        string disk0 = cluster.StorageConfigs[1].StorePaths[0].Path, disk1 = cluster.StorageConfigs[1].StorePaths[1].Path;
        string vars0 = Path.Combine(disk0, "data", ".fastdfs_vars"), vars1 = Path.Combine(disk1, "data", ".fastdfs_vars");
        byte[] mark0 = await File.ReadAllBytesAsync(vars0, ct), mark1 = await File.ReadAllBytesAsync(vars1, ct);
        await File.WriteAllBytesAsync(vars0, mark1, ct);
        await File.WriteAllBytesAsync(vars1, mark0, ct);
        var swapped = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.RestartStorageAsync(1, ct: ct));
        Assert.Contains("swapped", swapped.Message);
        await File.WriteAllBytesAsync(vars0, mark0, ct);

        // A foreign disk: another storage's mark and none of our files.
        Directory.Delete(disk1, recursive: true);
        Directory.CreateDirectory(Path.Combine(disk1, "data"));
        await File.WriteAllTextAsync(vars1, "store_path_mark=" + new string('Q', 75) + "\n", ct);

        // The first start is stopped right after it began fetching; the second one resumes and completes.
        using (var interrupt = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            var first = cluster.RestartStorageAsync(1, c => c with { DiskRecoveryRate = 16 << 10, DiskRecoveryThreads = 1 }, interrupt.Token);
            await Eventually.TrueAsync(() => Task.FromResult(Directory.EnumerateFiles(Path.Combine(disk1, "data"), ".recovery.mark.*").Any()),
                TimeSpan.FromSeconds(30), "the recovery under way", ct);
            await Task.Delay(500, ct);
            interrupt.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }

        Assert.True(File.Exists(Path.Combine(disk1, "data", ".recovery.flag")), "the interrupted recovery left no state to resume");
        // A worker's list lost as well (deleted by hand, or left by stock with another thread count): the list is fetched again.
        File.Delete(Path.Combine(disk1, "data", ".binlog.recovery.0"));
        await cluster.RestartStorageAsync(1, c => c with { DiskRecoveryRate = 0 }, ct);
        await cluster.WaitForActiveAsync(2, ct);
        foreach (var id in onLostPath)
        {
            Assert.Equal(files[id], await File.ReadAllBytesAsync(FileOf(cluster, 1, id), ct));
        }

        Assert.False(File.Exists(Path.Combine(disk1, "data", ".recovery.flag")));
    }

    [Fact]
    public async Task With_two_peers_the_workers_fetch_from_both_and_an_appender_replicated_whole_is_recovered_too()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct, TwoPaths());
        await using var client = cluster.CreateClient();
        var (files, _) = await FillAsync(cluster, client, 40, ct);
        var onLostPath = files.Keys.Where(id => id.LogicName.StartsWith("M01/", StringComparison.Ordinal)).ToList();
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, mutable: true);

        await cluster.Storages[2].DisposeAsync();
        Directory.Delete(cluster.StorageConfigs[2].StorePaths[1].Path, recursive: true);
        await cluster.RestartStorageAsync(2, ct: ct);
        var result = Assert.Single(cluster.Storages[2].Recoveries);
        output.WriteLine($"{result}");
        Assert.Equal(onLostPath.Count, result.Files);
        Assert.Equal(2, result.Source!.Split(", ").Length);
        Assert.Equal(result.Files, result.Batched); // our peers answer FETCH_FILES: many files per request
        foreach (var id in onLostPath)
        {
            var copy = Path.Combine(DataDir(cluster, 2, 1), id.LogicName[4..]);
            Assert.Equal(files[id], await File.ReadAllBytesAsync(copy, ct));
        }

        await cluster.WaitForActiveAsync(3, ct);
    }
}
