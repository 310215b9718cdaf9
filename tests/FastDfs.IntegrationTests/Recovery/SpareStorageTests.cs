using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.Replication;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests.Recovery;

/// <summary>
/// A spare storage (spare_storage = true, no group) waits until a member of a group stays OFFLINE for
/// spare_storage_takeover_time, takes its place with no human action, gets a full copy and becomes ACTIVE.
/// </summary>
public sealed class SpareStorageTests
{
    [Fact]
    public async Task A_spare_storage_takes_the_place_of_a_member_that_stays_offline_gets_every_file_and_keeps_its_group()
    {
        var ct = Timeouts.Test(180);
        await using var cluster = await TestCluster.StartAsync(2, t => t with { SpareStorageTakeoverTime = 3 }, ReplicationCluster.Configure, ct, http: true);
        using var http = new HttpClient { BaseAddress = cluster.TrackerHttp };
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 40; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i) % 300_000, i + 900);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        var appender = await client.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(100, 1)), 100, "log", ct: ct);
        await client.AppendAsync(appender, "more"u8.ToArray(), ct);
        files[appender] = [.. ReplicationCluster.RandomBytes(100, 1), .. "more"u8.ToArray()];
        var withMetadata = files.Keys.First();
        await client.SetMetadataAsync(withMetadata, [new("owner", "spare-test")], MetadataOp.Overwrite, ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, mutable: true);

        // The spare starts with no group; it waits (reported to the tracker) while both members are up.
        var spareStart = cluster.AddStorageAsync(c => ReplicationCluster.Configure(2, c) with
        {
            SpareStorage = true,
            GroupName = null,
            Port = FreePorts.On(ReplicationCluster.AddressOf(2)),
        }, ct);
        await Eventually.TrueAsync(async () => (await client.Tracker.GetSyncStatusAsync("group1", ct)).Spares.Count == 1,
            TimeSpan.FromSeconds(20), "the spare reported", ct);
        await Task.Delay(TimeSpan.FromSeconds(4), ct);
        Assert.False(spareStart.IsCompleted);
        Assert.Equal("", (await client.Tracker.GetSyncStatusAsync("group1", ct)).Spares.Single().AssignedGroup);
        // Where an operator sees it: fdfs monitor, the dashboard's data, the metrics.
        string spareAddress = ReplicationCluster.AddressOf(2) + ":";
        var monitor = new StringWriter();
        Assert.Equal(0, await Cli.CliApp.InvokeAsync(["monitor", "--tracker", cluster.TrackerAddress], monitor, new StringWriter(), ct));
        Assert.Matches($@"Spare storages: 1\n\t{spareAddress.Replace(".", "\\.")}\d+ = waiting since .*for any group, 1 store paths", monitor.ToString());
        using (var snapshot = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/cluster", ct)))
        {
            var listed = snapshot.RootElement.GetProperty("spares").EnumerateArray().Single();
            Assert.StartsWith(spareAddress, listed.GetProperty("address").GetString());
            Assert.Equal("", listed.GetProperty("assignedGroup").GetString());
        }

        Assert.Matches("fastdfs_tracker_spare_storages\\{[^}]*state=\"waiting\"[^}]*\\} 1", await http.GetStringAsync("/metrics", ct));

        // Member 1 goes away and stays away: after the takeover time the spare takes its place by itself.
        string goneIp = ReplicationCluster.AddressOf(1);
        await cluster.Storages[1].DisposeAsync();
        var spare = await spareStart.WaitAsync(TimeSpan.FromSeconds(60), ct);
        await cluster.WaitForActiveAsync(2, ct);
        var members = await client.ListStoragesAsync("group1", ct: ct);
        Assert.Equal(StorageStatus.Deleted, members.Single(s => s.Id == goneIp).Status);
        Assert.Equal(StorageStatus.Active, members.Single(s => s.IpAddr == ReplicationCluster.AddressOf(2)).Status);
        var status = await client.Tracker.GetSyncStatusAsync("group1", ct);
        Assert.StartsWith("retired: the spare storage " + ReplicationCluster.AddressOf(2), status.Reasons[goneIp]);
        Assert.Empty(status.Spares);

        // Every file, with its metadata, on the spare; new uploads reach it too.
        await ReplicationCluster.AllServeAsync(client, [cluster.Storages[0], spare], files, ct, TimeSpan.FromSeconds(60), mutable: true);
        Assert.Equal("spare-test", (await ReplicationCluster.Direct(client, spare).GetMetadataAsync(withMetadata, ct)).Single().Value);
        var later = ReplicationCluster.RandomBytes(5000, 77);
        files[await client.UploadAsync(later, "bin", ct: ct)] = later;
        await ReplicationCluster.AllServeAsync(client, [cluster.Storages[0], spare], files, ct, mutable: true);

        // The place is kept: restarted, it is a member of group1 at once.
        string recorded = await File.ReadAllTextAsync(Path.Combine(cluster.StorageConfigs[2].BasePath, "data", "spare_storage.dat"), ct);
        Assert.Contains("group_name=group1\n", recorded);
        Assert.Contains($"replaced_storage={goneIp}\n", recorded);
        spare = await cluster.RestartStorageAsync(2, ct: ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        await cluster.WaitForActiveAsync(2, ct);
        await ReplicationCluster.AllServeAsync(client, [cluster.Storages[0], spare], files, ct, mutable: true);

        // The retired member comes back: it re-joins as a new member, gets a full copy, and the group has three.
        await cluster.RestartStorageAsync(1, ct: ct);
        await cluster.WaitForActiveAsync(3, ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct, TimeSpan.FromSeconds(60), mutable: true);
    }
}
