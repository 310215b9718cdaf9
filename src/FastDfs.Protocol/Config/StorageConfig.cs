namespace FastDfs.Protocol.Config;

/// <summary>A data directory of a storage (<c>store_pathN</c> / <c>store_pathN_readonly</c>).</summary>
public sealed record StorePath(string Path, bool ReadOnly = false);

/// <summary><c>[access-log] time_precision</c>.</summary>
public enum LogTimePrecision
{
    Millisecond,
    Microsecond,
}

/// <summary>
/// storage.conf (§17.3). Property names mirror the stock keys; initial values are the stock
/// <b>code</b> defaults, not the sample conf's values. Keys received from the tracker
/// (store_path mode, reserved space, trunk settings, ...) are not part of this file.
/// </summary>
/// <remarks>
/// Deliberate differences from stock: loopback tracker addresses are accepted; the stock minimum
/// thread_stack_size of 320KB (a C stack requirement) is not enforced; store paths are not checked
/// for existence here (the storage service does that when it opens them).
/// </remarks>
public sealed record StorageConfig
{
    public const int DefaultPort = 23000;

    public const int DefaultHttpServerPort = 8888;

    /// <summary>The storage keeps a 64KB trunk binlog buffer plus a header in its network buffer.</summary>
    public const long MinBuffSizeRequired = (64 << 10) + 10;

    public bool Disabled { get; init; }

    /// <summary>Null when the key is absent: stock then asks the trackers (GET_GROUP_NAME).</summary>
    public string? GroupName { get; init; }

    /// <summary>Listen address; empty = all addresses.</summary>
    public string BindAddr { get; init; } = "";

    /// <summary>Bind outgoing connections to <see cref="BindAddr"/>.</summary>
    public bool ClientBind { get; init; } = true;

    public int Port { get; init; } = DefaultPort;

    public string AddressFamily { get; init; } = "auto";

    /// <summary>Explicit storage id, or null (looked up by IP / asked from the tracker).</summary>
    public string? ServerId { get; init; }

    /// <summary>
    /// FastDFS.NET key <c>announce_ip</c>: the address trackers hand to clients for this storage when it is
    /// not the one it connects from (NAT, containers); null = the connection's source address.
    /// </summary>
    public string? AnnounceIp { get; init; }

    /// <summary>Seconds.</summary>
    public int ConnectTimeout { get; init; } = 10;

    /// <summary>Seconds.</summary>
    public int NetworkTimeout { get; init; } = 30;

    public bool UseIoUring { get; init; }

    public bool UseSendZc { get; init; } = true;

    /// <summary>Seconds between BEAT.</summary>
    public int HeartBeatInterval { get; init; } = 30;

    /// <summary>Seconds between REPORT_DISK_USAGE.</summary>
    public int StatReportInterval { get; init; } = 300;

    public required string BasePath { get; init; }

    public int MaxConnections { get; init; } = 256;

    /// <summary><c>buff_size</c>: the network buffer = largest packet held in memory (≥ 64KB + 10).</summary>
    public long BuffSize { get; init; } = NetworkBuffers.DefaultSize;

    public long MinBuffSize { get; init; } = NetworkBuffers.DefaultSize;

    public long MaxBuffSize { get; init; } = NetworkBuffers.DefaultSize;

    public long MaxPackageSize { get; init; } = NetworkBuffers.DefaultSize;

    public int AcceptThreads { get; init; } = 1;

    public int WorkThreads { get; init; } = 4;

    public bool DiskRwSeparated { get; init; } = true;

    /// <summary>Per store path.</summary>
    public int DiskReaderThreads { get; init; } = 1;

    /// <summary>Per store path.</summary>
    public int DiskWriterThreads { get; init; } = 1;

    public int SyncMinThreads { get; init; } = 1;

    /// <summary>Effective value: <c>auto</c>/0/absent → 2 × store path count, capped at 256, at least <see cref="SyncMinThreads"/>.</summary>
    public int SyncMaxThreads { get; init; } = 2;

    /// <summary>Milliseconds to wait when the binlog is exhausted.</summary>
    public int SyncWaitMsec { get; init; } = 100;

