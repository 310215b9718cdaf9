namespace FastDfs.Protocol.Config;

/// <summary>
/// tracker.conf (§17.2). Property names mirror the stock keys; initial values are the stock
/// <b>code</b> defaults (what a tracker uses when a key is absent), not the sample conf's values.
/// Keys are read from the global section only, except the log keys (<see cref="ErrorLog"/>).
/// </summary>
public sealed record TrackerConfig
{
    public const int DefaultPort = 22122;

    public const int DefaultHttpServerPort = 8080;

    /// <summary>true → the daemon must not start.</summary>
    public bool Disabled { get; init; }

    /// <summary>Listen address(es), comma-separated; empty = all addresses.</summary>
    public string BindAddr { get; init; } = "";

    public int Port { get; init; } = DefaultPort;

    /// <summary>Raw <c>address_family</c>: IPv4, IPv6, auto or both.</summary>
    public string AddressFamily { get; init; } = "auto";

    /// <summary>Raw <c>response_ip_addr_size</c> (absent → <c>auto</c>); see <see cref="ResolveResponseIpAddrSize"/>.</summary>
    public string ResponseIpAddrSize { get; init; } = "auto";

    /// <summary>Seconds.</summary>
    public int ConnectTimeout { get; init; } = 10;

    /// <summary>Seconds.</summary>
    public int NetworkTimeout { get; init; } = 60;

    public bool UseIoUring { get; init; }

    public bool UseSendZc { get; init; } = true;

    /// <summary>Data and log directory (required; trailing slashes removed).</summary>
    public required string BasePath { get; init; }

    public int MaxConnections { get; init; } = 256;

    public int AcceptThreads { get; init; } = 1;

    public int WorkThreads { get; init; } = 4;

    /// <summary><c>buff_size</c> as configured (8KB..2GB).</summary>
    public long BuffSize { get; init; } = NetworkBuffers.DefaultSize;

    /// <summary>Effective <c>min_buff_size</c> (§1.3).</summary>
    public long MinBuffSize { get; init; } = NetworkBuffers.DefaultSize;

    /// <summary>Effective <c>max_buff_size</c>: the largest response the tracker builds (§1.3).</summary>
    public long MaxBuffSize { get; init; } = NetworkBuffers.DefaultSize;

    /// <summary>The largest accepted packet: a request with 10 + pkg_len above it is dropped (§1.3).</summary>
    public long MaxPackageSize { get; init; } = NetworkBuffers.DefaultSize;

    public StoreLookup StoreLookup { get; init; } = StoreLookup.RoundRobin;

    /// <summary>The upload group when <see cref="StoreLookup"/> is <see cref="Config.StoreLookup.SpecifiedGroup"/>, else empty.</summary>
    public string StoreGroup { get; init; } = "";

    /// <summary>Already forced to <see cref="StoreServerSelection.FirstByIp"/> when trunk files are on and the conf says round robin.</summary>
    public StoreServerSelection StoreServer { get; init; } = StoreServerSelection.RoundRobin;

    public StorePathSelection StorePath { get; init; } = StorePathSelection.RoundRobin;

    public DownloadServerSelection DownloadServer { get; init; } = DownloadServerSelection.RoundRobin;

    public ReservedSpace ReservedStorageSpace { get; init; } = ReservedSpace.Default;

    public string LogLevel { get; init; } = "info";

    public string RunByGroup { get; init; } = "";

    public string RunByUser { get; init; } = "";

    /// <summary>Allowed client hosts as written (<c>*</c>, addresses, CIDR, ranges).</summary>
    public IReadOnlyList<string> AllowHosts { get; init; } = ["*"];

    /// <summary>
    /// FastDFS.NET addition (<c>admin_hosts</c>, <c>allow_hosts</c> syntax, repeatable): who may delete a storage or a
    /// group from the cluster (DELETE_STORAGE, DELETE_GROUP, as <c>fdfs_monitor ... delete</c> sends). Default everyone,
    /// as stock.
    /// </summary>
    public IReadOnlyList<string> AdminHosts { get; init; } = ["*"];

