using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.IntegrationTests.TrackerCluster;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests;

/// <summary>A whole cluster with cluster_secret_key: trackers elect over proven connections, storages join and replicate.</summary>
public sealed class PeerSecretClusterTests
{
    private const string Secret = "one secret for the whole cluster";

    [Fact]
    public async Task Three_trackers_elect_and_two_storages_join_with_the_secret()
    {
        var ct = Timeouts.Test(90);
        await using var set = await TrackerSet.StartAsync(3, 2, ct, c => c with { ClusterSecretKey = Secret }, (_, s) => s with { ClusterSecretKey = Secret });
        string leader = await set.WaitForLeaderAsync(TimeSpan.FromSeconds(30), ct);
        Assert.Contains(leader, set.TrackerAddresses);
        await set.WaitForActiveAsync(2, ct);
        await using var client = set.CreateClient();
        var id = await client.UploadAsync("elected with a secret"u8.ToArray(), "txt", ct: ct);
        Assert.Equal("elected with a secret"u8.ToArray(), await client.DownloadBytesAsync(id, ct: ct));
    }

    [Fact]
    public async Task Members_replicate_with_the_secret_and_a_storage_with_another_one_never_joins()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await TestCluster.StartAsync(2, ct: ct,
            configureTracker: c => c with { ClusterSecretKey = Secret }, configureStorage: (_, c) => c with { ClusterSecretKey = Secret });
        await cluster.WaitForActiveAsync(2, ct);
        await using var client = cluster.CreateClient();
        byte[] content = "replicated between proven peers"u8.ToArray();
        var id = await client.UploadAsync(content, "txt", ct: ct);
        await Eventually.TrueAsync(() => Task.FromResult(cluster.StorageConfigs.All(c =>
                File.Exists(Path.Combine(c.StorePaths[0].Path, "data", id.LogicName[4..])))),
            TimeSpan.FromSeconds(30), "the file on both members", ct);

        // A storage with another secret (or none) connects, fails the handshake and never becomes a member.
        await cluster.AddStorageAsync(c => c with { ClusterSecretKey = "a guess" }, ct);
        await cluster.AddStorageAsync(c => c with { ClusterSecretKey = "" }, ct);
        await Task.Delay(TimeSpan.FromSeconds(4), ct); // several heart_beat_intervals (1 s) of attempts
        var members = await client.Tracker.ListStoragesAsync("group1", ct: ct);
        Assert.Equal(2, members.Count);
        Assert.All(members, m => Assert.Equal(StorageStatus.Active, m.Status));
    }
}
