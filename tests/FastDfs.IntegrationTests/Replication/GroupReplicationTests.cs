using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>Uploads and changes on any member of a group reach every member (spec 12).</summary>
public sealed class GroupReplicationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task EveryMemberServesEveryUploadedFileByteIdentical()
    {
        var ct = Timeouts.Test(60);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        output.WriteLine($"started {clock.Elapsed}");
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 300; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        output.WriteLine($"uploaded {clock.Elapsed}");
        // Round robin spread the uploads over the members: each one is a source.
        Assert.Equal(3, files.Keys.Select(id => FastDfsClient.DecodeName(id).Source).Distinct().Count());
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        output.WriteLine($"replicated {clock.Elapsed}");
    }

    [Fact]
    public async Task DeletesAppenderChangesAndMetadataReachEveryMember()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();

        var doomed = await client.UploadAsync(ReplicationCluster.RandomBytes(5000, 1), "bin", ct: ct);
        var kept = await client.UploadAsync(ReplicationCluster.RandomBytes(300, 2), "txt",
            [new MetadataItem("width", "100")], ct: ct);
        var appender = await client.UploadAppenderAsync(new MemoryStream(ReplicationCluster.RandomBytes(10, 3)), 10, "dat", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]>
        {
            [doomed] = ReplicationCluster.RandomBytes(5000, 1),
        }, ct);

        await client.DeleteAsync(doomed, ct);
        await client.AppendAsync(appender, "0123456789ABCDEF"u8.ToArray(), ct);
        await client.ModifyAsync(appender, 2, new MemoryStream("xy"u8.ToArray()), 2, ct);
        await client.TruncateAsync(appender, 20, ct);
        await client.AppendAsync(appender, "tail"u8.ToArray(), ct);
        await client.SetMetadataAsync(kept, [new MetadataItem("height", "7")], MetadataOp.Merge, ct);

        byte[] expectedAppender = await client.DownloadBytesAsync(appender, ct: ct);
        Assert.Equal(24, expectedAppender.Length);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]>
        {
            [appender] = expectedAppender,
            [kept] = ReplicationCluster.RandomBytes(300, 2),
        }, ct, mutable: true);
        foreach (var storage in cluster.Storages)
        {
            var direct = ReplicationCluster.Direct(client, storage);
            await Eventually.TrueAsync(async () => await ReplicationCluster.TryDownloadAsync(client, storage, doomed, ct) is null,
                TimeSpan.FromSeconds(10), "the delete on every member", ct);
            await Eventually.TrueAsync(async () => (await direct.GetMetadataAsync(kept, ct)).Count == 2,
                TimeSpan.FromSeconds(10), "the merged metadata on every member", ct);
            Assert.Equal(["height=7", "width=100"], (await direct.GetMetadataAsync(kept, ct)).Select(m => $"{m.Name}={m.Value}").Order());
        }

        // A renamed appender (regenerate) reaches the peers under its new name.
        var renamed = await client.RegenerateAppenderFilenameAsync(appender, ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [renamed] = expectedAppender }, ct);
    }

    [Fact]
    public async Task QueryFetchOnlyOffersMembersThatHoldTheFile()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();
        int offeredReplicas = 0;
        for (int i = 0; i < 60; i++)
        {
            var content = ReplicationCluster.RandomBytes(1000 + i, i);
            var id = await client.UploadAsync(content, "bin", ct: ct);
            string source = FastDfsClient.DecodeName(id).Source;
            foreach (var endpoint in await client.Tracker.QueryFetchAllAsync(id, ct))
            {
                var storage = cluster.Storages.Single(s => s.EndPoint.Port == endpoint.Port);
                Assert.Equal(content, await ReplicationCluster.TryDownloadAsync(client, storage, id, ct));
                offeredReplicas += endpoint.Ip == source ? 0 : 1;
            }

            var one = await client.Tracker.QueryFetchAsync(id, ct);
            Assert.Equal(content, await ReplicationCluster.TryDownloadAsync(client, cluster.Storages.Single(s => s.EndPoint.Port == one.Port), id, ct));
        }

        // A replica is offered once it has applied a later record from every source (strictly newer
        // timestamps, spec 11.4 rule 3): then reads spread over the group.
        var late = await client.UploadAsync(ReplicationCluster.RandomBytes(10, 99), "bin", ct: ct);
        await Task.Delay(1100, ct);
        for (int i = 0; i < 3; i++)
        {
            await client.UploadAsync(ReplicationCluster.RandomBytes(10, 100 + i), "bin", ct: ct);
        }

        await Eventually.TrueAsync(async () => (await client.Tracker.QueryFetchAllAsync(late, ct)).Count == 3,
            TimeSpan.FromSeconds(15), "all three members offered for a synced file", ct);
    }
}