    /// <summary>
    /// FastDFS.NET addition (<c>cluster_secret_key</c>, the same value on every tracker and storage): every
    /// server-to-server connection proves it (docs/security.md); joins, beats, sync, trunk and tracker peer commands on
    /// a connection that did not are refused with EPERM. Empty (default): no proof, so stock servers can be members.
    /// </summary>
    public string ClusterSecretKey { get; init; } = "";

    /// <summary>
    /// FastDFS.NET addition (<c>tracker_server</c> lines in tracker.conf, as in storage.conf): the tracker cluster's
    /// members. When given, only these are peers: leadership changes, state copies and tracker lists come from them
    /// alone. Empty (stock): the trackers are learnt from the storages' JOIN lists, at most 16.
    /// </summary>
    public IReadOnlyList<TrackerAddress> TrackerServers { get; init; } = [];

    /// <summary>Seconds without a heartbeat before a storage is set OFFLINE.</summary>
    public int CheckActiveInterval { get; init; } = 100;

    /// <summary>
    /// FastDFS.NET addition (<c>spare_storage_takeover_time</c>): seconds a group member must have been OFFLINE before the
    /// leader gives its place to a waiting spare storage (storage.conf <c>spare_storage = true</c>) and retires it. 0 = never.
    /// </summary>
    public int SpareStorageTakeoverTime { get; init; } = 3600;

    public long ThreadStackSize { get; init; } = 256 << 10;

    public bool StorageIpChangedAutoAdjust { get; init; } = true;

    /// <summary>Seconds (§11.4 rule 2).</summary>
    public int StorageSyncFileMaxDelay { get; init; } = 86400;

    /// <summary>Seconds (§11.4 rule 4).</summary>
    public int StorageSyncFileMaxTime { get; init; } = 300;

    public bool UseTrunkFile { get; init; }

    /// <summary>Bytes; capped at 64KB, raised to <see cref="TrunkAllocAlignmentSize"/> if smaller.</summary>
    public int SlotMinSize { get; init; } = 256;

    /// <summary>Bytes; default trunk_file_size / 8; capped at trunk_file_size / 2.</summary>
    public int SlotMaxSize { get; init; } = DefaultTrunkFileSize / 8;

    public int TrunkAllocAlignmentSize { get; init; }

    public bool TrunkFreeSpaceMerge { get; init; }

    public bool DeleteUnusedTrunkFiles { get; init; }

    /// <summary>Bytes, at least 4MB.</summary>
    public int TrunkFileSize { get; init; } = DefaultTrunkFileSize;

    public bool TrunkCreateFileAdvance { get; init; }

    public TimeOnly TrunkCreateFileTimeBase { get; init; } = new(2, 0);

    /// <summary>Seconds.</summary>
    public int TrunkCreateFileInterval { get; init; } = 86400;

    /// <summary>Bytes.</summary>
    public long TrunkCreateFileSpaceThreshold { get; init; }

    public bool TrunkInitCheckOccupying { get; init; }

    public bool TrunkInitReloadFromBinlog { get; init; }

    public int TrunkCompressBinlogMinInterval { get; init; }

    public int TrunkCompressBinlogInterval { get; init; }

    public TimeOnly TrunkCompressBinlogTimeBase { get; init; } = new(3, 0);

    public int TrunkBinlogMaxBackups { get; init; }

    public bool UseStorageId { get; init; }

    /// <summary>Full path; a relative name in the conf is relative to the conf file's directory.</summary>
    public string StorageIdsFilename { get; init; } = "storage_ids.conf";

    /// <summary>Only read when <see cref="UseStorageId"/>; otherwise always <see cref="FileNameIdType.Ip"/>.</summary>
    public FileNameIdType IdTypeInFilename { get; init; } = FileNameIdType.Ip;

