using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

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
}
