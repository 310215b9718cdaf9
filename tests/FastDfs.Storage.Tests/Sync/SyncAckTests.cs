using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>sync_ack_replicas counts a peer only when it holds the change, not when the sync worker merely passed the record.</summary>
public sealed class SyncAckTests
{
    private const string PeerId = "127.0.0.9";

    [Fact]
    public async Task A_record_the_peer_refuses_is_not_an_acknowledgement()
    {
        await using var peer = new FakePeer();
        byte[] Active()
        {
            var body = new byte[StorageJoinResponse.Size];
            new StorageJoinResponse(StorageStatus.Active, "").Write(body);
            return body;
        }

        byte[] Group()
        {
            var change = new ChangeNotification(ChangeFlags.GroupServers, null, null,
                [new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1"), new StorageBrief(StorageStatus.Active, peer.Port, PeerId, "127.0.0.1")]);
            var body = new byte[change.Size];
            change.Write(body);
            return body;
        }

        await using var tracker = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => Active(),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Group(),
            FdfsCommand.StorageSyncSrcReq => [],
            _ => null,
        });
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", tracker.Port)],
            SyncWaitMsec = 20,
            SyncAckReplicas = 2,
            SyncAckTimeout = 2,
        });

        // The peer takes uploads: acknowledged.
        await WaitForPeerAsync(storage);
        Assert.NotNull(await UploadAsync(storage, [1, 2, 3]));

        // The peer refuses every new file with EINVAL: the worker passes the record (one bad record must not stall
        // the group), but the upload is not on two members.
        peer.Reply = command => command == FdfsCommand.SyncCreateFile ? Errno.EINVAL : Errno.Ok;
        Assert.Null(await UploadAsync(storage, [4, 5, 6]));
    }

    private static async Task WaitForPeerAsync(TestStorage storage)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!storage.Server.Context.Replication.Workers.Any(w => w.IsStreaming))
        {
            Assert.True(DateTime.UtcNow < deadline, "the sync worker never connected to the peer");
            await Task.Delay(50, storage.Timeout);
        }
    }

    /// <summary>The file name, or null when the storage answered ETIMEDOUT.</summary>
    private static async Task<string?> UploadAsync(TestStorage storage, byte[] content)
    {
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload(content, "bin"));
        if (status == Errno.ETIMEDOUT)
        {
            return null;
        }

        Assert.Equal(0, status);
        return StoredFileResponse.Parse(body).LogicName;
    }
}
