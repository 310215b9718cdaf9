using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class StorageConfigTests
{
    private const string Required = "base_path = /data/storage\ntracker_server = 10.0.0.1:22122\n";

    private static StorageConfig Parse(string text) => StorageConfig.FromIni(IniFile.Parse(text, "/etc/fdfs"));

    private static StorageConfig Minimal(string extra = "") => Parse(Required + extra + "\n");

    [Fact]
    public void Cluster_secret_key_is_read_and_empty_by_default()
    {
        Assert.Equal("", Minimal().ClusterSecretKey);
        Assert.Equal("s3cret", Minimal("cluster_secret_key = s3cret").ClusterSecretKey);
    }

    [Fact]
    public void Sample_conf_is_read_completely()
    {
        using var dir = new TempConfDir();
        var c = StorageConfig.Load(dir.Write("storage.conf", SampleConfs.Storage));

        Assert.False(c.Disabled);
        Assert.Equal("group1", c.GroupName);
        Assert.Equal("", c.BindAddr);
        Assert.True(c.ClientBind);
        Assert.Equal(23000, c.Port);
        Assert.Equal("auto", c.AddressFamily);
        Assert.Null(c.ServerId);
        Assert.Equal(5, c.ConnectTimeout);
        Assert.Equal(60, c.NetworkTimeout);
        Assert.Equal(30, c.HeartBeatInterval);
        Assert.Equal(60, c.StatReportInterval);
        Assert.Equal("/opt/fastdfs", c.BasePath);
        Assert.Equal(1024, c.MaxConnections);
        Assert.Equal(256 * 1024, c.BuffSize);
        Assert.Equal(256 * 1024, c.MinBuffSize);
        Assert.Equal(256 * 1024, c.MaxPackageSize);
        Assert.Equal(1, c.AcceptThreads);
        Assert.Equal(4, c.WorkThreads);
        Assert.True(c.DiskRwSeparated);
        Assert.Equal(2, c.DiskReaderThreads);
        Assert.Equal(1, c.DiskWriterThreads);
        Assert.Equal(1, c.SyncMinThreads);
        Assert.Equal(4, c.SyncMaxThreads); // auto = 2 x store_path_count
        Assert.Equal(10, c.SyncWaitMsec);
        Assert.Equal(0, c.SyncInterval);
        Assert.Equal(new TimeOnly(0, 0), c.SyncStartTime);
        Assert.Equal(new TimeOnly(23, 59), c.SyncEndTime);
        Assert.Equal(500, c.WriteMarkFileFreq);
        Assert.Equal(4, c.DiskRecoveryThreads);
        Assert.Equal(2, c.StorePathCount);
        Assert.Equal([new StorePath("/data/fastdfs0"), new StorePath("/data/fastdfs1", ReadOnly: true)], c.StorePaths);
        Assert.Equal(256, c.SubdirCountPerPath);
        Assert.Equal(
            [
                new TrackerAddress("192.168.209.121", 22122),
                new TrackerAddress("192.168.209.122", 22122),
                new TrackerAddress("10.0.0.5", 22122) { SecondHost = "172.16.0.5" },
                new TrackerAddress("fe80::1", 22123),
                new TrackerAddress("127.0.0.1", 22122), // loopback allowed, unlike stock
            ],
            c.TrackerServers);
        Assert.Equal("info", c.LogLevel);
        Assert.Equal("", c.RunByGroup);
        Assert.Equal("", c.RunByUser);
        Assert.Equal(["*"], c.AllowHosts);
        Assert.Equal(0, c.FileDistributePathMode);
        Assert.Equal(100, c.FileDistributeRotateCount);
        Assert.Equal(0, c.FsyncAfterWrittenBytes);
        Assert.Equal(1, c.SyncBinlogBuffInterval);
        Assert.Equal(60, c.SyncStatFileInterval);
        Assert.Equal(512 * 1024, c.ThreadStackSize);
        Assert.Equal(10, c.UploadPriority);
        Assert.Equal("", c.IfAliasPrefix);
        Assert.False(c.CheckFileDuplicate);
        Assert.Equal("hash", c.FileSignatureMethod);
        Assert.Null(c.KeyNamespace); // only read with check_file_duplicate
        Assert.False(c.KeepAlive);
        Assert.False(c.FileSyncSkipInvalidRecord);
        Assert.True(c.UseConnectionPool);
        Assert.Equal(3600, c.ConnectionPoolMaxIdleTime);
        Assert.True(c.CompressBinlog);
        Assert.Equal(new TimeOnly(1, 30), c.CompressBinlogTime);
        Assert.True(c.CheckStorePathMark);
        Assert.Equal(8889, c.HttpServerPort);
        Assert.True(c.ErrorLog.LogFileCompressOld);         // from [error-log]
        Assert.Equal(7, c.ErrorLog.LogFileCompressDaysBefore); // from global
        Assert.Equal(15, c.ErrorLog.LogFileKeepDays);
        Assert.True(c.AccessLogEnabled);
        Assert.Equal(LogTimePrecision.Microsecond, c.AccessLogTimePrecision);
        Assert.Equal(3, c.AccessLog.LogFileKeepDays);       // from [access-log]
        Assert.False(c.AccessLog.LogFileCompressOld);       // global, not [error-log]
        Assert.Equal(7, c.AccessLog.LogFileCompressDaysBefore);
    }

    [Fact]
    public void Minimal_conf_gets_code_defaults()
    {
        var c = Minimal();

        Assert.Null(c.GroupName); // absent: the storage asks the tracker
        Assert.True(c.ClientBind);
        Assert.Equal(23000, c.Port);
        Assert.Equal(10, c.ConnectTimeout);
        Assert.Equal(30, c.NetworkTimeout);
        Assert.Equal(30, c.HeartBeatInterval);
        Assert.Equal(300, c.StatReportInterval);
        Assert.Equal(256, c.MaxConnections);
        Assert.Equal(256 * 1024, c.BuffSize);
        Assert.Equal(1, c.AcceptThreads);
        Assert.Equal(4, c.WorkThreads);
        Assert.True(c.DiskRwSeparated);
        Assert.Equal(1, c.DiskReaderThreads);
        Assert.Equal(1, c.DiskWriterThreads);
        Assert.Equal(1, c.SyncMinThreads);
        Assert.Equal(2, c.SyncMaxThreads);
        Assert.Equal(100, c.SyncWaitMsec);
        Assert.Equal(0, c.SyncInterval);
        Assert.Equal(new TimeOnly(0, 0), c.SyncStartTime);
        Assert.Equal(new TimeOnly(23, 59), c.SyncEndTime);
        Assert.Equal(500, c.WriteMarkFileFreq);
        Assert.Equal(1, c.DiskRecoveryThreads);
        Assert.Equal([new StorePath("/data/storage")], c.StorePaths);
        Assert.Equal(256, c.SubdirCountPerPath);
        Assert.Equal([new TrackerAddress("10.0.0.1", 22122)], c.TrackerServers);
        Assert.Equal(["*"], c.AllowHosts);
        Assert.Equal(100, c.FileDistributeRotateCount);
        Assert.Equal(60, c.SyncBinlogBuffInterval);
        Assert.Equal(60, c.SyncStatFileInterval);
        Assert.Equal(256 * 1024, c.ThreadStackSize);
        Assert.Equal(10, c.UploadPriority);
        Assert.False(c.UseConnectionPool);
        Assert.Equal(3600, c.ConnectionPoolMaxIdleTime);
        Assert.False(c.CompressBinlog);
        Assert.Equal(new TimeOnly(1, 30), c.CompressBinlogTime);
        Assert.True(c.CheckStorePathMark);
        Assert.Equal(8888, c.HttpServerPort);
        Assert.False(c.AccessLogEnabled);
        Assert.Equal(LogTimePrecision.Millisecond, c.AccessLogTimePrecision);
        Assert.Equal(LogConfig.Default, c.ErrorLog);
    }

    [Fact]
    public void Default_factory_equals_a_minimal_conf_with_a_group()
    {
        var trackers = new[] { new TrackerAddress("10.0.0.1", 22122) };
        var factory = StorageConfig.Default("/data/storage/", trackers);
        var fromConf = Minimal("group_name = group1");

        Assert.Equal("group1", factory.GroupName);
        Assert.Equal([new StorePath("/data/storage")], factory.StorePaths);
        Assert.Equal(fromConf with
        {
            StorePaths = factory.StorePaths,
            TrackerServers = factory.TrackerServers,
            AllowHosts = factory.AllowHosts,
            AdminHosts = factory.AdminHosts,
            Http = fromConf.Http with { Enabled = false }, // a config built in code starts with HTTP off
        }, factory);
        Assert.Throws<ArgumentException>(() => StorageConfig.Default("/d", trackers, "bad-name"));
        Assert.Throws<ArgumentException>(() => StorageConfig.Default("/d", []));
    }

    [Theory]
    [InlineData("", 2)]
    [InlineData("sync_max_threads = auto", 2)]
    [InlineData("sync_max_threads = AUTO\nstore_path_count = 3\nstore_path1 = /b\nstore_path2 = /c", 6)]
    [InlineData("sync_max_threads = 0\nstore_path_count = 2\nstore_path1 = /b", 4)]
    [InlineData("sync_max_threads = 300", 256)]
    [InlineData("sync_max_threads = 8", 8)]
    [InlineData("sync_max_threads = lots\nsync_min_threads = 3", 6)]
    [InlineData("sync_max_threads = 1\nsync_min_threads = 4", 4)]
    [InlineData("sync_min_threads = 0", 2)]
    public void Sync_max_threads_rules(string extra, int expected)
    {
        Assert.Equal(expected, Minimal(extra).SyncMaxThreads);
    }

    [Fact]
    public void Sync_min_threads_is_clamped()
    {
        Assert.Equal(1, Minimal("sync_min_threads = 0").SyncMinThreads);
        Assert.Equal(256, Minimal("sync_min_threads = 1000").SyncMinThreads);
    }

    [Fact]
    public void Tracker_servers_keep_at_most_sixteen_distinct()
    {
        var lines = string.Join('\n', Enumerable.Range(1, 20).Select(i => $"tracker_server = 10.1.0.{i}:22122"));
        var c = Parse($"base_path = /d\ntracker_server = 10.1.0.1:22122\n{lines}\n");

        Assert.Equal(16, c.TrackerServers.Count);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => new TrackerAddress($"10.1.0.{i}", 22122)), c.TrackerServers);
    }

    [Fact]
    public void Tracker_server_without_port_uses_22122()
    {
        Assert.Equal(22122, Parse("base_path = /d\ntracker_server = tracker.local").TrackerServers[0].Port);
    }

    [Fact]
    public void Disk_threads_may_be_zero_when_not_separated()
    {
        var c = Minimal("disk_rw_separated = false\ndisk_reader_threads = 0\ndisk_writer_threads = 2");

        Assert.False(c.DiskRwSeparated);
        Assert.Equal(0, c.DiskReaderThreads);
        Assert.Equal(2, c.DiskWriterThreads);
    }

    [Fact]
    public void Duplicate_check_reads_fastdht_keys()
    {
        var c = Minimal("check_file_duplicate = 1\nfile_signature_method = MD5\nkey_namespace = FastDFS\nkeep_alive = 1");

        Assert.True(c.CheckFileDuplicate);
        Assert.Equal("md5", c.FileSignatureMethod);
        Assert.Equal("FastDFS", c.KeyNamespace);
        Assert.True(c.KeepAlive);
    }

    [Fact]
    public void Explicit_values()
    {
        var c = Minimal("""
            server_id = 100001
            client_bind = false
            bind_addr = 10.0.0.9
            store_path0_readonly = true
            sync_interval = -5
            sync_start_time = 01:00
            sync_end_time = 05:30
            fsync_after_written_bytes = 1MB
            file_distribute_path_mode = 1
            upload_priority = 1
            if_alias_prefix = eth0:
            [access-log]
            time_precision = ms
            """);

        Assert.Equal("100001", c.ServerId);
        Assert.False(c.ClientBind);
        Assert.Equal("10.0.0.9", c.BindAddr);
        Assert.True(c.StorePaths[0].ReadOnly);
        Assert.Equal(0, c.SyncInterval);
        Assert.Equal(new TimeOnly(1, 0), c.SyncStartTime);
        Assert.Equal(new TimeOnly(5, 30), c.SyncEndTime);
        Assert.Equal(1 << 20, c.FsyncAfterWrittenBytes);
        Assert.Equal(1, c.FileDistributePathMode);
        Assert.Equal(1, c.UploadPriority);
        Assert.Equal("eth0:", c.IfAliasPrefix);
        Assert.False(c.AccessLogEnabled);
        Assert.Equal(LogTimePrecision.Millisecond, c.AccessLogTimePrecision);
    }

    [Theory]
    [InlineData("group_name =", "group_name")]
    [InlineData("group_name = group_1", "group_name")]
    [InlineData("group_name = group12345678901234", "group_name")]
    [InlineData("buff_size = 64KB", "buff_size")]
    [InlineData("min_buff_size = 8KB\nmax_buff_size = 128KB", "buff_size")]
    [InlineData("buff_size = 12Q", "buff_size")]
    [InlineData("subdir_count_per_path = 0", "subdir_count_per_path")]
    [InlineData("subdir_count_per_path = 257", "subdir_count_per_path")]
    [InlineData("store_path_count = 0", "store_path_count")]
    [InlineData("store_path_count = 2", "store_path1")]
    [InlineData("store_path_count = 2\nstore_path1 =", "store_path1")]
    [InlineData("store_path0 =", "store_path0")]
    [InlineData("tracker_server = 10.0.0.2:abc", "tracker_server")]
    [InlineData("tracker_server = 10.0.0.2:0", "tracker_server")]
    [InlineData("tracker_server = [fe80::1:22122", "tracker_server")]
    [InlineData("disk_reader_threads = 0", "disk_reader_threads")]
    [InlineData("disk_writer_threads = 0", "disk_writer_threads")]
    [InlineData("disk_rw_separated = false\ndisk_writer_threads = -1", "disk_writer_threads")]
    [InlineData("disk_rw_separated = false\ndisk_reader_threads = 0\ndisk_writer_threads = 0", "disk_writer_threads")]
    [InlineData("disk_recovery_threads = 0", "disk_recovery_threads")]
    [InlineData("accept_threads = 0", "accept_threads")]
    [InlineData("work_threads = 0", "work_threads")]
    [InlineData("check_file_duplicate = true", "key_namespace")]
    [InlineData("check_file_duplicate = true\nkey_namespace =", "key_namespace")]
    [InlineData("use_connection_pool = true\nconnection_pool_max_idle_time = -1", "connection_pool_max_idle_time")]
    [InlineData("sync_start_time = 24:00", "sync_start_time")]
    [InlineData("compress_binlog_time = later", "compress_binlog_time")]
    [InlineData("fsync_after_written_bytes = -1", "fsync_after_written_bytes")]
    [InlineData("heart_beat_interval = 30s", "heart_beat_interval")]
    [InlineData("http.server_port = 99999", "http.server_port")]
    [InlineData("[access-log]\nlog_file_keep_days = x", "log_file_keep_days")]
    public void Invalid_values_are_config_errors_naming_the_key(string extra, string key)
    {
        ConfAssert.ThrowsFor(key, () => Parse(Required + extra));
    }

    [Fact]
    public void The_log_rotation_keys_of_a_5x_conf_count_where_the_6x_keys_are_absent()
    {
        var c = Minimal("""
            rotate_error_log = false
            error_log_rotate_time = 03:15
            rotate_error_log_size = 10MB
            use_access_log = true
            rotate_access_log = true
            access_log_rotate_time = 04:00
            rotate_access_log_size = 0
            """);
        Assert.False(c.ErrorLog.LogFileRotateEveryday);
        Assert.Equal(new TimeOnly(3, 15), c.ErrorLog.LogFileRotateTime);
        Assert.Equal(10L << 20, c.ErrorLog.LogFileRotateOnSize);
        Assert.True(c.AccessLogEnabled);
        Assert.True(c.AccessLog.LogFileRotateEveryday);
        Assert.Equal(new TimeOnly(4, 0), c.AccessLog.LogFileRotateTime);

        // The 6.x keys win, and [access-log] enabled wins over use_access_log.
        var both = Minimal("rotate_error_log = false\nlog_file_rotate_everyday = true\nuse_access_log = true\n[access-log]\nenabled = false");
        Assert.True(both.ErrorLog.LogFileRotateEveryday);
        Assert.False(both.AccessLogEnabled);
    }

    [Fact]
    public void Base_path_and_tracker_server_are_required()
    {
        ConfAssert.ThrowsFor("base_path", () => Parse("tracker_server = 10.0.0.1:22122"));
        ConfAssert.ThrowsFor("tracker_server", () => Parse("base_path = /d"));
        // A tracker_server line inside a section does not count.
        ConfAssert.ThrowsFor("tracker_server", () => Parse("base_path = /d\n[error-log]\ntracker_server = 10.0.0.1:22122"));
    }
}
