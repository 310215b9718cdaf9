using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

public sealed class MonitorAndAdminTests
{
    [Fact]
    public async Task ListGroupsAndStorages_DecodeAndShowTheBeatCounters()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var b = await tracker.ActiveStorageAsync(group: "group2", localIp: "127.0.0.3", freeMb: 7000, totalMb: 9000);
        await using var a = await tracker.ActiveStorageAsync(group: "group1", localIp: "127.0.0.2", freeMb: 5000, totalMb: 8000);
        var counters = new StorageStatCounters { ConnectionAllocCount = 3, ConnectionCurrentCount = 2, ConnectionMaxCount = 4 };
        counters[StorageStatCounters.Counter.TotalUploadCount] = 42;
        counters[StorageStatCounters.Counter.SuccessUploadCount] = 41;
        counters[StorageStatCounters.Counter.LastSourceUpdate] = 1_700_000_000;
        await a.BeatAsync(counters);
        await using var client = await tracker.ConnectAsync();

        var groups = GroupStat.ParseList(await client.RequestOkAsync(FdfsCommand.ServerListAllGroups));
        Assert.Equal(["group1", "group2"], groups.Select(g => g.GroupName));
        var g1 = groups[0];
        Assert.Equal((8000L, 5000L, 1024L, 1L, 23000L, 1L, 1L, 1L, 256L, -1L),
            (g1.TotalMb, g1.FreeMb, g1.ReservedMb, g1.StorageCount, g1.StoragePort, g1.ReadableServerCount,
             g1.WritableServerCount, g1.StorePathCount, g1.SubdirCountPerPath, g1.CurrentTrunkFileId));
        var one = await client.RequestOkAsync(FdfsCommand.ServerListOneGroup, Frames.Group("group2"));
        Assert.Equal(GroupStat.Size, one.Length);
        Assert.Equal(7000, GroupStat.Parse(one).FreeMb);
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerListOneGroup, Frames.Group("group9")));

        var listBody = await client.RequestOkAsync(FdfsCommand.ServerListStorage, Frames.Group("group1"));
        Assert.Equal(487, listBody.Length);
        var stat = StorageStat.ParseList(listBody).Single();
        Assert.Equal(("127.0.0.2", "127.0.0.2", StorageStatus.Active, 8000L, 5000L), (stat.Id, stat.IpAddr, stat.Status, stat.TotalMb, stat.FreeMb));
        Assert.Equal(42, stat.Counters[StorageStatCounters.Counter.TotalUploadCount]);
        Assert.Equal(41, stat.Counters[StorageStatCounters.Counter.SuccessUploadCount]);
        Assert.Equal(1_700_000_000, stat.Counters[StorageStatCounters.Counter.LastSourceUpdate]);
        Assert.Equal(3, stat.Counters.ConnectionAllocCount);
        Assert.InRange(stat.Counters[StorageStatCounters.Counter.LastHeartBeatTime],
            DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerListStorage, Frames.GroupAnd("group1", "127.0.0.9")));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerListStorage, Frames.Group("group9")));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ServerListStorage, new byte[15]));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ServerListStorage, new byte[32]));
    }

    [Fact]
    public async Task DeleteStorage_AndDeleteGroup_StatusCodes()
    {
        await using var tracker = await TestTracker.StartAsync();
        var storage = await tracker.ActiveStorageAsync();
        await using var client = await tracker.ConnectAsync();
        var delete = Frames.GroupAnd("group1", "127.0.0.1");

        Assert.Equal(Errno.EBUSY, await client.StatusOfAsync(FdfsCommand.ServerDeleteStorage, delete));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerDeleteStorage, Frames.GroupAnd("group1", "127.0.0.9")));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerDeleteStorage, Frames.GroupAnd("group9", "127.0.0.1")));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ServerDeleteStorage, Frames.Group("group1")));

        await storage.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.1") == StorageStatus.Offline, "OFFLINE");
        Assert.Empty(await client.RequestOkAsync(FdfsCommand.ServerDeleteStorage, delete));
        Assert.Equal(StorageStatus.Deleted, await client.StatusOfStorageAsync("group1", "127.0.0.1"));
        Assert.Equal(Errno.EALREADY, await client.StatusOfAsync(FdfsCommand.ServerDeleteStorage, delete));

        // The record stays until a restart, so the group is still busy.
        Assert.Equal(Errno.EBUSY, await client.StatusOfAsync(FdfsCommand.ServerDeleteGroup, Frames.Group("group1")));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.ServerDeleteGroup, Frames.Group("group9")));

        // A deleted storage that joins again is re-created as INIT.
        await using var again = await tracker.JoinAsync(initFlag: false, status: (sbyte)StorageStatus.Active);
        Assert.Equal(StorageStatus.Init, again.Joined.Status);
    }

    [Fact]
    public async Task WithAdminHosts_OnlyListedHostsDeleteStoragesAndGroups()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { AdminHosts = ["127.0.0.1"] });
        var storage = await tracker.ActiveStorageAsync(localIp: "127.0.0.3");
        await storage.DisposeAsync();
        await using var admin = await tracker.ConnectAsync("127.0.0.1");
        await tracker.WaitUntilAsync(async () =>
            await admin.StatusOfStorageAsync("group1", "127.0.0.3") == StorageStatus.Offline, "OFFLINE");

        await using var other = await tracker.ConnectAsync("127.0.0.2");
        var delete = Frames.GroupAnd("group1", "127.0.0.3");
        Assert.Equal(Errno.EPERM, await other.StatusOfAsync(FdfsCommand.ServerDeleteStorage, delete));
        Assert.Equal(Errno.EPERM, await other.StatusOfAsync(FdfsCommand.ServerDeleteGroup, Frames.Group("group1")));
        // Refused, nothing changed, and the connection still serves.
        Assert.Equal(StorageStatus.Offline, await other.StatusOfStorageAsync("group1", "127.0.0.3"));

        Assert.Empty(await admin.RequestOkAsync(FdfsCommand.ServerDeleteStorage, delete));
        Assert.Equal(StorageStatus.Deleted, await admin.StatusOfStorageAsync("group1", "127.0.0.3"));
    }

    [Fact]
    public async Task LeaderTrunkAndClusterStats()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync(freeMb: 6000, totalMb: 10_000);
        await using var client = await tracker.ConnectAsync();
        string self = $"127.0.0.1:{tracker.EndPoint.Port}";

        // The storage's JOIN told the tracker who the trackers are; it elects itself a moment later (ENOENT until then).
        await tracker.WaitUntilAsync(async () => await client.StatusOfAsync(FdfsCommand.ServerGetLeader) == Errno.Ok, "the election");
        Assert.Equal(self, Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.ServerGetLeader)));
        Assert.Equal(Errno.EOPNOTSUPP, await client.StatusOfAsync(FdfsCommand.ServerSetTrunkServer, Frames.Group("group1")));

        var trackers = await client.RequestOkAsync(FdfsCommand.ServerTrackerClusterStat, new byte[3]);
        Assert.Equal(91, trackers.Length);
        Assert.Equal(1, trackers[0]);
        Assert.Equal(self, FixedString.Read(trackers.AsSpan(1, 52)));
        Assert.Equal((1, 1), (trackers[53], trackers[54]));
        Assert.Equal([0], await client.RequestOkAsync(FdfsCommand.ServerTrackerClusterStat, new byte[] { 2, 0, 0 }));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ServerTrackerClusterStat, new byte[2]));

        var storages = await client.RequestOkAsync(FdfsCommand.ServerStorageClusterStat, new byte[4]);
        Assert.Equal(6 + 106, storages.Length);
        Assert.Equal(0, storages[0]); // use_storage_id off
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(storages.AsSpan(2)));
        Assert.Equal("127.0.0.1", FixedString.Read(storages.AsSpan(6, 16)));
        Assert.Equal("127.0.0.1:23000", FixedString.Read(storages.AsSpan(22, 52)));
        Assert.Equal((byte)StorageStatus.Active, storages[75]);
        var notActive = await client.RequestOkAsync(FdfsCommand.ServerStorageClusterStat,
            new byte[] { 2, (byte)'!', (byte)StorageStatus.Active, 0 });
        Assert.Equal(6, notActive.Length);

        var volumes = await client.RequestOkAsync(FdfsCommand.ServerStorageVolumeStat, new byte[4]);
        Assert.Equal(5 + 59, volumes.Length);
        Assert.Equal("group1", FixedString.Read(volumes.AsSpan(5, 17)));
        var v = new SpanReader(volumes.AsSpan(22));
        Assert.Equal((10_000L, 6000L, 1024L, 4976L, 0L), (v.ReadInt64(), v.ReadInt64(), v.ReadInt64(), v.ReadInt64(), v.ReadInt64()));
        Assert.Equal((1, 0), (volumes[62], volumes[63]));
    }

    [Fact]
    public async Task FetchStorageIds_EmptyWhenAllowed_ElseEopnotsupp()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(new byte[8], await client.RequestOkAsync(FdfsCommand.StorageFetchStorageIds, new byte[] { 0, 0, 0, 0, 1 }));
        Assert.Equal(Errno.EOPNOTSUPP, await client.StatusOfAsync(FdfsCommand.StorageFetchStorageIds, new byte[5]));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.StorageFetchStorageIds, new byte[4]));
    }

    [Fact]
    public async Task ParameterReq_MatchesTheStockCaptureForTheSampleConfig()
    {
        // The sample tracker.conf values of the captured cluster.
        await using var tracker = await TestTracker.StartAsync(c => c with
        {
            ReservedStorageSpace = ReservedSpace.FromRatio(0.2),
            SlotMaxSize = 1024 * 1024,
            TrunkAllocAlignmentSize = 256,
            TrunkCreateFileSpaceThreshold = 20L * 1024 * 1024 * 1024,
            TrunkFreeSpaceMerge = true,
            TrunkCompressBinlogMinInterval = 86400,
            TrunkCompressBinlogInterval = 86400,
            TrunkBinlogMaxBackups = 7,
        });
        await using var client = await tracker.ConnectAsync();
        string text = Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.StorageParameterReq));

        string expected = string.Concat(
            "use_storage_id=0\n", "id_type_in_filename=ip\n", "trust_storage_server_id=1\n", "response_ip_addr_size=16\n",
            "storage_ip_changed_auto_adjust=1\n", "storage_sync_file_max_delay=86400\n", "store_path=0\n",
            "reserved_storage_space=20.00%\n", "use_trunk_file=0\n", "slot_min_size=256\n", "slot_max_size=1048576\n",
            "trunk_alloc_alignment_size=256\n", "trunk_file_size=67108864\n", "trunk_create_file_advance=0\n",
            "trunk_create_file_time_base=02:00\n", "trunk_create_file_interval=86400\n",
            "trunk_create_file_space_threshold=21474836480\n", "trunk_init_check_occupying=0\n",
            "trunk_init_reload_from_binlog=0\n", "trunk_free_space_merge=1\n", "delete_unused_trunk_files=0\n",
            "trunk_compress_binlog_min_interval=86400\n", "trunk_compress_binlog_interval=86400\n",
            "trunk_compress_binlog_time_base=03:00\n", "trunk_binlog_max_backups=7\n", "store_slave_file_use_link=0\n");
        Assert.Equal(expected, text);
        Assert.Equal(740, text.Length);
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.StorageParameterReq, new byte[1]));
    }

    [Fact]
    public async Task ParameterReq_DefaultReserveIsPrintedInMb()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        string text = Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.StorageParameterReq));
        Assert.Contains("\nreserved_storage_space=1024MB\n", text);
        Assert.Equal(26, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
