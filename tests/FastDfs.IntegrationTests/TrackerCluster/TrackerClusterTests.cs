using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.IntegrationTests.TrackerCluster;

/// <summary>Three trackers, two storages: one leader, failover under load, restarts, storage ids (issue 8).</summary>
public sealed class TrackerClusterTests
{
    [Fact]
    public async Task ThreeTrackers_OneLeader_KilledLeaderReplacedUnder5s_NoFailedClientOp_OldLeaderFollows()
    {
        var ct = Timeouts.Test(120);
        await using var set = await TrackerSet.StartAsync(3, 2, ct);
        await set.WaitForActiveAsync(2, ct);
        string leader = await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);
        int leaderIndex = set.IndexOf(leader);
        Assert.InRange(leaderIndex, 0, 2);

        await using var client = set.CreateClient();
        var failures = new ConcurrentQueue<string>();
        int operations = 0;
        using var stopLoop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Run(async () =>
        {
            while (!stopLoop.IsCancellationRequested)
            {
                byte[] content = RandomNumberGenerator.GetBytes(100 + Random.Shared.Next(4000));
                try
                {
                    var id = await client.UploadAsync(content, "bin", ct: ct);
                    if (!(await client.DownloadBytesAsync(id, ct: ct)).AsSpan().SequenceEqual(content))
                    {
                        failures.Enqueue($"{id}: content differs");
                    }

                    Interlocked.Increment(ref operations);
                }
                catch (FastDfsException e)
                {
                    failures.Enqueue(e.Message);
                }
            }
        }, ct);

        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref operations) >= 5), TimeSpan.FromSeconds(20), "client traffic", ct);
        var sinceKill = Stopwatch.StartNew();
        await set.KillTrackerAsync(leaderIndex);
        string next = await set.WaitForLeaderAsync(TimeSpan.FromSeconds(5), ct);
        var failover = sinceKill.Elapsed;
        Assert.NotEqual(leader, next);
        Assert.True(failover < TimeSpan.FromSeconds(5), $"new leader after {failover.TotalSeconds:F1}s");

        int atFailover = Volatile.Read(ref operations);
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref operations) >= atFailover + 10), TimeSpan.FromSeconds(20),
            "client traffic after the failover", ct);
        await stopLoop.CancelAsync();
        await loop;
        Assert.Empty(failures);

        // fdfs monitor's tracker section: the dead tracker unreachable, one leader, the other following it.
        var states = await FastDfs.Cli.Commands.TrackerClusterSection.QueryAsync(client.Options, ct);
        Assert.Equal("unreachable", states[leaderIndex].Role);
        Assert.Equal(next, Assert.Single(states, t => t.Role == "leader").Tracker.ToString());
        Assert.Equal($"follower of {next}", Assert.Single(states, t => t.Role == "follower").Detail);
        Assert.Contains($"leader: {next}", FastDfs.Cli.Commands.TrackerClusterSection.Format(states));

        // The old leader comes back on its data and port, finds the new leader and follows it.
        await set.StartTrackerAsync(leaderIndex, ct);
        await Eventually.TrueAsync(() => Task.FromResult(set.Trackers[leaderIndex]!.LeaderAddress == next && set.AgreedLeader() == next),
            TimeSpan.FromSeconds(20), "the old leader to follow the new one", ct);
        Assert.False(set.Trackers[leaderIndex]!.IsLeader);
        await set.WaitForActiveAsync(2, ct);
    }

    [Fact]
    public async Task RestartingEveryTracker_KeepsGroupsStoragesStatesAndFileCounts()
    {
        var ct = Timeouts.Test(120);
        await using var set = await TrackerSet.StartAsync(3, 2, ct);
        await set.WaitForActiveAsync(2, ct);
        await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);
        await using (var client = set.CreateClient())
        {
            for (int i = 0; i < 6; i++)
            {
                await client.UploadAsync(RandomNumberGenerator.GetBytes(2000), "txt", ct: ct);
            }
        }

        // Every tracker has the counts from the storages' beats.
        await Eventually.TrueAsync(async () => (await SnapshotAllAsync(set, ct)).All(s => s.Uploads == 6), TimeSpan.FromSeconds(20),
            "6 uploads counted by every tracker", ct);
        var before = await SnapshotAllAsync(set, ct);

        for (int i = 0; i < 3; i++)
        {
            await set.StopTrackerAsync(i, ct);
        }

        foreach (string file in new[] { "storage_groups_new.dat", "storage_servers_new.dat", "storage_sync_timestamp.dat", "storage_changelog.dat", ".tracker_status" })
        {
            Assert.True(File.Exists(Path.Combine(set.Root, "tracker0", "data", file)), file);
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(set.Root, "tracker0", "data"), "*.tmp"));
        for (int i = 0; i < 3; i++)
        {
            await set.StartTrackerAsync(i, ct);
        }

        // Known at once, before any storage re-joined: the group, both storages and their counts.
        var atStart = await SnapshotAllAsync(set, ct);
        Assert.All(atStart, s => Assert.Equal((before[0].Storages.Length, 6L), (s.Storages.Length, s.Uploads)));

        await set.WaitForActiveAsync(2, ct);
        await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);
        var after = await SnapshotAllAsync(set, ct);
        Assert.Equal(before.Select(s => s.Text), after.Select(s => s.Text));
    }

    [Fact]
    public async Task A_tracker_whose_data_is_lost_copies_the_moved_files_map_from_a_peer()
    {
        var ct = Timeouts.Test(120);
        // Two trackers, group1 and group2 (one storage each); a file of group1 moved to group2 through both trackers.
        await using var set = await TrackerSet.StartAsync(2, 2, ct, configureStorage: (i, c) => c with { BindAddr = $"127.0.0.{i + 2}" });
        await set.WaitForActiveAsync(2, ct);
        await set.WaitForLeaderAsync(TimeSpan.FromSeconds(20), ct);
        byte[] content = RandomNumberGenerator.GetBytes(3000);
        FileId id;
        await using (var client = set.CreateClient())
        {
            id = await client.UploadAsync(content, "bin", group: "group1", ct: ct);
            var output = new StringWriter();
            int exit = await Cli.CliApp.InvokeAsync(["rebalance", "group1", "group2", "--share", "100%", "--grace", "0",
                "--journal", Path.Combine(set.Root, "move.journal"), .. set.TrackerAddresses.SelectMany(t => new[] { "--tracker", t })], output, output, ct);
            Assert.True(exit == 0, output.ToString());
        }

        // Tracker 1 loses its data folder and starts empty: it copies the state files and the map from tracker 0.
        await set.StopTrackerAsync(1, ct);
        Directory.Delete(Path.Combine(set.Root, "tracker1", "data"), recursive: true);
        await set.StartTrackerAsync(1, ct);
        await set.WaitForActiveAsync(2, ct);
        Assert.True(File.Exists(Path.Combine(set.Root, "tracker1", "data", "moved_files.dat")));
        await using var alone = set.ClientOf(1);
        Assert.Equal("127.0.0.3", (await alone.Tracker.QueryFetchAsync(id, ct)).Ip); // group2's storage
        Assert.Equal(content, await alone.DownloadBytesAsync(id, ct: ct));
    }

    [Fact]
    public async Task StorageIds_AStorageMovingTo127002_StaysTheSameActiveMember_AndEveryFileIsReadable()
    {
        var ct = Timeouts.Test(90);
        string idsDirectory = Path.Combine(Path.GetTempPath(), "fdfs-ids-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(idsDirectory);
        string idsFile = Path.Combine(idsDirectory, "storage_ids.conf");
        // The entry lists both addresses the storage may join from (an id joins only from a listed address).
        await File.WriteAllTextAsync(idsFile, "# id group ip\n100001 group1 127.0.0.1,127.0.0.2\n100002 group1 127.0.0.3\n", ct);
        try
        {
            await using var set = await TrackerSet.StartAsync(1, 1, ct,
                c => c with { UseStorageId = true, IdTypeInFilename = FileNameIdType.Id, StorageIdsFilename = idsFile },
                (_, s) => s with { ServerId = "100001" });
            await set.WaitForActiveAsync(1, ct);
            await using var client = set.CreateClient();
            var files = new Dictionary<FileId, byte[]>();
            for (int i = 0; i < 5; i++)
            {
                byte[] content = RandomNumberGenerator.GetBytes(500 + i);
                files[await client.UploadAsync(content, "dat", ct: ct)] = content;
            }

            Assert.All(files.Keys, id =>
            {
                var name = FastDfsClient.DecodeName(id);
                Assert.True(name.SourceIsStorageId);
                Assert.Equal("100001", name.Source);
            });

            await set.StopStorageAsync(0, ct);
            await set.RestartStorageAsync(0, s => s with { BindAddr = "127.0.0.2" }, ct);
            await Eventually.TrueAsync(async () =>
            {
                var storages = await client.Tracker.ListStoragesAsync("group1", ct: ct);
                return storages is [{ Id: "100001", IpAddr: "127.0.0.2", Status: StorageStatus.Active }];
            }, TimeSpan.FromSeconds(30), "storage 100001 ACTIVE at 127.0.0.2 and alone in group1", ct);

            foreach (var (id, content) in files)
            {
                Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
            }

            var fetched = await client.Tracker.QueryFetchAsync(files.Keys.First(), ct);
            Assert.Equal("127.0.0.2", fetched.Ip);

            // The tracker serves the id list (FETCH_STORAGE_IDS) in stock's line format.
            var ids = await client.Tracker.ExchangeAsync(FdfsCommand.StorageFetchStorageIds, new byte[] { 0, 0, 0, 0, 0 }, ct);
            Assert.Equal("100001 group1 127.0.0.1,127.0.0.2\n100002 group1 127.0.0.3\n", System.Text.Encoding.ASCII.GetString(ids, 8, ids.Length - 8));
        }
        finally
        {
            Directory.Delete(idsDirectory, recursive: true);
        }
    }

    private sealed record Snapshot(string Text, StorageStat[] Storages, long Uploads);

    /// <summary>What `fdfs monitor` shows per tracker: groups, storages (id, status) and file counts.</summary>
    private static async Task<List<Snapshot>> SnapshotAllAsync(TrackerSet set, CancellationToken ct)
    {
        var list = new List<Snapshot>();
        foreach (int i in set.Running)
        {
            await using var client = set.ClientOf(i);
            var groups = await client.Tracker.ListGroupsAsync(ct);
            var storages = new List<StorageStat>();
            foreach (var group in groups)
            {
                storages.AddRange(await client.Tracker.ListStoragesAsync(group.GroupName, ct: ct));
            }

            long uploads = storages.Sum(s => s.Counters[StorageStatCounters.Counter.SuccessUploadCount]);
            string text = string.Join("; ", groups.Select(g => $"{g.GroupName} storages={g.StorageCount} readable={g.ReadableServerCount}")) + " | " +
                string.Join("; ", storages.Select(s =>
                    $"{s.Id} {s.Status} uploads={s.Counters[StorageStatCounters.Counter.SuccessUploadCount]}/{s.Counters[StorageStatCounters.Counter.TotalUploadCount]}"));
            list.Add(new Snapshot(text, storages.ToArray(), uploads));
        }

        return list;
    }
}
