using System.Text;
using FastDfs.Protocol;
using FastDfs.Storage.Tests.Sync;
using FastDfs.Storage.Trunk;

using FastDfs.TestSupport;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary>
/// The storage-to-storage trunk commands (27-31, 33) replayed from the stock captures of cluster B
/// (trunk server 10.77.0.8, member 10.77.0.9): same replies, byte for byte.
/// </summary>
public sealed class TrunkCommandCaptureTests
{
    private static List<CapturedFrame> Frames(string capture, FdfsCommand command, bool request) =>
        HexCapture.Load(capture).Where(f => f.IsRequest == request && (request ? f.Header.Cmd == command : true)).ToList();

    /// <summary>The reply that follows the first request of <paramref name="command"/> on the same connection.</summary>
    private static (CapturedFrame Request, CapturedFrame Reply) Exchange(string capture, FdfsCommand command)
    {
        var frames = HexCapture.Load(capture);
        int i = frames.FindIndex(f => f.IsRequest && f.Header.Cmd == command);
        var request = frames[i];
        var reply = frames.Skip(i + 1).First(f => !f.IsRequest && f.From == request.To && f.To == request.From);
        return (request, reply);
    }

    [Fact]
    public async Task TrunkServer_AnswersAllocConfirmAndFree_AsStock()
    {
        await using var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        // The capture's trunk server had already stored one 19-byte file at offset 0 (slot 256).
        await storage.UploadAsync(Encoding.ASCII.GetBytes("trunk small file A\n"), "txt");
        await using var peer = await storage.ConnectAsync();

        var (alloc, allocReply) = Exchange("trunk-alloc-confirm.hex", FdfsCommand.TrunkAllocSpace);
        await peer.SendRawAsync(alloc.Bytes);
        var (status, body) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);
        Assert.Equal(allocReply.Bytes[ProtocolConstants.HeaderSize..], body); // path 0, 00/00, trunk 1, offset 256, 1024 bytes

        var (confirm, confirmReply) = Exchange("trunk-alloc-confirm.hex", FdfsCommand.TrunkAllocConfirm);
        await peer.SendRawAsync(confirm.Bytes);
        (status, body) = await peer.ReceiveAsync();
        Assert.Equal(confirmReply.Header.Status, status);
        Assert.Empty(body);
        Assert.DoesNotContain(storage.Server.Context.Trunk.Manager.FreeBlocks(0), b => b.Offset < 1280);

        // A 300-byte upload takes the 512-byte slot at 1280 that the captured TRUNK_FREE_SPACE gives back.
        await storage.UploadAsync(new byte[300], "bin");
        var (free, freeReply) = Exchange("trunk-free-space.hex", FdfsCommand.TrunkFreeSpace);
        await peer.SendRawAsync(free.Bytes);
        (status, body) = await peer.ReceiveAsync();
        Assert.Equal(freeReply.Header.Status, status);
        Assert.Empty(body);
        Assert.Contains(storage.Server.Context.Trunk.Manager.FreeBlocks(0), b => b.Offset == 1280);

