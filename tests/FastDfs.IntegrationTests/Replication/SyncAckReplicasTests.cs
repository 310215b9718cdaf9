using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

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

    [Fact]
    public async Task EveryKindOfChangeIsOnThePeerWhenItIsAcknowledged()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { SyncAckReplicas = 2, SyncAckTimeout = 10 });
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var peer = ReplicationCluster.Direct(client, cluster.Storages[1]);
        async Task<byte[]?> OnPeer(FileId id) => await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], id, ct);

        var normal = await source.UploadAsync(new MemoryStream("normal"u8.ToArray()), 6, "txt", ct: ct);
        Assert.Equal("normal"u8.ToArray(), await OnPeer(normal));
        var slave = await source.UploadSlaveAsync(normal, "_s", "txt", new MemoryStream("slave"u8.ToArray()), 5, ct);
        Assert.Equal("slave"u8.ToArray(), await OnPeer(slave));
        await source.SetMetadataAsync(normal, [new MetadataItem("k", "v")], MetadataOp.Overwrite, ct);
        Assert.Equal("v", Assert.Single(await peer.GetMetadataAsync(normal, ct)).Value);

        var appender = await source.UploadAppenderAsync(new MemoryStream("0123"u8.ToArray()), 4, "log", ct: ct);
        Assert.Equal("0123"u8.ToArray(), await OnPeer(appender));
        await source.AppendAsync(appender, new MemoryStream("4567"u8.ToArray()), 4, ct);
        Assert.Equal("01234567"u8.ToArray(), await OnPeer(appender));
        await source.ModifyAsync(appender, 1, new MemoryStream("xy"u8.ToArray()), 2, ct);
        Assert.Equal("0xy34567"u8.ToArray(), await OnPeer(appender));
        await source.TruncateAsync(appender, 3, ct);
        Assert.Equal("0xy"u8.ToArray(), await OnPeer(appender));
        var regenerated = await source.RegenerateAppenderFilenameAsync(appender, ct);
        Assert.Equal("0xy"u8.ToArray(), await OnPeer(regenerated));
        Assert.Null(await OnPeer(appender));

        await source.DeleteAsync(normal, ct);
        Assert.Null(await OnPeer(normal));
    }

    [Fact]
    public async Task WithThePeerDownEveryKindOfChangeAnswersEtimedoutAndStillReplicatesLater()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { SyncAckReplicas = 2, SyncAckTimeout = 1 });
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var kept = await source.UploadAsync(new MemoryStream("kept"u8.ToArray()), 4, "txt", ct: ct);
        var doomed = await source.UploadAsync(new MemoryStream("doomed"u8.ToArray()), 6, "txt", ct: ct);
        var appender = await source.UploadAppenderAsync(new MemoryStream("0123"u8.ToArray()), 4, "log", ct: ct);
        var renamedLater = await source.UploadAppenderAsync(new MemoryStream("abc"u8.ToArray()), 3, "log", ct: ct);
        await cluster.Storages[1].KillAsync();

        async Task TimesOut(Func<Task> change)
        {
            var error = await Assert.ThrowsAsync<FastDfsException>(change);
            Assert.Equal(Errno.ETIMEDOUT, error.ErrorCode);
        }

        await TimesOut(() => source.UploadAsync(new MemoryStream("new"u8.ToArray()), 3, "txt", ct: ct));
        await TimesOut(() => source.UploadSlaveAsync(kept, "_s", "txt", new MemoryStream("slave"u8.ToArray()), 5, ct));
        await TimesOut(() => source.AppendAsync(appender, new MemoryStream("4567"u8.ToArray()), 4, ct));
        await TimesOut(() => source.ModifyAsync(appender, 0, new MemoryStream("x"u8.ToArray()), 1, ct));
        await TimesOut(() => source.TruncateAsync(appender, 6, ct));
        await TimesOut(() => source.SetMetadataAsync(kept, [new MetadataItem("k", "v")], MetadataOp.Merge, ct));
        await TimesOut(() => source.DeleteAsync(doomed, ct));
        // Regenerate answers with the new name all the same: an error would leave the client with no name for its file.
        var renamed = await source.RegenerateAppenderFilenameAsync(renamedLater, ct);

        // Each change stayed applied here and reaches the peer once it is back.
        await cluster.RestartStorageAsync(1, ct: ct);
        await cluster.WaitForActiveAsync(2, ct);
        await ConvergenceTests.AllIdenticalAsync(cluster, client, [kept, doomed, appender, renamedLater, renamed], ct);
        Assert.Equal("abc"u8.ToArray(), await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], renamed, ct));
        Assert.Equal("x12345"u8.ToArray(), await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], appender, ct));
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], doomed, ct));
        var peer = ReplicationCluster.Direct(client, cluster.Storages[1]);
        await Eventually.TrueAsync(async () => (await peer.GetMetadataAsync(kept, ct)).Count == 1, TimeSpan.FromSeconds(10), "the metadata on the peer", ct);
    }

    [Fact]
    public async Task WithTheDefaultTimeoutTheClientGetsEtimedoutBeforeItsOwnNetworkTimeout()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { SyncAckReplicas = 3, NetworkTimeout = 6 });
        await using var client = new FastDfsClient(FastDfsClientOptions.ForTrackers(cluster.TrackerAddress) with { NetworkTimeout = TimeSpan.FromSeconds(6) });
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<FastDfsException>(() => source.UploadAsync(new MemoryStream("x"u8.ToArray()), 1, "txt", ct: ct));
        // The storage's answer (sync_ack_timeout = half of network_timeout), not a connection the timeout dropped.
        Assert.IsNotType<FastDfsConnectionException>(error);
        Assert.Equal(Errno.ETIMEDOUT, error.ErrorCode);
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 2.5, 5.5);
        await source.ActiveTestAsync(ct);
    }
}