    /// <summary>Milliseconds to pause between pushed batches.</summary>
    public int SyncInterval { get; init; }

    public TimeOnly SyncStartTime { get; init; } = new(0, 0);

    public TimeOnly SyncEndTime { get; init; } = new(23, 59);

    public int WriteMarkFileFreq { get; init; } = 500;

    /// <summary>
    /// FastDFS.NET addition: acknowledge uploads and changes only once this many group members (this storage
    /// included) hold them. 1 = stock behaviour.
    /// </summary>
    public int SyncAckReplicas { get; init; } = 1;

    /// <summary>FastDFS.NET addition: seconds to wait for <see cref="SyncAckReplicas"/>; 0 = half of network_timeout.</summary>
    public int SyncAckTimeout { get; init; }

    /// <summary>
    /// FastDFS.NET addition (<c>admin_hosts</c>, repeatable, <c>allow_hosts</c> syntax): who besides the group's members
    /// and the trackers may use the storage's FastDFS.NET administration commands (integrity report, scrub, file listing
    /// for <c>fdfs check</c>): a listing reveals every file id. Default: this machine only.
    /// </summary>
    public IReadOnlyList<string> AdminHosts { get; init; } = ["127.0.0.1", "::1"];

    /// <summary>
    /// FastDFS.NET addition (<c>cluster_secret_key</c>, the same value on every tracker and storage): every
    /// server-to-server connection proves it (docs/security.md); joins, beats, sync, trunk and tracker peer commands on
    /// a connection that did not are refused with EPERM. Empty (default): no proof, so stock servers can be members.
    /// </summary>
    public string ClusterSecretKey { get; init; } = "";

    /// <summary>
    /// FastDFS.NET addition (<c>scrub_interval</c>): seconds from the end of one background scrub pass (every stored
    /// byte read and checked against its name's CRC32) to the start of the next; 0 = no background scrub.
    /// </summary>
    public int ScrubInterval { get; init; } = 7 * 86400;

    /// <summary>FastDFS.NET addition (<c>scrub_rate</c>): bytes per second a scrub pass may read (0 = unlimited).</summary>
    public long ScrubRate { get; init; } = 8L << 20;

    /// <summary>
    /// FastDFS.NET addition (<c>anti_entropy_interval</c>): seconds between two rounds in which this storage compares the
    /// files it is the source of with every peer's copy and repairs what differs; 0 = off.
    /// </summary>
    public int AntiEntropyInterval { get; init; } = 86400;

    /// <summary>
    /// FastDFS.NET addition (<c>store_path_check_interval</c>): seconds between two checks of every store path's disk (its
    /// data directories are there, a small synced write succeeds); a path that fails is taken out of service. 0 = off.
    /// </summary>
    public int StorePathCheckInterval { get; init; } = 10;

    /// <summary>
    /// FastDFS.NET addition (<c>disk_slow_threshold</c>): seconds a store path's disk may hold requests with none answered
    /// before the path is out of service as slow (readers to the peers, uploads elsewhere) until it answers again. 0 = off.
    /// </summary>
    public int DiskSlowThreshold { get; init; } = 5;

    /// <summary>
    /// FastDFS.NET addition (<c>spare_store_path</c>, repeatable): empty disks kept ready. When the disk of a store path
    /// fails, the first unused spare takes its place and is refilled from the group's peers, with no human action.
    /// </summary>
    public IReadOnlyList<string> SpareStorePaths { get; init; } = [];

    /// <summary>
    /// FastDFS.NET addition (<c>spare_storage</c>): this storage waits without a group until the tracker leader gives it
    /// the place of a member that has been OFFLINE for <c>spare_storage_takeover_time</c>; <see cref="GroupName"/>, when
    /// set, limits it to that group. The assignment is kept in <c>data/spare_storage.dat</c>.
    /// </summary>
    public bool SpareStorage { get; init; }

    /// <summary>Stock's <c>disk_recovery_threads</c>: the workers that fetch a lost store path's files from a peer.</summary>
    public int DiskRecoveryThreads { get; init; } = 1;

