using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>Stock data files across restarts, the changelog, storage ids and announce_ip.</summary>
public sealed class PersistenceAndIdsTests
{
    [Fact]
    public async Task RestartedTracker_KnowsGroupsAndStoragesAtOnce_AsOffline_AndServesTheChangelog()
    {
        string basePath = TestTracker.NewBasePath();
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            await using var a = await tracker.ActiveStorageAsync(port: 23000);
            await using var b = await tracker.ActiveStorageAsync(port: 23001);
            await a.BeatAsync(new StorageStatCounters { [StorageStatCounters.Counter.SuccessUploadCount] = 42 });
        }

        // A graceful stop wrote the files; a second tracker on the same data directory starts from them.
        Assert.Contains("\tsuccess_upload_count=42\n", File.ReadAllText(Path.Combine(basePath, "data", "storage_servers_new.dat")));
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            await using var client = await tracker.ConnectAsync();
            var storages = await client.ListStoragesAsync("group1");
            Assert.Equal(["127.0.0.1", "127.0.0.1:23001"], storages.Select(s => s.Id));
            Assert.All(storages, s => Assert.Equal(StorageStatus.Offline, s.Status));
            Assert.Equal(42, storages[0].Counters[StorageStatCounters.Counter.SuccessUploadCount]);

            // Deleting an OFFLINE storage is logged in storage_changelog.dat and served by CHANGELOG_REQ.
            Assert.Empty(await client.RequestOkAsync(FdfsCommand.ServerDeleteStorage, Frames.GroupAnd("group1", "127.0.0.1:23001")));
            await using var again = await tracker.JoinAsync(port: 23000, initFlag: false, status: (sbyte)StorageStatus.Active);
            Assert.Equal(StorageStatus.Online, again.Joined.Status);
            string log = Encoding.ASCII.GetString(await again.Connection.RequestOkAsync(FdfsCommand.StorageChangelogReq));
            Assert.Matches(@"^\d+ group1 127\.0\.0\.1:23001 4 \n$", log);
            Assert.Empty(await again.Connection.RequestOkAsync(FdfsCommand.StorageChangelogReq));
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(basePath, "data"), "*.tmp"));
        Assert.DoesNotContain("23001", File.ReadAllText(Path.Combine(basePath, "data", "storage_servers_new.dat")));
        Directory.Delete(basePath, recursive: true);
    }

    [Fact]
    public async Task A_draining_storage_gets_no_upload_and_stays_draining_across_a_restart_and_only_admin_hosts_drain()
    {
        string basePath = TestTracker.NewBasePath();
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            await using var a = await tracker.ActiveStorageAsync(port: 23000);
            await using var b = await tracker.ActiveStorageAsync(port: 23001);
            await using var client = await tracker.ConnectAsync();
            Assert.Empty(await client.RequestOkAsync(DrainStorage.Command, DrainStorage.Request("group1", "127.0.0.1", draining: true)));
            for (int i = 0; i < 6; i++)
            {
                // QUERY_STORE never names it (round robin would, every other time).
                var store = await client.RequestOkAsync(FdfsCommand.QueryStoreWithoutGroupOne);
                Assert.Equal(23001, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(store.AsSpan(store.Length - 9, 8))); // ..., port i64, path u8
            }

            Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(DrainStorage.Command, DrainStorage.Request("group1", "10.9.9.9", true)));
            Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(DrainStorage.Command, new byte[5]));
        }

        Assert.Contains("\tdraining_since=", File.ReadAllText(Path.Combine(basePath, "data", "storage_servers_new.dat")));
        await using (var tracker = await TestTracker.StartAsync(c => c with { AdminHosts = ["10.0.0.1"] }, basePath: basePath))
        {
            await using var client = await tracker.ConnectAsync();
            var status = StorageSyncStatus.Parse(await client.RequestOkAsync(FdfsCommand.ServerStorageSyncStatus, Frames.Group("group1")));
            Assert.True(status.Draining.ContainsKey("127.0.0.1"));
            Assert.Equal(Errno.EPERM, await client.StatusOfAsync(DrainStorage.Command, DrainStorage.Request("group1", "127.0.0.1", false)));
        }

        Directory.Delete(basePath, recursive: true);
    }

    [Fact]
    public async Task StorageIds_JoinByIdOrAddress_LookupsAndIdList()
    {
        string basePath = TestTracker.NewBasePath();
        string ids = Path.Combine(basePath, "storage_ids.conf");
        await File.WriteAllTextAsync(ids, "100001 group1 127.0.0.1:23000\n100002 group1 10.0.0.9 rw=read\n");
        await using var tracker = await TestTracker.StartAsync(c => c with
        {
            UseStorageId = true, IdTypeInFilename = FileNameIdType.Id, StorageIdsFilename = ids,
        }, basePath: basePath);
        await using var client = await tracker.ConnectAsync();

        string parameters = Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.StorageParameterReq));
        Assert.StartsWith("use_storage_id=1\nid_type_in_filename=id\ntrust_storage_server_id=1\n", parameters);

        var list = await client.RequestOkAsync(FdfsCommand.StorageFetchStorageIds, new byte[5]);
        Assert.Equal("100001 group1 127.0.0.1:23000\n100002 group1 10.0.0.9 rw=read\n", Encoding.ASCII.GetString(list, 8, list.Length - 8));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.StorageFetchStorageIds, new byte[] { 0, 0, 0, 2, 0 }));

        var serverId = new byte[16 + 15];
        FixedString.Write(serverId.AsSpan(0, 16), "group1");
        Encoding.ASCII.GetBytes("127.0.0.1:23000", serverId.AsSpan(16));
        Assert.Equal("100001", Encoding.ASCII.GetString(await client.RequestOkAsync(FdfsCommand.StorageGetServerId, serverId)));
        Assert.Equal("group1", FixedString.Read(await client.RequestOkAsync(FdfsCommand.StorageGetGroupName, new byte[] { 0, 0, 0x59, 0xd8 })));

        // The storage joins by its address; the record carries the id.
        await using var storage = await tracker.ActiveStorageAsync(port: 23000);
        var stat = Assert.Single(await client.ListStoragesAsync("group1"));
        Assert.Equal(("100001", "127.0.0.1", StorageStatus.Active), (stat.Id, stat.IpAddr, stat.Status));

        // An address that storage_ids.conf does not list is refused with ENOENT.
        await using var stranger = await tracker.ConnectAsync();
        var unknown = new FakeStorage(stranger, "group1", 23999, 1, 10);
        Assert.Equal(Errno.ENOENT, await stranger.StatusOfAsync(FdfsCommand.StorageJoin, unknown.Request(true, 0).ToArray()));
        Assert.Empty(await stranger.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task AnnounceIp_IsWhatClientsAreSentTo()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var connection = await tracker.ConnectAsync();
        var storage = new FakeStorage(connection, "group1", 23000, 1, 10);
        var join = storage.Request(initFlag: false, status: (sbyte)StorageStatus.Active) with { AnnounceIp = "192.0.2.7" };
        Assert.Equal(join, StorageJoinRequest.Parse(join.ToArray()) with { Trackers = join.Trackers });
        await connection.RequestOkAsync(FdfsCommand.StorageJoin, join.ToArray());
        await connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, new byte[SyncSourceBody.Size]);
        await storage.ReportDiskUsageAsync((100_000, 50_000));
        await storage.BeatAsync();

        await using var client = await tracker.ConnectAsync();
        var target = QueryStoreResponse.Parse(await client.RequestOkAsync(FdfsCommand.QueryStoreWithoutGroupOne));
        Assert.Equal(new StorageEndpoint("192.0.2.7", 23000), target.Storage);
    }

    [Fact]
    public async Task A_storage_id_joins_only_from_its_listed_address()
    {
        string basePath = TestTracker.NewBasePath();
        string ids = Path.Combine(basePath, "storage_ids.conf");
        await File.WriteAllTextAsync(ids, "100001 group1 127.0.0.1:23000\n100002 group1 127.0.0.2\n");
        await using var tracker = await TestTracker.StartAsync(c => c with { UseStorageId = true, StorageIdsFilename = ids }, basePath: basePath);

        // 127.0.0.3 claims the id of 127.0.0.2 (trust_storage_server_id: the id the storage sends is taken).
        await using var impostor = await tracker.ConnectAsync("127.0.0.3");
        var claim = new FakeStorage(impostor, "group1", 23000, 1, 10).Request(true, 0) with { StorageId = "100002" };
        Assert.Equal(Errno.EPERM, await impostor.StatusOfAsync(FdfsCommand.StorageJoin, claim.ToArray()));

        // The listed address may.
        await using var real = await tracker.ConnectAsync("127.0.0.2");
        await real.RequestOkAsync(FdfsCommand.StorageJoin, (new FakeStorage(real, "group1", 23000, 1, 10).Request(true, 0) with { StorageId = "100002" }).ToArray());
        await using var client = await tracker.ConnectAsync();
        Assert.Equal("100002", Assert.Single(await client.ListStoragesAsync("group1")).Id);

        // fdfs_storage_stat shows ids when the cluster stat says they are in use.
        var stat = await client.RequestOkAsync(FdfsCommand.ServerStorageClusterStat, new byte[4]);
        Assert.Equal(1, stat[0]);
        Assert.Equal("100002", FixedString.Read(stat.AsSpan(6, 16)));
    }

    [Fact]
    public async Task Announcing_a_members_address_from_another_host_is_refused_and_a_bad_address_too()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var member = await tracker.ActiveStorageAsync(port: 23000, localIp: "127.0.0.2");

        await using var impostor = await tracker.ConnectAsync("127.0.0.3");
        var takeover = new FakeStorage(impostor, "group1", 23000, 1, 10).Request(false, (sbyte)StorageStatus.Active) with { AnnounceIp = "127.0.0.2" };
        Assert.Equal(Errno.EPERM, await impostor.StatusOfAsync(FdfsCommand.StorageJoin, takeover.ToArray()));

        await using var broken = await tracker.ConnectAsync("127.0.0.4");
        var multicast = new FakeStorage(broken, "group1", 23000, 1, 10).Request(true, 0) with { AnnounceIp = "239.1.2.3" };
        Assert.Equal(Errno.EINVAL, await broken.StatusOfAsync(FdfsCommand.StorageJoin, multicast.ToArray()));

        await using var client = await tracker.ConnectAsync();
        var only = Assert.Single(await client.ListStoragesAsync("group1"));
        Assert.Equal(("127.0.0.2", StorageStatus.Active), (only.IpAddr, only.Status));
    }

    [Fact]
    public async Task Report_status_comes_only_from_a_member_of_the_group()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var source = await tracker.ActiveStorageAsync(port: 23000, localIp: "127.0.0.2");
        await using var joining = await tracker.JoinAsync(port: 23000, localIp: "127.0.0.5");
        await joining.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestReq);
        await using var client = await tracker.ConnectAsync();
        var before = (await client.ListStoragesAsync("group1")).Single(s => s.IpAddr == "127.0.0.5").Status;

        var report = new byte[ProtocolConstants.GroupNameMaxLen + StorageBrief.Size];
        FixedString.Write(report.AsSpan(0, 16), "group1");
        new StorageBrief(StorageStatus.Offline, 23000, "127.0.0.5", "127.0.0.5").Write(report.AsSpan(16));
        await using var stranger = await tracker.ConnectAsync("127.0.0.9");
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(FdfsCommand.StorageReportStatus, report));
        Assert.Equal(before, (await client.ListStoragesAsync("group1")).Single(s => s.IpAddr == "127.0.0.5").Status);
        Assert.Empty(await stranger.RequestOkAsync(FdfsCommand.ActiveTest));

        // The group's member (its sync source) may.
        await using var member = await tracker.ConnectAsync("127.0.0.2");
        Assert.Equal(0, await member.StatusOfAsync(FdfsCommand.StorageReportStatus, report));
    }
}
