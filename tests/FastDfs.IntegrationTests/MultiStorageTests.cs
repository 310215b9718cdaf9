using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests;

/// <summary>Several storages on one host (different ports), which stock cannot do.</summary>
public sealed class MultiStorageTests
{
    [Fact]
    public async Task StoragesOfTwoGroupsOnOneHostBothServeUploads()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await TestCluster.StartAsync(storageCount: 1, ct: ct);
        await cluster.AddStorageAsync(c => c with { GroupName = "group2" }, ct);
        await using var client = cluster.CreateClient();
        await Eventually.TrueAsync(async () =>
        {
            var groups = await client.ListGroupsAsync(ct);
            return groups.Count == 2 && groups.All(g => g.WritableServerCount == 1);
        }, TimeSpan.FromSeconds(30), "two writable groups", ct);

        var groups = await client.ListGroupsAsync(ct);
        Assert.Equal(["group1", "group2"], groups.Select(g => g.GroupName));
        Assert.Equal(
            cluster.Storages.Select(s => s.EndPoint.Port).Order(),
            groups.Select(g => (int)g.StoragePort).Order());

        // store_lookup 0 (round robin) alternates groups; every file reads back from its own group.
        var usedGroups = new HashSet<string>();
        for (int i = 0; i < 6; i++)
        {
            byte[] content = BitConverter.GetBytes(i);
            var id = await client.UploadAsync(content, "bin", ct: ct);
            usedGroups.Add(id.Group);
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        }

        Assert.Equal(["group1", "group2"], usedGroups.Order());
        var explicitGroup = await client.UploadAsync("g2"u8.ToArray(), "txt", group: "group2", ct: ct);
        Assert.Equal("group2", explicitGroup.Group);
    }
}
