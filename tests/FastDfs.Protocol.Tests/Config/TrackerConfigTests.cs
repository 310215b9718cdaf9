using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class TrackerConfigTests
{
    private static TrackerConfig Parse(string text) => TrackerConfig.FromIni(IniFile.Parse(text, "/etc/fdfs"));

    private static TrackerConfig Minimal(string extra = "") => Parse($"base_path = /data/tracker\n{extra}\n");

    [Fact]
    public void Sample_conf_is_read_completely()
    {
        using var dir = new TempConfDir();
        var path = dir.Write("tracker.conf", SampleConfs.Tracker);

        var c = TrackerConfig.Load(path);

        Assert.False(c.Disabled);
        Assert.Equal("", c.BindAddr);
        Assert.Equal(22122, c.Port);
        Assert.Equal("auto", c.AddressFamily);
        Assert.Equal("auto", c.ResponseIpAddrSize);
        Assert.Equal(5, c.ConnectTimeout);
        Assert.Equal(60, c.NetworkTimeout);
        Assert.False(c.UseIoUring);
        Assert.True(c.UseSendZc);
        Assert.Equal("/opt/fastdfs", c.BasePath);
        Assert.Equal(1024, c.MaxConnections);
        Assert.Equal(1, c.AcceptThreads);
        Assert.Equal(4, c.WorkThreads);
        // Stock logs max_pkg_size=256 KB, min_buff_size=8 KB, max_buff_size=256 KB for the sample.
        Assert.Equal(256 * 1024, c.BuffSize);
        Assert.Equal(256 * 1024, c.MaxPackageSize);
        Assert.Equal(8 * 1024, c.MinBuffSize);
        Assert.Equal(256 * 1024, c.MaxBuffSize);
        Assert.Equal(StoreLookup.LoadBalance, c.StoreLookup);
        Assert.Equal("", c.StoreGroup); // only read when store_lookup = 1
        Assert.Equal(StoreServerSelection.RoundRobin, c.StoreServer);
        Assert.Equal(StorePathSelection.RoundRobin, c.StorePath);
        Assert.Equal(DownloadServerSelection.RoundRobin, c.DownloadServer);
        Assert.Equal(ReservedSpace.FromRatio(0.2), c.ReservedStorageSpace);
        Assert.Equal("20.00%", c.ReservedStorageSpace.ToParameterString());
        Assert.Equal("info", c.LogLevel);
        Assert.Equal("", c.RunByGroup);
        Assert.Equal("", c.RunByUser);
        Assert.Equal(["10.0.0.[1-15]", "192.168.5.64/26"], c.AllowHosts);
        Assert.Equal(120, c.CheckActiveInterval);
        Assert.Equal(256 * 1024, c.ThreadStackSize);
        Assert.True(c.StorageIpChangedAutoAdjust);
        Assert.Equal(86400, c.StorageSyncFileMaxDelay);
        Assert.Equal(300, c.StorageSyncFileMaxTime);
        Assert.False(c.UseTrunkFile); // "false " with a trailing blank
        Assert.Equal(256, c.SlotMinSize);
        Assert.Equal(1024 * 1024, c.SlotMaxSize);
        Assert.Equal(256, c.TrunkAllocAlignmentSize);
        Assert.True(c.TrunkFreeSpaceMerge);
        Assert.False(c.DeleteUnusedTrunkFiles);
        Assert.Equal(64 * 1024 * 1024, c.TrunkFileSize);
        Assert.False(c.TrunkCreateFileAdvance);
        Assert.Equal(new TimeOnly(2, 0), c.TrunkCreateFileTimeBase);
        Assert.Equal(86400, c.TrunkCreateFileInterval);
        Assert.Equal(21474836480L, c.TrunkCreateFileSpaceThreshold);
        Assert.False(c.TrunkInitCheckOccupying);
        Assert.False(c.TrunkInitReloadFromBinlog);
        Assert.Equal(86400, c.TrunkCompressBinlogMinInterval);
        Assert.Equal(86400, c.TrunkCompressBinlogInterval);
        Assert.Equal(new TimeOnly(3, 0), c.TrunkCompressBinlogTimeBase);
        Assert.Equal(7, c.TrunkBinlogMaxBackups);
        Assert.False(c.UseStorageId);
        Assert.Equal(Path.Combine(dir.Root, "storage_ids.conf"), c.StorageIdsFilename);
        Assert.Equal(FileNameIdType.Ip, c.IdTypeInFilename); // "id" is ignored without use_storage_id
        Assert.True(c.TrustStorageServerId);
        Assert.False(c.StoreSlaveFileUseLink);
        Assert.True(c.UseConnectionPool);
        Assert.Equal(3600, c.ConnectionPoolMaxIdleTime);
        Assert.Equal(8081, c.HttpServerPort);
        Assert.Equal(1, c.ErrorLog.SyncLogBuffInterval);
        Assert.True(c.ErrorLog.LogFileRotateEveryday);
        Assert.Equal(new TimeOnly(0, 0), c.ErrorLog.LogFileRotateTime);
        Assert.False(c.ErrorLog.LogFileCompressOld);
        Assert.Equal(7, c.ErrorLog.LogFileCompressDaysBefore);
        Assert.Equal(64L << 20, c.ErrorLog.LogFileRotateOnSize); // [error-log] overrides global 0
        Assert.Equal(30, c.ErrorLog.LogFileKeepDays);            // [error-log] overrides global 15
        Assert.Equal(new TimeOnly(1, 30), c.ErrorLog.LogFileDeleteOldTime);
    }

    [Fact]
    public void Minimal_conf_gets_code_defaults()
    {
        var c = Minimal();

        Assert.False(c.Disabled);
        Assert.Equal("", c.BindAddr);
        Assert.Equal(22122, c.Port);
        Assert.Equal("auto", c.ResponseIpAddrSize);
        Assert.Equal(10, c.ConnectTimeout);
        Assert.Equal(60, c.NetworkTimeout);
        Assert.Equal("/data/tracker", c.BasePath);
        Assert.Equal(256, c.MaxConnections);
        Assert.Equal(1, c.AcceptThreads);
        Assert.Equal(4, c.WorkThreads);
        Assert.Equal(256 * 1024, c.BuffSize);
        Assert.Equal(256 * 1024, c.MinBuffSize);
        Assert.Equal(256 * 1024, c.MaxBuffSize);
        Assert.Equal(256 * 1024, c.MaxPackageSize);
        Assert.Equal(StoreLookup.RoundRobin, c.StoreLookup);
        Assert.Equal(StoreServerSelection.RoundRobin, c.StoreServer);
        Assert.Equal(StorePathSelection.RoundRobin, c.StorePath);
        Assert.Equal(DownloadServerSelection.RoundRobin, c.DownloadServer);
        Assert.Equal("1024MB", c.ReservedStorageSpace.ToParameterString());
        Assert.Equal("info", c.LogLevel);
        Assert.Equal(["*"], c.AllowHosts);
        Assert.Equal(100, c.CheckActiveInterval);
        Assert.True(c.StorageIpChangedAutoAdjust);
        Assert.Equal(86400, c.StorageSyncFileMaxDelay);
        Assert.Equal(300, c.StorageSyncFileMaxTime);
        Assert.False(c.UseTrunkFile);
        Assert.Equal(256, c.SlotMinSize);
        Assert.Equal(8 * 1024 * 1024, c.SlotMaxSize);
        Assert.Equal(0, c.TrunkAllocAlignmentSize);
        Assert.False(c.TrunkFreeSpaceMerge);
        Assert.Equal(64 * 1024 * 1024, c.TrunkFileSize);
        Assert.Equal(new TimeOnly(2, 0), c.TrunkCreateFileTimeBase);
        Assert.Equal(86400, c.TrunkCreateFileInterval);
        Assert.Equal(0, c.TrunkCreateFileSpaceThreshold);
        Assert.Equal(0, c.TrunkCompressBinlogMinInterval);
        Assert.Equal(0, c.TrunkCompressBinlogInterval);
        Assert.Equal(new TimeOnly(3, 0), c.TrunkCompressBinlogTimeBase);
        Assert.Equal(0, c.TrunkBinlogMaxBackups);
        Assert.False(c.UseStorageId);
        Assert.Equal("/etc/fdfs/storage_ids.conf", c.StorageIdsFilename);
        Assert.Equal(FileNameIdType.Ip, c.IdTypeInFilename);
        Assert.True(c.TrustStorageServerId);
        Assert.False(c.UseConnectionPool);
        Assert.Equal(3600, c.ConnectionPoolMaxIdleTime);
        Assert.Equal(8080, c.HttpServerPort);
        Assert.Equal(LogConfig.Default, c.ErrorLog);
        Assert.Equal(15, c.ErrorLog.LogFileKeepDays);
        Assert.Equal(1, c.ErrorLog.LogFileCompressDaysBefore);
    }

    [Fact]
    public void Default_factory_equals_a_minimal_conf()
    {
        var fromConf = Minimal();
        var factory = TrackerConfig.Default("/data/tracker/");

        Assert.Equal("/data/tracker", factory.BasePath);
        Assert.Equal("/data/tracker/storage_ids.conf", factory.StorageIdsFilename);
        // Lists compare by reference in records; everything else must match exactly, except that a config
        // built in code starts with the built-in HTTP server off (HttpConfig.Enabled).
        Assert.True(fromConf.Http.Enabled);
        Assert.Equal(fromConf.AllowHosts, factory.AllowHosts);
        Assert.Equal(fromConf.AdminHosts, factory.AdminHosts);
        Assert.Equal(fromConf.TrackerServers, factory.TrackerServers);
        Assert.Equal(fromConf with
        {
            AllowHosts = factory.AllowHosts, AdminHosts = factory.AdminHosts, TrackerServers = factory.TrackerServers,
            StorageIdsFilename = factory.StorageIdsFilename, Http = factory.Http,
        }, factory);
        Assert.Equal(fromConf.Http with { Enabled = false }, factory.Http);
    }

    [Fact]
    public void Key_in_error_log_section_is_not_seen_globally()
    {
        var c = Parse("base_path = /d\n[error-log]\nport = 1\nwork_threads = 0\n");

        Assert.Equal(22122, c.Port);
        Assert.Equal(4, c.WorkThreads);
    }

    [Fact]
    public void Tracker_server_lines_are_optional_and_read_like_storage_conf()
    {
        Assert.Empty(Minimal().TrackerServers);
        var c = Minimal("tracker_server = 10.0.0.1:22122\ntracker_server = 10.0.0.2:22122\ntracker_server = 10.0.0.1:22122");
        Assert.Equal([new TrackerAddress("10.0.0.1", 22122), new TrackerAddress("10.0.0.2", 22122)], c.TrackerServers);
        Assert.Throws<ConfigException>(() => Minimal("tracker_server = 10.0.0.3:port"));
    }

    [Fact]
    public void Admin_hosts_default_to_everyone_and_repeat()
    {
        Assert.Equal(["*"], Minimal().AdminHosts);
        Assert.Equal("", Minimal().ClusterSecretKey);
        Assert.Equal("k 1", Minimal("cluster_secret_key = k 1").ClusterSecretKey);
        Assert.Equal(["10.0.0.[1-3]", "192.168.0.0/24"], Minimal("admin_hosts = 10.0.0.[1-3]\nadmin_hosts = 192.168.0.0/24").AdminHosts);
    }

    [Fact]
    public void Last_occurrence_wins()
    {
        var c = Parse("base_path = /a\nport = 1000\nbase_path = /b\nport = 2000\n");

        Assert.Equal("/b", c.BasePath);
        Assert.Equal(2000, c.Port);
    }

    [Fact]
    public void Store_lookup_3_is_the_weighted_choice()
    {
        Assert.Equal(StoreLookup.Weighted, Minimal("store_lookup = 3").StoreLookup);
    }

    [Fact]
    public void Specified_group_lookup_reads_store_group()
    {
        var c = Minimal("store_lookup = 1\nstore_group = group2");

        Assert.Equal(StoreLookup.SpecifiedGroup, c.StoreLookup);
        Assert.Equal("group2", c.StoreGroup);
    }

    [Theory]
    [InlineData("store_server = 7", StoreServerSelection.RoundRobin)]
    [InlineData("store_server = 2", StoreServerSelection.FirstByPriority)]
    [InlineData("store_server = 1", StoreServerSelection.FirstByIp)]
    [InlineData("store_server = 0\nuse_trunk_file = true", StoreServerSelection.FirstByIp)]
    [InlineData("store_server = 9\nuse_trunk_file = true", StoreServerSelection.FirstByIp)]
    [InlineData("store_server = 2\nuse_trunk_file = true", StoreServerSelection.FirstByPriority)]
    public void Store_server_rules(string extra, StoreServerSelection expected)
    {
        Assert.Equal(expected, Minimal(extra).StoreServer);
    }

    [Theory]
    [InlineData("0", StorePathSelection.RoundRobin)]
    [InlineData("1", StorePathSelection.RoundRobin)]
    [InlineData("2", StorePathSelection.LoadBalance)]
    [InlineData("3", StorePathSelection.RoundRobin)]
    public void Store_path_invalid_means_round_robin(string value, StorePathSelection expected)
    {
        Assert.Equal(expected, Minimal($"store_path = {value}").StorePath);
    }

    [Theory]
    [InlineData("1", DownloadServerSelection.SourceFirst)]
    [InlineData("2", DownloadServerSelection.RoundRobin)]
    [InlineData("-1", DownloadServerSelection.RoundRobin)]
    public void Download_server_invalid_means_round_robin(string value, DownloadServerSelection expected)
    {
        Assert.Equal(expected, Minimal($"download_server = {value}").DownloadServer);
    }

    [Fact]
    public void Non_positive_intervals_and_timeouts_take_defaults()
    {
        var c = Minimal("""
            check_active_interval = 0
            connect_timeout = -1
            network_timeout = 0
            max_connections = 0
            storage_sync_file_max_delay = -5
            storage_sync_file_max_time = 0
            port = 0
            sync_log_buff_interval = 0
            """);

        Assert.Equal(100, c.CheckActiveInterval);
        Assert.Equal(10, c.ConnectTimeout);
        Assert.Equal(60, c.NetworkTimeout);
        Assert.Equal(256, c.MaxConnections);
        Assert.Equal(86400, c.StorageSyncFileMaxDelay);
        Assert.Equal(300, c.StorageSyncFileMaxTime);
        Assert.Equal(22122, c.Port);
        Assert.Equal(1, c.ErrorLog.SyncLogBuffInterval);
    }

    [Fact]
    public void Trunk_size_rules()
    {
        var small = Minimal("trunk_file_size = 1MB");
        Assert.Equal(4 << 20, small.TrunkFileSize);
        Assert.Equal(512 << 10, small.SlotMaxSize); // default trunk_file_size / 8, after the raise

        var big = Minimal("trunk_file_size = 128MB");
        Assert.Equal(16 << 20, big.SlotMaxSize);

        var capped = Minimal("trunk_file_size = 8MB\nslot_max_size = 6MB\nslot_min_size = 128KB");
        Assert.Equal(4 << 20, capped.SlotMaxSize);  // capped at trunk_file_size / 2
        Assert.Equal(64 << 10, capped.SlotMinSize); // capped at 64KB

        var aligned = Minimal("slot_min_size = 256\ntrunk_alloc_alignment_size = 512");
        Assert.Equal(512, aligned.SlotMinSize);
        Assert.Equal(512, aligned.TrunkAllocAlignmentSize);
    }

    [Fact]
    public void Network_buffer_rules()
    {
        var buffOnly = Minimal("buff_size = 512KB");
        Assert.Equal((512L << 10, 512L << 10, 512L << 10), (buffOnly.MinBuffSize, buffOnly.MaxBuffSize, buffOnly.MaxPackageSize));

        var oneOfTwo = Minimal("min_buff_size = 8KB");
        Assert.Equal((256L << 10, 256L << 10), (oneOfTwo.MinBuffSize, oneOfTwo.MaxBuffSize));

        var bigMax = Minimal("min_buff_size = 8KB\nmax_buff_size = 1MB");
        Assert.Equal((8L << 10, 1L << 20, 1L << 20), (bigMax.MinBuffSize, bigMax.MaxBuffSize, bigMax.MaxPackageSize));
        Assert.Equal(256L << 10, bigMax.BuffSize);

        var maxBelowMin = Minimal("buff_size = 16KB\nmin_buff_size = 64KB\nmax_buff_size = 8KB");
        Assert.Equal((64L << 10, 64L << 10, 16L << 10), (maxBelowMin.MinBuffSize, maxBelowMin.MaxBuffSize, maxBelowMin.MaxPackageSize));

        var tiny = Minimal("buff_size = 1K\nthread_stack_size = 1K");
        Assert.Equal(8L << 10, tiny.MaxPackageSize);       // clamped to 8KB like stock
        Assert.Equal(64L << 10, tiny.ThreadStackSize);     // clamped to 64KB like stock
    }

    [Theory]
    [InlineData(null, false, false, 16)]
    [InlineData(null, true, false, 16)]
    [InlineData(null, true, true, 46)]
    [InlineData(null, false, true, 16)]
    [InlineData("AUTO", true, true, 46)]
    [InlineData("auto", true, false, 16)]
    [InlineData("IPv4", false, false, 46)]
    [InlineData("IPv6", false, false, 46)]
    [InlineData("", false, false, 46)]
    public void Response_ip_addr_size_rules(string? value, bool useStorageId, bool idsHaveIpv6, int expected)
    {
        var extra = (value is null ? "" : $"response_ip_addr_size = {value}\n") + $"use_storage_id = {useStorageId}\n";

        Assert.Equal(expected, Minimal(extra).ResolveResponseIpAddrSize(idsHaveIpv6));
    }

    [Fact]
    public void Storage_id_keys_are_read_when_enabled()
    {
        var c = Minimal("""
            use_storage_id = true
            storage_ids_filename = /etc/other/ids.conf
            id_type_in_filename = ID
            trust_storage_server_id = false
            """);

        Assert.True(c.UseStorageId);
        Assert.Equal("/etc/other/ids.conf", c.StorageIdsFilename);
        Assert.Equal(FileNameIdType.Id, c.IdTypeInFilename);
        Assert.False(c.TrustStorageServerId);
    }

    [Fact]
    public void Storage_id_keys_are_ignored_when_disabled()
    {
        var c = Minimal("id_type_in_filename = id\ntrust_storage_server_id = false\nstorage_ids_filename = ids/x.conf");

        Assert.Equal(FileNameIdType.Ip, c.IdTypeInFilename);
        Assert.True(c.TrustStorageServerId);
        Assert.Equal("/etc/fdfs/ids/x.conf", c.StorageIdsFilename);
    }

    [Fact]
    public void Connection_pool_idle_time_is_only_checked_when_the_pool_is_on()
    {
        Assert.Equal(3600, Minimal("connection_pool_max_idle_time = 0").ConnectionPoolMaxIdleTime);
        Assert.Equal(60, Minimal("use_connection_pool = on\nconnection_pool_max_idle_time = 60").ConnectionPoolMaxIdleTime);
    }

    [Theory]
    [InlineData("", "base_path")]
    [InlineData("base_path =", "base_path")]
    [InlineData("base_path = /d\nstore_lookup = 4", "store_lookup")]
    [InlineData("base_path = /d\nstore_lookup = -1", "store_lookup")]
    [InlineData("base_path = /d\nstore_lookup = 1", "store_group")]
    [InlineData("base_path = /d\nstore_lookup = 1\nstore_group =", "store_group")]
    [InlineData("base_path = /d\nstore_lookup = 1\nstore_group = group-1", "store_group")]
    [InlineData("base_path = /d\nstore_lookup = 1\nstore_group = group12345678901234", "store_group")]
    [InlineData("base_path = /d\nreserved_storage_space =", "reserved_storage_space")]
    [InlineData("base_path = /d\nreserved_storage_space = 0%", "reserved_storage_space")]
    [InlineData("base_path = /d\nreserved_storage_space = 100%", "reserved_storage_space")]
    [InlineData("base_path = /d\nreserved_storage_space = abc%", "reserved_storage_space")]
    [InlineData("base_path = /d\nreserved_storage_space = 10X", "reserved_storage_space")]
    [InlineData("base_path = /d\nreserved_storage_space = -1G", "reserved_storage_space")]
    [InlineData("base_path = /d\nbuff_size = -1", "buff_size")]
    [InlineData("base_path = /d\nmin_buff_size = 8Q\nmax_buff_size = 1M", "min_buff_size")]
    [InlineData("base_path = /d\nslot_min_size = 0", "slot_min_size")]
    [InlineData("base_path = /d\nslot_min_size = 1K\nslot_max_size = 1K", "slot_max_size")]
    [InlineData("base_path = /d\ntrunk_file_size = 4G", "trunk_file_size")]
    [InlineData("base_path = /d\ntrunk_create_file_space_threshold = lots", "trunk_create_file_space_threshold")]
    [InlineData("base_path = /d\naccept_threads = 0", "accept_threads")]
    [InlineData("base_path = /d\nwork_threads = -1", "work_threads")]
    [InlineData("base_path = /d\nuse_connection_pool = true\nconnection_pool_max_idle_time = 0", "connection_pool_max_idle_time")]
    [InlineData("base_path = /d\nport = 22122 # tracker port", "port")]
    [InlineData("base_path = /d\nport = 70000", "port")]
    [InlineData("base_path = /d\nhttp.server_port = 65536", "http.server_port")]
    [InlineData("base_path = /d\ntrunk_create_file_time_base = 25:00", "trunk_create_file_time_base")]
    [InlineData("base_path = /d\ntrunk_compress_binlog_time_base = 3", "trunk_compress_binlog_time_base")]
    [InlineData("base_path = /d\nuse_storage_id = true\nstorage_ids_filename =", "storage_ids_filename")]
    [InlineData("base_path = /d\nlog_file_rotate_time = noon", "log_file_rotate_time")]
    [InlineData("base_path = /d\n[error-log]\nlog_file_keep_days = many", "log_file_keep_days")]
    public void Invalid_values_are_config_errors_naming_the_key(string text, string key)
    {
        ConfAssert.ThrowsFor(key, () => Parse(text));
    }

    [Fact]
    public void Error_for_a_value_carries_file_and_line()
    {
        using var dir = new TempConfDir();
        var path = dir.Write("tracker.conf", "base_path = /d\n# comment\nwork_threads = 0\n");

        var ex = ConfAssert.ThrowsFor("work_threads", () => TrackerConfig.Load(path));

        Assert.Equal(path, ex.File);
        Assert.Equal(3, ex.Line);
        Assert.StartsWith($"{path}:3: item \"work_threads\"", ex.Message);
    }

    [Fact]
    public void Missing_required_key_names_the_file()
    {
        using var dir = new TempConfDir();
        var path = dir.Write("tracker.conf", "port = 22122\n");

        var ex = ConfAssert.ThrowsFor("base_path", () => TrackerConfig.Load(path));

        Assert.Equal(path, ex.File);
        Assert.Contains("required", ex.Message);
    }
}