    /// <summary>Trust the id a storage sends in JOIN; only read when <see cref="UseStorageId"/>.</summary>
    public bool TrustStorageServerId { get; init; } = true;

    public bool StoreSlaveFileUseLink { get; init; }

    public bool UseConnectionPool { get; init; }

    /// <summary>Seconds; only read when <see cref="UseConnectionPool"/>.</summary>
    public int ConnectionPoolMaxIdleTime { get; init; } = 3600;

    /// <summary><c>http.server_port</c>: our built-in HTTP port (not a stock tracker key).</summary>
    public int HttpServerPort { get; init; } = DefaultHttpServerPort;

    /// <summary>The <c>http.*</c> keys (built-in HTTP server, anti-steal token, MIME map).</summary>
    public HttpConfig Http { get; init; } = HttpConfig.Default;

    /// <summary>Log keys, from <c>[error-log]</c> first, then global.</summary>
    public LogConfig ErrorLog { get; init; } = LogConfig.Default;

    private const int DefaultTrunkFileSize = 64 << 20;

    private static readonly TrackerConfig Defaults = new() { BasePath = "" };

    /// <summary>
    /// The IP field size of tracker responses (§4.0): <c>auto</c> (case-insensitive) → 46 only if
    /// storage ids are used and contain an IPv6 address, else 16; any other value (even <c>IPv4</c>) → 46.
    /// </summary>
    public int ResolveResponseIpAddrSize(bool storageIdsHaveIpv6) =>
        ResponseIpAddrSize.Equals("auto", StringComparison.OrdinalIgnoreCase)
            ? (UseStorageId && storageIdsHaveIpv6 ? 46 : 16)
            : 46;

    /// <summary>Code defaults with the given base path (for the all-in-one server).</summary>
    public static TrackerConfig Default(string basePath)
    {
        var path = ConfigReading.ChopPath(basePath);
        return new TrackerConfig { BasePath = path, StorageIdsFilename = Path.Combine(path, "storage_ids.conf") };
    }

    public static TrackerConfig Load(string path) => FromIni(IniFile.Load(path));

    /// <summary>One warning per stock key this conf sets that FastDFS.NET does not act on (<see cref="StockKeysNotActedOn"/>), logged at start.</summary>
    public IReadOnlyList<string> NotActedOn { get; init; } = [];