    /// <summary>
    /// FastDFS.NET addition (<c>disk_recovery_rate</c>): bytes per second a disk recovery may fetch from its peer, all
    /// workers together (0 = unlimited), so that the peer keeps serving its clients.
    /// </summary>
    public long DiskRecoveryRate { get; init; }

    /// <summary><c>store_path0..N-1</c>; <c>store_path0</c> defaults to <see cref="BasePath"/>.</summary>
    public required IReadOnlyList<StorePath> StorePaths { get; init; }

    /// <summary><c>store_path_count</c>.</summary>
    public int StorePathCount => StorePaths.Count;

    /// <summary>1..256 sub-directories per level.</summary>
    public int SubdirCountPerPath { get; init; } = 256;

    /// <summary>Distinct <c>tracker_server</c> values in file order (at most 16).</summary>
    public required IReadOnlyList<TrackerAddress> TrackerServers { get; init; }

    public string LogLevel { get; init; } = "info";

    public string RunByGroup { get; init; } = "";

    public string RunByUser { get; init; } = "";

    public IReadOnlyList<string> AllowHosts { get; init; } = ["*"];

    /// <summary>0 round robin, 1 random (hash).</summary>
    public int FileDistributePathMode { get; init; }

    public int FileDistributeRotateCount { get; init; } = 100;

    /// <summary>Bytes; 0 = never fsync file data (stock parses it but does not use it).</summary>
    public long FsyncAfterWrittenBytes { get; init; }

    /// <summary>Seconds between binlog buffer flushes.</summary>
    public int SyncBinlogBuffInterval { get; init; } = 60;

    /// <summary>Seconds between storage_stat.dat writes.</summary>
    public int SyncStatFileInterval { get; init; } = 60;

    public long ThreadStackSize { get; init; } = 256 << 10;

    /// <summary>Smaller = preferred (store_server = 2).</summary>
    public int UploadPriority { get; init; } = 10;

    public string IfAliasPrefix { get; init; } = "";

    public bool CheckFileDuplicate { get; init; }

    /// <summary><c>hash</c> or <c>md5</c>; only read when <see cref="CheckFileDuplicate"/>.</summary>
    public string FileSignatureMethod { get; init; } = "hash";

    /// <summary>FastDHT namespace; required when <see cref="CheckFileDuplicate"/>.</summary>
    public string? KeyNamespace { get; init; }

    public bool KeepAlive { get; init; }

    public bool FileSyncSkipInvalidRecord { get; init; }

    public bool UseConnectionPool { get; init; }

    public int ConnectionPoolMaxIdleTime { get; init; } = 3600;

    public bool CompressBinlog { get; init; }

    public TimeOnly CompressBinlogTime { get; init; } = new(1, 30);

    public bool CheckStorePathMark { get; init; } = true;

    /// <summary><c>http.server_port</c>: our built-in HTTP port (not a stock storage key).</summary>
    public int HttpServerPort { get; init; } = DefaultHttpServerPort;

    /// <summary>The <c>http.*</c> keys (built-in HTTP server, anti-steal token, MIME map).</summary>
    public HttpConfig Http { get; init; } = HttpConfig.Default;

    public LogConfig ErrorLog { get; init; } = LogConfig.Default;

    /// <summary><c>[access-log] enabled</c> (read from that section only).</summary>
    public bool AccessLogEnabled { get; init; }

    public LogTimePrecision AccessLogTimePrecision { get; init; } = LogTimePrecision.Millisecond;

    /// <summary>Access log rotation keys: <c>[access-log]</c> first, then global.</summary>
    public LogConfig AccessLog { get; init; } = LogConfig.Default;

    /// <summary>Code defaults with one store path (= base path), for the all-in-one server.</summary>
    public static StorageConfig Default(string basePath, IReadOnlyList<TrackerAddress> trackerServers,
        string groupName = "group1")
    {
        if (!ConfigReading.IsValidGroupName(groupName))
        {
            throw new ArgumentException($"invalid group name \"{groupName}\"", nameof(groupName));
        }
        if (trackerServers.Count == 0)
        {
            throw new ArgumentException("at least one tracker is required", nameof(trackerServers));
        }
        var path = ConfigReading.ChopPath(basePath);
        return new StorageConfig
        {
            GroupName = groupName,
            BasePath = path,
            StorePaths = [new StorePath(path)],
            TrackerServers = trackerServers,
        };
    }

