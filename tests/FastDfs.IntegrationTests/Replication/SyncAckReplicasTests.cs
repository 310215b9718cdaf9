using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>sync_ack_replicas (FastDFS.NET addition): an acknowledged upload is already on N members.</summary>
public sealed class SyncAckReplicasTests
{
    [Fact]
    public async Task AcknowledgedUploadSurvivesLosingItsSourceStorage()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { SyncAckReplicas = 2, SyncAckTimeout = 10 });
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 40; i++)
        {
            var content = ReplicationCluster.RandomBytes(ReplicationCluster.SizeFor(i), i);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        var appender = await client.UploadAppenderAsync(new MemoryStream("abc"u8.ToArray()), 3, "log", ct: ct);
        await client.AppendAsync(appender, "def"u8.ToArray(), ct);
        files[appender] = "abcdef"u8.ToArray();

        // Lose storage 0 and its disk right after the acknowledgements: storage 1 must already hold
        // every file storage 0 was the source of, with no time given for background sync.
        await cluster.Storages[0].KillAsync();
        Directory.Delete(cluster.StorageConfigs[0].BasePath, recursive: true);
        string lostSource = ReplicationCluster.AddressOf(0);
        var fromLost = files.Where(f => FastDfsClient.DecodeName(f.Key).Source == lostSource).ToList();
        Assert.NotEmpty(fromLost);
        foreach (var (id, content) in fromLost)
        {
            Assert.Equal(content, await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], id, ct));
        }
    }

    [Fact]
    public async Task MoreReplicasThanLiveMembersFailsWithEtimedoutAfterTheTimeout()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { SyncAckReplicas = 3, SyncAckTimeout = 1 });
        await using var client = cluster.CreateClient();
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<FastDfsException>(() => client.UploadAsync("x"u8.ToArray(), "txt", ct: ct));
        Assert.Equal(Errno.ETIMEDOUT, error.ErrorCode);
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.9, 10);
    }
}