        // The same slot again is not allocated any more.
        await peer.SendRawAsync(free.Bytes);
        (status, _) = await peer.ReceiveAsync();
        Assert.Equal(Errno.ENOENT, status);
        Assert.Equal("ABC"u8.ToArray(), await DownloadBackAsync(storage, "ABC"u8.ToArray()));
    }

    [Fact]
    public async Task TrunkServerWhoseLeaseLapsed_StillConfirmsTheSlotItHandedOut_ButAllocatesNothing()
    {
        await using var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        await storage.UploadAsync(Encoding.ASCII.GetBytes("trunk small file A\n"), "txt");
        await using var peer = await storage.ConnectAsync();
        var (alloc, _) = Exchange("trunk-alloc-confirm.hex", FdfsCommand.TrunkAllocSpace);
        await peer.SendRawAsync(alloc.Bytes);
        var (status, _) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);

        // A heartbeat came late: the role is Unknown until the leader answers again.
        storage.Server.Context.Trunk.Locator = new FixedLocator(TrunkServerRole.Unknown);
        var (confirm, confirmReply) = Exchange("trunk-alloc-confirm.hex", FdfsCommand.TrunkAllocConfirm);
        await peer.SendRawAsync(confirm.Bytes);
        (status, _) = await peer.ReceiveAsync();
        Assert.Equal(confirmReply.Header.Status, status);
        Assert.DoesNotContain(storage.Server.Context.Trunk.Manager.FreeBlocks(0), b => b.Offset < 1280);

        // The same confirm again: the slot is no longer reserved, and without the lease nothing is allocated.
        await using var again = await storage.ConnectAsync();
        await again.SendRawAsync(confirm.Bytes);
        (status, _) = await again.ReceiveAsync();
        Assert.Equal(Errno.EINVAL, status);
        await using var third = await storage.ConnectAsync();
        await third.SendRawAsync(alloc.Bytes);
        (status, _) = await third.ReceiveAsync();
        Assert.Equal(Errno.EINVAL, status);
    }

    [Fact]
    public async Task MemberThatIsNotTheTrunkServer_AnswersAllocWithEinval_AndStillServes()
    {
        await using var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        storage.Server.Context.Trunk.Locator = new RemoteLocator();
        await using (var peer = await storage.ConnectAsync())
        {
            await peer.SendRawAsync(Exchange("trunk-alloc-confirm.hex", FdfsCommand.TrunkAllocSpace).Request.Bytes);
            var (status, _) = await peer.ReceiveAsync();
            Assert.Equal(Errno.EINVAL, status);
        }

        storage.Server.Context.Trunk.Locator = new TrunkSessionTests.SelfLocator();
        Assert.Equal("still"u8.ToArray(), await DownloadBackAsync(storage, "still"u8.ToArray()));
    }

    [Fact]
    public async Task Member_ReceivesTruncateAndBinlogChunks_AndReportsTheBinlogSize()
    {
        await using var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        storage.Server.Context.Trunk.Locator = new RemoteLocator();
        await using var peer = await storage.ConnectAsync();

        // TRUNK_GET_BINLOG_SIZE before anything: the captured election answer, i64 0.
        var (size, sizeReply) = Exchange("trunk-server-election.hex", FdfsCommand.TrunkGetBinlogSize);
        await peer.SendRawAsync(size.Bytes);
        var (status, body) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);
        Assert.Equal(sizeReply.Bytes[ProtocolConstants.HeaderSize..], body);

        var pushed = new List<byte>();
        foreach (var frame in HexCapture.Load("trunk-sync-binlog.hex").Where(f => f.IsRequest &&
                     f.Header.Cmd is FdfsCommand.TrunkTruncateBinlogFile or FdfsCommand.TrunkSyncBinlog))
        {
            await peer.SendRawAsync(frame.Bytes);
            (status, body) = await peer.ReceiveAsync();
            Assert.Equal(Errno.Ok, status);
            Assert.Empty(body);
            if (frame.Header.Cmd == FdfsCommand.TrunkSyncBinlog)
            {
                pushed.AddRange(frame.Bytes[ProtocolConstants.HeaderSize..]);
            }
        }

        string binlogPath = Path.Combine(storage.BasePath, "data", "trunk", "binlog");
        Assert.Equal(pushed.ToArray(), await File.ReadAllBytesAsync(binlogPath));
        Assert.StartsWith("1795479568 A 0 0 0 1 0 67108864\n", Encoding.ASCII.GetString(pushed.ToArray()));

        await peer.SendRawAsync(size.Bytes);
        (status, body) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);
        Assert.Equal(pushed.Count, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(body));

        // TRUNCATE again starts the copy over.
        await peer.SendRawAsync(Frames("trunk-sync-binlog.hex", FdfsCommand.TrunkTruncateBinlogFile, request: true)[0].Bytes);
        (status, _) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);
        Assert.Equal(0, new FileInfo(binlogPath).Length);
    }

    [Fact]
    public async Task Member_WritesAReplicatedSlotIntoItsOwnTrunkFile_AndZeroesItOnSyncDelete()
    {
        await using var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        storage.Server.Context.Trunk.Locator = new RemoteLocator();
        await using var peer = await storage.ConnectAsync();
        var create = HexCapture.Load("trunk-alloc-confirm.hex").First(f => f.IsRequest && f.Header.Cmd == FdfsCommand.SyncCreateFile);
        await peer.SendRawAsync(create.Bytes);
        var (status, _) = await peer.ReceiveAsync();
        Assert.Equal(Errno.Ok, status);

        const string name = "M00/00/00/Ck0ACGsE2BCILHfUAAAAE1Fb86AAAAAAQAAAAAAAAEA814.txt";
        using (var view = storage.Server.Context.Trunk.Open(name))
        {
            Assert.NotNull(view);
            var data = new byte[view.FileSize];
            RandomAccess.Read(view.Handle, data, view.DataOffset);
            Assert.Equal("trunk small file A\n", Encoding.ASCII.GetString(data));
            Assert.Equal(256, view.Header.AllocSize);
        }

        // Again: already there.
        await peer.SendRawAsync(create.Bytes);
        (status, _) = await peer.ReceiveAsync();
        Assert.Equal(Errno.EEXIST, status);

        var body = new byte[4 + 16 + name.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(body, 1795479568);
        Encoding.ASCII.GetBytes("group1", body.AsSpan(4));
        Encoding.ASCII.GetBytes(name, body.AsSpan(20));
        (status, _) = await peer.RequestAsync(FdfsCommand.SyncDeleteFile, body);
        Assert.Equal(Errno.Ok, status);
        Assert.Null(storage.Server.Context.Trunk.Open(name));
        (status, _) = await peer.RequestAsync(FdfsCommand.SyncDeleteFile, body);
        Assert.Equal(Errno.ENOENT, status);
    }

    private sealed class RemoteLocator : ITrunkServerLocator
    {
        public TrunkServerRole Resolve() => TrunkServerRole.Remote;
    }

    private sealed class FixedLocator(TrunkServerRole role) : ITrunkServerLocator
    {
        public TrunkServerRole Resolve() => role;
    }

    private static async Task<byte[]> DownloadBackAsync(TestStorage storage, byte[] content)
    {
        string name = await storage.UploadAsync(content, "bin");
        return storage.Server.Context.Trunk.IsTrunkName(name, out _) ? ReadTrunk(storage, name) : await File.ReadAllBytesAsync(storage.FullPath(name));
    }

    private static byte[] ReadTrunk(TestStorage storage, string name)
    {
        using var view = storage.Server.Context.Trunk.Open(name) ?? throw new InvalidOperationException($"{name} not found");
        var data = new byte[view.FileSize];
        RandomAccess.Read(view.Handle, data, view.DataOffset);
        return data;
    }
}