    /// <exception cref="ConfigException">A missing required key or an invalid value.</exception>
    public static TrackerConfig FromIni(IniFile ini)
    {
        var g = ini.Global;
        var defaults = Defaults;
        var buffers = ConfigReading.ReadNetworkBuffers(g);

        var storeLookup = (StoreLookup)g.GetInt("store_lookup", 0);
        if (!Enum.IsDefined(storeLookup))
        {
            throw ConfigException.ForEntry(g.Find("store_lookup")!, "is invalid (0 round robin, 1 specified group, 2 load balance, 3 weighted by free space and load)");
        }
        var storeGroup = "";
        if (storeLookup == StoreLookup.SpecifiedGroup)
        {
            var entry = g.Find("store_group")
                ?? throw new ConfigException("is required when store_lookup = 1", ini.Path, key: "store_group");
            storeGroup = ConfigReading.ValidateGroupName(entry);
        }

        // Invalid selection modes fall back to round robin, as stock does (with a warning there).
        var storeServer = OrRoundRobin((StoreServerSelection)g.GetInt("store_server", 0));
        var useTrunkFile = g.GetBool("use_trunk_file", false);
        if (useTrunkFile && storeServer == StoreServerSelection.RoundRobin)
        {
            storeServer = StoreServerSelection.FirstByIp; // trunk allocation needs a stable upload target
        }

        var reserved = g.Find(ReservedSpace.Key) is { } reservedEntry
            ? ReservedSpace.Parse(reservedEntry)
            : ReservedSpace.Default;

        // Slot/trunk sizes in stock's order: the slot_max checks use slot_min before its alignment raise.
        var slotMin = ConfigReading.IntBytes(g, "slot_min_size", defaults.SlotMinSize);
        if (slotMin <= 0)
        {
            throw ConfigException.ForEntry(g.Find("slot_min_size")!, "must be > 0");
        }
        slotMin = Math.Min(slotMin, 64 << 10);
        var trunkFileSize = Math.Max(ConfigReading.IntBytes(g, "trunk_file_size", DefaultTrunkFileSize), 4 << 20);
        var slotMax = ConfigReading.IntBytes(g, "slot_max_size", trunkFileSize / 8);
        if (slotMax <= slotMin)
        {
            throw new ConfigException($"value {slotMax} must be > slot_min_size ({slotMin})",
                g.Find("slot_max_size")?.File ?? ini.Path, g.Find("slot_max_size")?.Line ?? 0, "slot_max_size");
        }
        slotMax = Math.Min(slotMax, trunkFileSize / 2);
        var alignment = g.GetInt("trunk_alloc_alignment_size", 0);
        slotMin = Math.Max(slotMin, alignment);

        var useStorageId = g.GetBool("use_storage_id", false);
        var idsFile = g.Find("storage_ids_filename");
        if (useStorageId && idsFile is { Value.Length: 0 })
        {
            throw ConfigException.ForEntry(idsFile, "must not be empty when use_storage_id is true");
        }

        var useConnectionPool = g.GetBool("use_connection_pool", false);

        return new TrackerConfig
        {
            Disabled = g.GetBool("disabled", false),
            BindAddr = g.GetString("bind_addr") ?? "",
            Port = ConfigReading.Port(g, "port", DefaultPort),
            AddressFamily = g.GetString("address_family") ?? defaults.AddressFamily,
            ResponseIpAddrSize = g.GetString("response_ip_addr_size") ?? defaults.ResponseIpAddrSize,
            ConnectTimeout = ConfigReading.PositiveOrDefault(g, "connect_timeout", defaults.ConnectTimeout),
            NetworkTimeout = ConfigReading.PositiveOrDefault(g, "network_timeout", defaults.NetworkTimeout),
            UseIoUring = g.GetBool("use_io_uring", false),
            UseSendZc = g.GetBool("use_send_zc", true),
            BasePath = ConfigReading.ChopPath(ConfigReading.RequireNonEmpty(ini, "base_path")),
            MaxConnections = ConfigReading.PositiveOrDefault(g, "max_connections", defaults.MaxConnections),
            AcceptThreads = ConfigReading.RequirePositive(g, "accept_threads", defaults.AcceptThreads),
            WorkThreads = ConfigReading.RequirePositive(g, "work_threads", defaults.WorkThreads),
            BuffSize = buffers.BuffSize,
            MinBuffSize = buffers.MinBuffSize,
            MaxBuffSize = buffers.MaxBuffSize,
            MaxPackageSize = buffers.MaxPackageSize,
            StoreLookup = storeLookup,
            StoreGroup = storeGroup,
            StoreServer = storeServer,
            StorePath = OrRoundRobin((StorePathSelection)g.GetInt("store_path", 0)),
            DownloadServer = OrRoundRobin((DownloadServerSelection)g.GetInt("download_server", 0)),
            ReservedStorageSpace = reserved,
            LogLevel = g.GetString("log_level") ?? defaults.LogLevel,
            RunByGroup = g.GetString("run_by_group") ?? "",
            RunByUser = g.GetString("run_by_user") ?? "",
            AllowHosts = ConfigReading.AllowHosts(g),
            TrackerServers = ConfigReading.TrackerServers(ini, required: false),
            AdminHosts = g.GetAll("admin_hosts") is { Count: > 0 } admins ? admins : defaults.AdminHosts,
            ClusterSecretKey = g.GetString("cluster_secret_key") ?? "",
            CheckActiveInterval = ConfigReading.PositiveOrDefault(g, "check_active_interval", defaults.CheckActiveInterval),
            SpareStorageTakeoverTime = Math.Max(0, g.GetInt("spare_storage_takeover_time", defaults.SpareStorageTakeoverTime)),
            ThreadStackSize = ConfigReading.ClampBytes(g, "thread_stack_size", defaults.ThreadStackSize, 64 << 10, 2L << 30),
            StorageIpChangedAutoAdjust = g.GetBool("storage_ip_changed_auto_adjust", true),
            StorageSyncFileMaxDelay = ConfigReading.PositiveOrDefault(g, "storage_sync_file_max_delay", defaults.StorageSyncFileMaxDelay),
            StorageSyncFileMaxTime = ConfigReading.PositiveOrDefault(g, "storage_sync_file_max_time", defaults.StorageSyncFileMaxTime),
            UseTrunkFile = useTrunkFile,
            SlotMinSize = slotMin,
            SlotMaxSize = slotMax,
            TrunkAllocAlignmentSize = alignment,
            TrunkFreeSpaceMerge = g.GetBool("trunk_free_space_merge", false),
            DeleteUnusedTrunkFiles = g.GetBool("delete_unused_trunk_files", false),
            TrunkFileSize = trunkFileSize,
            TrunkCreateFileAdvance = g.GetBool("trunk_create_file_advance", false),
            TrunkCreateFileTimeBase = g.GetTime("trunk_create_file_time_base", defaults.TrunkCreateFileTimeBase),
            TrunkCreateFileInterval = g.GetInt("trunk_create_file_interval", defaults.TrunkCreateFileInterval),
            TrunkCreateFileSpaceThreshold = g.GetBytes("trunk_create_file_space_threshold", 0),
            TrunkInitCheckOccupying = g.GetBool("trunk_init_check_occupying", false),
            TrunkInitReloadFromBinlog = g.GetBool("trunk_init_reload_from_binlog", false),
            TrunkCompressBinlogMinInterval = g.GetInt("trunk_compress_binlog_min_interval", 0),
            TrunkCompressBinlogInterval = g.GetInt("trunk_compress_binlog_interval", 0),
            TrunkCompressBinlogTimeBase = g.GetTime("trunk_compress_binlog_time_base", defaults.TrunkCompressBinlogTimeBase),
            TrunkBinlogMaxBackups = g.GetInt("trunk_binlog_max_backups", 0),
            UseStorageId = useStorageId,
            StorageIdsFilename = ConfigReading.ResolvePath(ini, idsFile is { Value.Length: > 0 } ? idsFile.Value : "storage_ids.conf"),
            IdTypeInFilename = useStorageId && "id".Equals(g.GetString("id_type_in_filename"), StringComparison.OrdinalIgnoreCase)
                ? FileNameIdType.Id
                : FileNameIdType.Ip,
            TrustStorageServerId = !useStorageId || g.GetBool("trust_storage_server_id", true),
            StoreSlaveFileUseLink = g.GetBool("store_slave_file_use_link", false),
            UseConnectionPool = useConnectionPool,
            ConnectionPoolMaxIdleTime = useConnectionPool
                ? ConfigReading.RequirePositive(g, "connection_pool_max_idle_time", defaults.ConnectionPoolMaxIdleTime)
                : defaults.ConnectionPoolMaxIdleTime,
            HttpServerPort = ConfigReading.Port(g, "http.server_port", DefaultHttpServerPort),
            Http = HttpConfig.FromIni(ini),
            ErrorLog = LogConfig.FromSection(ini.ErrorLog, "error"),
            NotActedOn = StockKeysNotActedOn.WarningsFor(ini, StockKeysNotActedOn.Tracker),
        };
    }

    private static T OrRoundRobin<T>(T value) where T : struct, Enum =>
        Enum.IsDefined(value) ? value : default;
}
