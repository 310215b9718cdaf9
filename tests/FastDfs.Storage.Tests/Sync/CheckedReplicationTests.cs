using System.IO.Hashing;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>
/// Checked replication: a replica becomes visible only if its bytes are what its name promises (size and CRC32); the
/// source sends again what was damaged on the way and reports what is damaged at home.
/// </summary>
public sealed class CheckedReplicationTests
{
    private const string PeerId = "127.0.0.9";

    private static string NameFor(byte[] content) =>
        FileNameCodec.BuildLogicName(0, 1, 2, FileNameCodec.SourceFromIp("127.0.0.9"), 1795479441,
            FileNameCodec.MakeSizeField(content.Length, appender: false, trunk: false, 12345), Crc32.HashToUInt32(content), "000.txt");

    [Fact]
    public async Task A_replica_whose_bytes_do_not_match_its_name_is_refused_and_never_visible()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        // A FastDFS.NET source says it sends a refused file again.
        Assert.Equal(0, (await peer.RequestAsync(CheckedReplication.Command, [])).Status);
        var content = "checked replication"u8.ToArray();
        string name = NameFor(content);
        var damaged = content.ToArray();
        damaged[3] ^= 0x40;

        var (status, _) = await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, damaged, 1795479441));
        Assert.Equal(Errno.EBADMSG, status);
        Assert.False(File.Exists(storage.FullPath(name)));
        Assert.Equal(1, storage.Server.Context.Integrity.ReplicasRefused);

        // The same connection takes the good copy.
        (status, _) = await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, content, 1795479441));
        Assert.Equal(0, status);
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(name)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage.BasePath, "data"), ".cp*.tmp"));
        Assert.Single(storage.BinlogLines());
    }

    [Fact]
    public async Task From_a_source_that_cannot_send_again_a_damaged_replica_is_kept_and_reported()
    {
        // A stock source retries a refused file forever and would stall the group: the file is stored and reported.
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        var content = "from a stock storage"u8.ToArray();
        string name = NameFor(content);
        var damaged = content.ToArray();
        damaged[0] ^= 1;
        var (status, _) = await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, damaged, 1795479441));
        Assert.Equal(0, status);
        Assert.Equal(damaged, await File.ReadAllBytesAsync(storage.FullPath(name)));
        var integrity = storage.Server.Context.Integrity;
        Assert.Equal((0L, 1L), (integrity.ReplicasRefused, integrity.LocalCorrupt));
        Assert.Contains(integrity.Findings, f => f.LogicName == name);
    }

    [Fact]
    public async Task A_slave_whose_short_name_looks_like_a_normal_one_is_not_refused()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        Assert.Equal(0, (await peer.RequestAsync(CheckedReplication.Command, [])).Status);
        string master = NameFor("the master's bytes"u8.ToArray());
        var slaveContent = "a thumbnail"u8.ToArray();
        foreach (string slave in new[] { FileNameCodec.BuildSlaveName(master, "_s", ""), FileNameCodec.BuildSlaveName(master, "5", "gz") })
        {
            Assert.True(slave.Length <= ProtocolConstants.NormalLogicFilenameLength, slave);
            var (status, _) = await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(slave, slaveContent, 1795479441));
            Assert.Equal(0, status);
            Assert.Equal(slaveContent, await File.ReadAllBytesAsync(storage.FullPath(slave)));
        }

        Assert.Equal(0, storage.Server.Context.Integrity.ReplicasRefused + storage.Server.Context.Integrity.LocalCorrupt);
    }

    [Fact]
    public async Task A_stale_copy_is_not_renamed_into_a_name_it_does_not_match()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        string appender = FileNameCodec.BuildLogicName(0, 1, 2, FileNameCodec.SourceFromIp("127.0.0.9"), 1795479441,
            FileNameCodec.MakeSizeField(0, appender: true, trunk: false, 1), 0, "000.log");
        Assert.Equal(0, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(appender, "old"u8.ToArray(), 1795479441))).Status);
        var final = "old and more"u8.ToArray();
        string renamed = NameFor(final);

        // The copy here missed the append (another size): the rename is refused (ENOENT makes the source send the file) and the stale copy goes.
        var (status, _) = await peer.RequestAsync(FdfsCommand.SyncRenameFile, SyncBodies.TwoNames(renamed, appender, 1795479442));
        Assert.Equal(Errno.ENOENT, status);
        Assert.False(File.Exists(storage.FullPath(appender)));
        Assert.False(File.Exists(storage.FullPath(renamed)));

        // A current copy is renamed.
        Assert.Equal(0, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(appender, final, 1795479441))).Status);
        (status, _) = await peer.RequestAsync(FdfsCommand.SyncRenameFile, SyncBodies.TwoNames(renamed, appender, 1795479442));
        Assert.Equal(0, status);
        Assert.Equal(final, await File.ReadAllBytesAsync(storage.FullPath(renamed)));
    }

    private static async Task<(FakePeer Peer, ScriptedTracker Tracker, TestStorage Storage)> SourceWithOnePeerAsync(Func<bool> peerListed)
    {
        var peer = new FakePeer();
        var tracker = ScriptedTracker.GroupWithOnePeer(peer.Port, PeerId, peerListed);
        var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", tracker.Port)],
            SyncWaitMsec = 20,
        });
        return (peer, tracker, storage);
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50, ct);
        }
    }

    [Fact]
    public async Task A_copy_damaged_on_the_way_is_sent_again()
    {
        var (peer, tracker, storage) = await SourceWithOnePeerAsync(() => true);
        await using var _ = peer;
        await using var __ = tracker;
        await using var ___ = storage;
        int creates = 0;
        peer.Reply = command => command == FdfsCommand.SyncCreateFile && Interlocked.Increment(ref creates) == 1 ? Errno.EBADMSG : Errno.Ok;

        string name = await storage.UploadAsync("travels badly once"u8.ToArray());
        await EventuallyAsync(() => peer.Created.Count(n => n == name) == 2, "the copy sent a second time", storage.Timeout);
        var integrity = storage.Server.Context.Integrity;
        Assert.Equal(1, integrity.PushesRefused);
        Assert.Equal(0, integrity.LocalCorrupt);
    }

    [Fact]
    public async Task A_copy_damaged_at_home_is_reported_and_not_sent_again()
    {
        bool listed = false;
        var (peer, tracker, storage) = await SourceWithOnePeerAsync(() => Volatile.Read(ref listed));
        await using var _ = peer;
        await using var __ = tracker;
        await using var ___ = storage;
        string bad = await storage.UploadAsync("rots on the disk"u8.ToArray());
        string good = await storage.UploadAsync("stays whole"u8.ToArray());
        var bytes = await File.ReadAllBytesAsync(storage.FullPath(bad));
        bytes[0] ^= 1;
        await File.WriteAllBytesAsync(storage.FullPath(bad), bytes);
        int creates = 0;
        // A peer with checked replication refuses the damaged copy (here: the first create, which is the damaged file's).
        peer.Reply = command => command == FdfsCommand.SyncCreateFile && Interlocked.Increment(ref creates) == 1 ? Errno.EBADMSG : Errno.Ok;

        Volatile.Write(ref listed, true);
        await EventuallyAsync(() => peer.Created.Contains(good), "the next file to reach the peer", storage.Timeout);
        Assert.Equal([bad, good], peer.Created);
        var integrity = storage.Server.Context.Integrity;
        Assert.Equal(1, integrity.PushesRefused);
        Assert.Equal(1, integrity.LocalCorrupt);
    }
}
