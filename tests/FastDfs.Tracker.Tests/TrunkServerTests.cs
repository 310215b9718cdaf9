using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>Trunk server bookkeeping of the leader (spec 4.10, 6.9, 6.10 flag 2) with use_trunk_file on.</summary>
public sealed class TrunkServerTests
{
    [Fact]
    public async Task SetTrunkServer_Codes_Flag2_AndTheTrunkFileIdSequence()
    {
        // Nothing listens on the fake storages' ports, so the automatic election finds no candidate that answers.
        await using var tracker = await TestTracker.StartAsync(c => c with { UseTrunkFile = true });
        await using var a = await tracker.ActiveStorageAsync(port: 1, localIp: "127.0.0.2");
        await using var b = await tracker.ActiveStorageAsync(port: 1, localIp: "127.0.0.3");
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");
        await using var client = await tracker.ConnectAsync();

        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.Group("group9")));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.GroupAndId("group1", "127.0.0.9")));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, new byte[5]));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.Group("group1"))); // nobody answers 31
        Assert.Equal("127.0.0.2\0", Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.ServerSetTrunkServer, Frames.GroupAndId("group1", "127.0.0.2"))));
        Assert.Equal(Errno.EALREADY, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.GroupAndId("group1", "127.0.0.2")));
        Assert.Equal(Errno.EEXIST, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.GroupAndId("group1", "127.0.0.3")));
        Assert.Equal("127.0.0.2\0", Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.ServerSetTrunkServer, Frames.Group("group1"))));

        // Flag 2 once per change and storage record: the trunk server's brief.
        var change = await b.BeatAsync();
        Assert.True(change.Flags.HasFlag(ChangeFlags.TrunkServer));
        Assert.Equal(("127.0.0.2", "127.0.0.2", 1), (change.TrunkServer!.Value.Id, change.TrunkServer.Value.IpAddr, change.TrunkServer.Value.Port));
        Assert.False((await b.BeatAsync()).Flags.HasFlag(ChangeFlags.TrunkServer));

        // FETCH_TRUNK_FID from anyone; REPORT_TRUNK_FID / FREE only from the trunk server.
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(await a.Connection.RequestOkAsync(FdfsCommand.StorageFetchTrunkFid)));
        var fid = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(fid, 5);
        Assert.Empty(await a.Connection.RequestOkAsync(FdfsCommand.StorageReportTrunkFid, fid));
        var free = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(free, 63);
        Assert.Empty(await a.Connection.RequestOkAsync(FdfsCommand.StorageReportTrunkFree, free));
        Assert.Equal(Errno.EINVAL, await b.Connection.StatusOfAsync(FdfsCommand.StorageReportTrunkFree, free));
        Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(await a.Connection.RequestOkAsync(FdfsCommand.StorageFetchTrunkFid)));

        var group = GroupStat.Parse(await client.RequestOkAsync(FdfsCommand.ServerListOneGroup, Frames.Group("group1")));
        Assert.Equal((5L, 63L), (group.CurrentTrunkFileId, group.TrunkFreeMb));
        var stats = StorageStat.ParseList(await client.RequestOkAsync(FdfsCommand.ServerListStorage, Frames.Group("group1")));
        Assert.Equal([true, false], stats.Select(s => s.IsTrunkServer));

        // The trunk server goes away: re-election (nobody answers 31 here), and flag 2 says "none".
        await a.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            StorageStat.ParseList(await client.RequestOkAsync(FdfsCommand.ServerListStorage, Frames.Group("group1"))).All(s => !s.IsTrunkServer),
            "the trunk server record to be dropped");
        change = await b.BeatAsync();
        Assert.True(change.Flags.HasFlag(ChangeFlags.TrunkServer));
        Assert.Equal("", change.TrunkServer!.Value.Id);
    }
}