    public static StorageConfig Load(string path) => FromIni(IniFile.Load(path));

    /// <summary>One warning per stock key this conf sets that FastDFS.NET does not act on (<see cref="StockKeysNotActedOn"/>), logged at start.</summary>
    public IReadOnlyList<string> NotActedOn { get; init; } = [];

    /// <exception cref="ConfigException">A missing required key or an invalid value.</exception>
    public static StorageConfig FromIni(IniFile ini)
    {
        var g = ini.Global;
        var d = Defaults;
        var basePath = ConfigReading.ChopPath(ConfigReading.RequireNonEmpty(ini, "base_path"));

        var buffers = ConfigReading.ReadNetworkBuffers(g);
        if (buffers.MinBuffSize < MinBuffSizeRequired)
        {
            throw new ConfigException($"buffer size {buffers.MinBuffSize} is too small (must be >= {MinBuffSizeRequired})",
                g.Find("buff_size")?.File ?? ini.Path, g.Find("buff_size")?.Line ?? 0, "buff_size");
        }

        var subdirCount = g.GetInt("subdir_count_per_path", d.SubdirCountPerPath);
        if (subdirCount is < 1 or > 256)
        {
            throw ConfigException.ForEntry(g.Find("subdir_count_per_path")!, "must be 1..256");
        }

        var storePaths = ReadStorePaths(ini, basePath);
        var (readers, writers) = ReadDiskThreads(g);

        var syncMin = Math.Clamp(g.GetInt("sync_min_threads", d.SyncMinThreads), 1, MaxSyncThreads);
        var syncMax = ReadSyncMaxThreads(g, storePaths.Count, syncMin);

        var checkFileDuplicate = g.GetBool("check_file_duplicate", false);
        string? keyNamespace = null;
        if (checkFileDuplicate)
        {
            keyNamespace = g.Find("key_namespace") is { Value.Length: > 0 } ns
                ? ns.Value
                : throw new ConfigException("is required and must not be empty when check_file_duplicate is true",
                    g.Find("key_namespace")?.File ?? ini.Path, g.Find("key_namespace")?.Line ?? 0, "key_namespace");
        }

        var accessLog = ini.GetSection(IniFile.AccessLogSection);
        var useConnectionPool = g.GetBool("use_connection_pool", false);

        return new StorageConfig
        {
            Disabled = g.GetBool("disabled", false),
            GroupName = g.Find("group_name") is { } groupEntry ? ConfigReading.ValidateGroupName(groupEntry) : null,
            BindAddr = g.GetString("bind_addr") ?? "",
            ClientBind = g.GetBool("client_bind", true),
            Port = ConfigReading.Port(g, "port", DefaultPort),
            AddressFamily = g.GetString("address_family") ?? d.AddressFamily,
            ServerId = g.GetString("server_id") is { Length: > 0 } serverId ? serverId : null,
            AnnounceIp = g.GetString("announce_ip") is { Length: > 0 } announceIp ? announceIp.Trim() : null,
            ConnectTimeout = ConfigReading.PositiveOrDefault(g, "connect_timeout", d.ConnectTimeout),
            NetworkTimeout = ConfigReading.PositiveOrDefault(g, "network_timeout", d.NetworkTimeout),
            UseIoUring = g.GetBool("use_io_uring", false),
            UseSendZc = g.GetBool("use_send_zc", true),
            HeartBeatInterval = ConfigReading.PositiveOrDefault(g, "heart_beat_interval", d.HeartBeatInterval),
            StatReportInterval = ConfigReading.PositiveOrDefault(g, "stat_report_interval", d.StatReportInterval),
            BasePath = basePath,
            MaxConnections = ConfigReading.PositiveOrDefault(g, "max_connections", d.MaxConnections),
            BuffSize = buffers.BuffSize,
            MinBuffSize = buffers.MinBuffSize,
            MaxBuffSize = buffers.MaxBuffSize,
            MaxPackageSize = buffers.MaxPackageSize,
            AcceptThreads = ConfigReading.RequirePositive(g, "accept_threads", d.AcceptThreads),
            WorkThreads = ConfigReading.RequirePositive(g, "work_threads", d.WorkThreads),
            DiskRwSeparated = g.GetBool("disk_rw_separated", true),
            DiskReaderThreads = readers,
            DiskWriterThreads = writers,
            SyncMinThreads = syncMin,
            SyncMaxThreads = syncMax,
            SyncWaitMsec = ConfigReading.PositiveOrDefault(g, "sync_wait_msec", d.SyncWaitMsec),
            SyncInterval = Math.Max(g.GetInt("sync_interval", 0), 0),
            SyncStartTime = g.GetTime("sync_start_time", d.SyncStartTime),
            SyncEndTime = g.GetTime("sync_end_time", d.SyncEndTime),
            WriteMarkFileFreq = ConfigReading.PositiveOrDefault(g, "write_mark_file_freq", d.WriteMarkFileFreq),
            SyncAckReplicas = Math.Clamp(g.GetInt("sync_ack_replicas", d.SyncAckReplicas), 1, ProtocolConstants.MaxServersEachGroup),
            SyncAckTimeout = Math.Max(0, g.GetInt("sync_ack_timeout", 0)),
            ScrubInterval = Math.Max(0, g.GetInt("scrub_interval", d.ScrubInterval)),
            ScrubRate = Math.Max(0, g.GetBytes("scrub_rate", d.ScrubRate)),
            AntiEntropyInterval = Math.Max(0, g.GetInt("anti_entropy_interval", d.AntiEntropyInterval)),
            AdminHosts = g.GetAll("admin_hosts") is { Count: > 0 } admins ? admins : d.AdminHosts,
            ClusterSecretKey = g.GetString("cluster_secret_key") ?? "",
            DiskRecoveryThreads = ConfigReading.RequirePositive(g, "disk_recovery_threads", d.DiskRecoveryThreads),
            DiskRecoveryRate = Math.Max(0, g.GetBytes("disk_recovery_rate", d.DiskRecoveryRate)),
            StorePathCheckInterval = Math.Max(0, g.GetInt("store_path_check_interval", d.StorePathCheckInterval)),
            SpareStorage = g.GetBool("spare_storage", false),
            DiskSlowThreshold = Math.Max(0, g.GetInt("disk_slow_threshold", d.DiskSlowThreshold)),
            SpareStorePaths = g.GetAll("spare_store_path") is { Count: > 0 } spares
                ? [.. spares.Where(p => p.Length > 0).Select(ConfigReading.ChopPath)]
                : d.SpareStorePaths,
            StorePaths = storePaths,
            SubdirCountPerPath = subdirCount,
            TrackerServers = ConfigReading.TrackerServers(ini),
            LogLevel = g.GetString("log_level") ?? d.LogLevel,
            RunByGroup = g.GetString("run_by_group") ?? "",
            RunByUser = g.GetString("run_by_user") ?? "",
            AllowHosts = ConfigReading.AllowHosts(g),
            FileDistributePathMode = g.GetInt("file_distribute_path_mode", 0),
            FileDistributeRotateCount = ConfigReading.PositiveOrDefault(g, "file_distribute_rotate_count", d.FileDistributeRotateCount),
            FsyncAfterWrittenBytes = g.GetBytes("fsync_after_written_bytes", 0),
            SyncBinlogBuffInterval = ConfigReading.PositiveOrDefault(g, "sync_binlog_buff_interval", d.SyncBinlogBuffInterval),
            SyncStatFileInterval = ConfigReading.PositiveOrDefault(g, "sync_stat_file_interval", d.SyncStatFileInterval),
            ThreadStackSize = ConfigReading.ClampBytes(g, "thread_stack_size", d.ThreadStackSize, 64 << 10, 2L << 30),
            UploadPriority = g.GetInt("upload_priority", d.UploadPriority),
            IfAliasPrefix = g.GetString("if_alias_prefix") ?? "",
            CheckFileDuplicate = checkFileDuplicate,
            FileSignatureMethod = checkFileDuplicate
                && "md5".Equals(g.GetString("file_signature_method"), StringComparison.OrdinalIgnoreCase) ? "md5" : "hash",
            KeyNamespace = keyNamespace,
            KeepAlive = checkFileDuplicate && g.GetBool("keep_alive", false),
            FileSyncSkipInvalidRecord = g.GetBool("file_sync_skip_invalid_record", false),
            UseConnectionPool = useConnectionPool,
            ConnectionPoolMaxIdleTime = useConnectionPool
                ? ConfigReading.RequirePositive(g, "connection_pool_max_idle_time", d.ConnectionPoolMaxIdleTime)
                : d.ConnectionPoolMaxIdleTime,
            CompressBinlog = g.GetBool("compress_binlog", false),
            CompressBinlogTime = g.GetTime("compress_binlog_time", d.CompressBinlogTime),
            CheckStorePathMark = g.GetBool("check_store_path_mark", true),
            NotActedOn = StockKeysNotActedOn.WarningsFor(ini, StockKeysNotActedOn.Storage),
            HttpServerPort = ConfigReading.Port(g, "http.server_port", DefaultHttpServerPort),
            Http = HttpConfig.FromIni(ini),
            ErrorLog = LogConfig.FromSection(ini.ErrorLog, "error"),
            // use_access_log: the 5.x key, for a conf without the 6.x section's.
            AccessLogEnabled = accessLog?.Find("enabled") is not null ? accessLog.GetBool("enabled", false) : g.GetBool("use_access_log", false),
            AccessLogTimePrecision = accessLog?.GetString("time_precision") is "us" or "microsecond"
                ? LogTimePrecision.Microsecond
                : LogTimePrecision.Millisecond,
            AccessLog = LogConfig.FromSection(ini.WithGlobalFallback(IniFile.AccessLogSection), "access"),
        };
    }

