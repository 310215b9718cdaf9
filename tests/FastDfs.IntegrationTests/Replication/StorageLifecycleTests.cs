using System.IO.Hashing;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Hosting;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>Crash and catch-up, a new member getting a full copy, deleting a member (spec 11, 12.5).</summary>
public sealed class StorageLifecycleTests
{
    [Fact]
    public async Task KilledStorageCatchesUpAfterRestartWithNothingLostOrCorrupt()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        int failures = 0;
        for (int i = 0; i < 240; i++)
        {
            if (i == 80)
            {
                // Crash mid-stream: no final fsync, no mark or stat write, connections dropped.
                await cluster.Storages[2].KillAsync();
            }

            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i);
            try
            {
                files[await client.UploadAsync(content, "bin", ct: ct)] = content;
            }
            catch (FastDfsException)
            {
                // The upload that hit the dying storage is not acknowledged: it may or may not exist.
                failures++;
            }
        }

        Assert.True(failures <= 5, $"{failures} failed uploads");
        await cluster.RestartStorageAsync(2, ct: ct);
        await cluster.WaitForActiveAsync(3, ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, TimeSpan.FromSeconds(30));
        await AssertSameIntactFilesAsync(cluster, client, files.Count, ct);
    }

    [Fact]
    public async Task NewEmptyStorageGetsAFullCopyAndWalksTheStates()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 120; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        var deleted = files.Keys.First();
        await client.DeleteAsync(deleted, ct);
        files.Remove(deleted);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);

        var seen = new List<StorageStatus>();
        var newcomer = await cluster.AddStorageAsync(c => ReplicationCluster.Configure(2, c), ct);
        await Eventually.TrueAsync(async () =>
        {
            var stat = (await client.ListStoragesAsync("group1", ct: ct))
                .SingleOrDefault(s => s.IpAddr == ReplicationCluster.AddressOf(2));
            if (stat is not null && (seen.Count == 0 || seen[^1] != stat.Status))
            {
                seen.Add(stat.Status);
            }

            return stat?.Status == StorageStatus.Active;
        }, TimeSpan.FromSeconds(30), "the new storage ACTIVE", ct);

        Assert.All(seen, s => Assert.Contains(s, new[]
        {
            StorageStatus.Init, StorageStatus.WaitSync, StorageStatus.Syncing, StorageStatus.Offline, StorageStatus.Online, StorageStatus.Active,
        }));
        var stat = await ReplicationCluster.StatOfAsync(client, newcomer, ct);
        Assert.Contains(stat.SrcId, new[] { ReplicationCluster.AddressOf(0), ReplicationCluster.AddressOf(1) });
        await ReplicationCluster.AllServeAsync(client, [newcomer], files, ct);
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, newcomer, deleted, ct));

        // Uploads after the join reach it too, from every source.
        var later = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 9; i++)
        {
            var content = ReplicationCluster.RandomBytes(100 + i, 1000 + i);
            later[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, later, ct);
    }

    [Fact]
    public async Task DeletedStorageLeavesTheGroupAndPeersDropItsMark()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();
        var id = await client.UploadAsync(ReplicationCluster.RandomBytes(100, 1), "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [id] = ReplicationCluster.RandomBytes(100, 1) }, ct);
        string markOfGone = Path.Combine(cluster.StorageConfigs[0].BasePath, "data", "sync",
            $"{ReplicationCluster.AddressOf(2)}_{cluster.Storages[2].EndPoint.Port}.mark");
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(markOfGone)), TimeSpan.FromSeconds(10), "the peer's mark file", ct);

        await cluster.Storages[2].StopAsync(ct);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await client.Tracker.DeleteStorageAsync("group1", ReplicationCluster.AddressOf(2), ct);
                return true;
            }
            catch (FastDfsException e) when (e.ErrorCode == Errno.EBUSY)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the stopped storage deletable", ct);

        await Eventually.TrueAsync(() => Task.FromResult(!File.Exists(markOfGone)), TimeSpan.FromSeconds(10), "the mark file removed", ct);
        var stat = (await client.ListStoragesAsync("group1", ct: ct)).Single(s => s.IpAddr == ReplicationCluster.AddressOf(2));
        Assert.Equal(StorageStatus.Deleted, stat.Status);
        var more = await client.UploadAsync(ReplicationCluster.RandomBytes(50, 2), "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages.Take(2).ToList(), new Dictionary<FileId, byte[]> { [more] = ReplicationCluster.RandomBytes(50, 2) }, ct);
    }

    [Fact]
    public async Task StorageThatCannotProgressSaysWhyAndRecoversWhenItsSourceReturns()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(1, ct);
        await using var client = cluster.CreateClient();
        var content = ReplicationCluster.RandomBytes(2000, 5);
        var id = await client.UploadAsync(content, "bin", ct: ct);
        await cluster.Storages[0].StopAsync(ct);

        // The only member with data is down: the new storage cannot get its copy, and says so.
        var newcomer = await cluster.AddStorageAsync(c => ReplicationCluster.Configure(1, c), ct);
        string newId = ReplicationCluster.AddressOf(1);
        await Eventually.TrueAsync(async () =>
        {
            var status = await client.Tracker.GetSyncStatusAsync("group1", ct);
            return status.Reasons.TryGetValue(newId, out var reason) && reason.Contains("ENOENT", StringComparison.Ordinal) &&
                   status.Reasons.TryGetValue(ReplicationCluster.AddressOf(0), out var down) && down.Contains("not connected", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(15), "the reasons of the INIT and OFFLINE storages", ct);
        Assert.Equal(StorageStatus.Init, (await ReplicationCluster.StatOfAsync(client, newcomer, ct)).Status);

        await cluster.RestartStorageAsync(0, ct: ct);
        await cluster.WaitForActiveAsync(2, ct);
        Assert.Equal(content, await ReplicationCluster.TryDownloadAsync(client, newcomer, id, ct));
        var final = await client.Tracker.GetSyncStatusAsync("group1", ct);
        Assert.DoesNotContain(newId, final.Reasons.Keys);
        Assert.Contains(final.Lags, l => l.DestId == newId && l.SrcId == ReplicationCluster.AddressOf(0));
    }

    /// <summary>Every member holds the same set of data files, each matching the size and CRC32 in its name.</summary>
    private static async Task AssertSameIntactFilesAsync(TestCluster cluster, FastDfsClient client, int atLeast, CancellationToken ct)
    {
        HashSet<string>? first = null;
        foreach (var config in cluster.StorageConfigs)
        {
            string data = Path.Combine(config.BasePath, "data");
            var names = new HashSet<string>();
            foreach (string dir in Directory.EnumerateDirectories(data, "??"))
            {
                foreach (string file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                {
                    string name = Path.GetFileName(file);
                    if (name.StartsWith('.'))
                    {
                        continue;
                    }

                    var decoded = FileNameCodec.Decode("M00/00/00/" + name);
                    byte[] bytes = await File.ReadAllBytesAsync(file, ct);
                    Assert.Equal(decoded.FileSize, bytes.Length);
                    Assert.Equal(decoded.Crc32, Crc32.HashToUInt32(bytes));
                    names.Add(Path.GetRelativePath(data, file));
                }
            }

            Assert.True(names.Count >= atLeast, $"{config.BasePath}: {names.Count} files");
            first ??= names;
            Assert.Equal(first.Order(), names.Order());
        }

        await Task.CompletedTask;
    }
}
