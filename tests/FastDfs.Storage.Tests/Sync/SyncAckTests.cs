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
        await using var tracker = ScriptedTracker.GroupWithOnePeer(peer.Port, PeerId);
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", tracker.Port)],
            SyncWaitMsec = 20,
            SyncAckReplicas = 2,
            SyncAckTimeout = 2,
        });

        // The peer takes uploads: acknowledged.
        await storage.WaitForPeerStreamingAsync();
        Assert.NotNull(await UploadAsync(storage, [1, 2, 3]));

        // The peer refuses every new file with EINVAL: the worker passes the record (one bad record must not stall
        // the group), but the upload is not on two members.
        peer.Reply = command => command == FdfsCommand.SyncCreateFile ? Errno.EINVAL : Errno.Ok;
        Assert.Null(await UploadAsync(storage, [4, 5, 6]));
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