    private const int MaxSyncThreads = 256;

    private static readonly StorageConfig Defaults = new() { BasePath = "", StorePaths = [], TrackerServers = [] };

    private static List<StorePath> ReadStorePaths(IniFile ini, string basePath)
    {
        var g = ini.Global;
        var count = ConfigReading.RequirePositive(g, "store_path_count", 1);
        var paths = new List<StorePath>(count);
        for (var i = 0; i < count; i++)
        {
            var key = $"store_path{i}";
            var entry = g.Find(key);
            string path;
            if (entry is null)
            {
                path = i == 0
                    ? basePath
                    : throw new ConfigException($"is required (store_path_count = {count})", ini.Path, key: key);
            }
            else
            {
                path = entry.Value.Length > 0
                    ? ConfigReading.ChopPath(entry.Value)
                    : throw ConfigException.ForEntry(entry, "must not be empty");
            }
            paths.Add(new StorePath(path, g.GetBool($"{key}_readonly", false)));
        }
        return paths;
    }

    private static (int Readers, int Writers) ReadDiskThreads(IniSection g)
    {
        var separated = g.GetBool("disk_rw_separated", true);
        var readers = g.GetInt("disk_reader_threads", 1);
        var writers = g.GetInt("disk_writer_threads", 1);
        foreach (var (key, value) in new[] { ("disk_reader_threads", readers), ("disk_writer_threads", writers) })
        {
            if (value < 0 || (separated && value == 0))
            {
                throw ConfigException.ForEntry(g.Find(key)!,
                    separated ? "must be > 0 when disk_rw_separated is true" : "must be >= 0");
            }
        }
        if (readers + writers == 0)
        {
            throw ConfigException.ForEntry(g.Find("disk_writer_threads")!,
                "and disk_reader_threads must not both be 0");
        }
        return (readers, writers);
    }

    private static int ReadSyncMaxThreads(IniSection g, int storePathCount, int syncMin)
    {
        var raw = g.GetString("sync_max_threads");
        int value;
        if (raw is null || raw == "0" || raw.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            value = 2 * storePathCount;
        }
        else if (int.TryParse(raw, out var parsed) && parsed > 0)
        {
            value = parsed;
        }
        else
        {
            value = 2 * syncMin; // stock's fallback for an unparsable value (it warns)
        }
        return Math.Max(Math.Min(value, MaxSyncThreads), syncMin);
    }
}
