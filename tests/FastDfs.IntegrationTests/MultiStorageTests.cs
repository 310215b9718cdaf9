using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests;

/// <summary>Several storages of one group on one host (different ports), which stock cannot do.</summary>
public sealed class MultiStorageTests
{
    [Fact]
    public async Task TwoStoragesOnOneHostJoinOneGroupAndBothServeUploads()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await TestCluster.StartAsync(storageCount: 2, ct: ct);
        await using var client = cluster.CreateClient();

        var storages = await client.ListStoragesAsync("group1", ct: ct);
        Assert.Equal(2, storages.Count);
        Assert.All(storages, s => Assert.Equal(StorageStatus.Active, s.Status));
        Assert.Equal(2, storages.Select(s => s.Id).Distinct().Count());
        Assert.Equal(
            cluster.Storages.Select(s => s.EndPoint.Port).Order(),
            storages.Select(s => (int)s.StoragePort).Order());

        // Round robin (store_server 0) spreads uploads over both storages; each file reads back.
        var usedPorts = new HashSet<int>();
        for (int i = 0; i < 6; i++)
        {
            var target = await client.Tracker.QueryStoreAsync(ct: ct);
            usedPorts.Add(target.Storage.Port);
            byte[] content = BitConverter.GetBytes(i);
            var id = await client.UploadAsync(content, "bin", ct: ct);
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        }

        Assert.Equal(2, usedPorts.Count);
    }
}
