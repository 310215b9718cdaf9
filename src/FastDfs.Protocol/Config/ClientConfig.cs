namespace FastDfs.Protocol.Config;

/// <summary>
/// client.conf (§17.4), including the <c>http.*</c> keys a client reads (usually via
/// <c>#include http.conf</c>). Initial values are the stock code defaults.
/// </summary>
public sealed record ClientConfig
{
    public const int DefaultHttpTrackerServerPort = 80;

    /// <summary>Seconds.</summary>
    public int ConnectTimeout { get; init; } = 10;

    /// <summary>Seconds.</summary>
    public int NetworkTimeout { get; init; } = 30;

    /// <summary>Log directory (stock requires it to exist when given; not checked here).</summary>
    public string BasePath { get; init; } = "/tmp";

    /// <summary>Distinct <c>tracker_server</c> values in file order (at most 16).</summary>
    public required IReadOnlyList<TrackerAddress> TrackerServers { get; init; }

    public string LogLevel { get; init; } = "info";

    /// <summary>Raw <c>connect_first_by</c>: <c>tracker</c> or <c>last-connected</c>; see <see cref="ConnectFirstByLastConnected"/>.</summary>
    public string ConnectFirstBy { get; init; } = "tracker";

    /// <summary>For a storage with two IPs, try the one that worked last time first (any value starting with <c>last</c>).</summary>
    public bool ConnectFirstByLastConnected => ConnectFirstBy.StartsWith("last", StringComparison.OrdinalIgnoreCase);

    public bool UseConnectionPool { get; init; }

    /// <summary>Seconds.</summary>
    public int ConnectionPoolMaxIdleTime { get; init; } = 3600;

    /// <summary>Fetch use_storage_id etc. from the tracker (cmd 75) instead of reading them here.</summary>
    public bool LoadFdfsParametersFromTracker { get; init; }

    /// <summary>Only read when <see cref="LoadFdfsParametersFromTracker"/> is false.</summary>
    public bool UseStorageId { get; init; }

    /// <summary>Full path; relative names are relative to the conf file's directory.</summary>
    public string StorageIdsFilename { get; init; } = "storage_ids.conf";

    /// <summary><c>http.anti_steal.check_token</c>.</summary>
    public bool AntiStealCheckToken { get; init; }

    /// <summary><c>http.anti_steal.secret_key</c>; required when <see cref="AntiStealCheckToken"/>.</summary>
    public string? AntiStealSecretKey { get; init; }

    /// <summary><c>http.anti_steal.token_ttl</c> in seconds: how long a token's timestamp is accepted by the servers.</summary>
    public int AntiStealTokenTtl { get; init; } = HttpConfig.DefaultTokenTtl;

    /// <summary><c>http.tracker_server_port</c>.</summary>
    public int HttpTrackerServerPort { get; init; } = DefaultHttpTrackerServerPort;

    /// <summary>Code defaults with the given trackers.</summary>
    public static ClientConfig Default(IReadOnlyList<TrackerAddress> trackerServers) =>
        trackerServers.Count > 0
            ? new ClientConfig { TrackerServers = trackerServers }
            : throw new ArgumentException("at least one tracker is required", nameof(trackerServers));

    public static ClientConfig Load(string path) => FromIni(IniFile.Load(path));

    /// <exception cref="ConfigException">A missing required key or an invalid value.</exception>
    public static ClientConfig FromIni(IniFile ini)
    {
        var g = ini.Global;
        var d = Defaults;

        var basePath = d.BasePath;
        if (g.Find("base_path") is { } baseEntry)
        {
            basePath = baseEntry.Value.Length > 0
                ? ConfigReading.ChopPath(baseEntry.Value)
                : throw ConfigException.ForEntry(baseEntry, "must not be empty");
        }

        var checkToken = g.GetBool("http.anti_steal.check_token", false);
        var secretKey = g.GetString("http.anti_steal.secret_key");
        if (checkToken && string.IsNullOrEmpty(secretKey))
        {
            throw new ConfigException("is required and must not be empty when http.anti_steal.check_token is true",
                g.Find("http.anti_steal.secret_key")?.File ?? ini.Path, g.Find("http.anti_steal.secret_key")?.Line ?? 0,
                "http.anti_steal.secret_key");
        }

        var useConnectionPool = g.GetBool("use_connection_pool", false);
        var fromTracker = g.GetBool("load_fdfs_parameters_from_tracker", false);
        var idsFile = g.GetString("storage_ids_filename") is { Length: > 0 } name ? name : d.StorageIdsFilename;

        return new ClientConfig
        {
            ConnectTimeout = ConfigReading.PositiveOrDefault(g, "connect_timeout", d.ConnectTimeout),
            NetworkTimeout = ConfigReading.PositiveOrDefault(g, "network_timeout", d.NetworkTimeout),
            BasePath = basePath,
            TrackerServers = ConfigReading.TrackerServers(ini),
            LogLevel = g.GetString("log_level") ?? d.LogLevel,
            ConnectFirstBy = g.GetString("connect_first_by") ?? d.ConnectFirstBy,
            UseConnectionPool = useConnectionPool,
            ConnectionPoolMaxIdleTime = useConnectionPool
                ? ConfigReading.RequirePositive(g, "connection_pool_max_idle_time", d.ConnectionPoolMaxIdleTime)
                : d.ConnectionPoolMaxIdleTime,
            LoadFdfsParametersFromTracker = fromTracker,
            UseStorageId = !fromTracker && g.GetBool("use_storage_id", false),
            StorageIdsFilename = ConfigReading.ResolvePath(ini, idsFile),
            AntiStealCheckToken = checkToken,
            AntiStealSecretKey = secretKey,
            AntiStealTokenTtl = g.GetInt("http.anti_steal.token_ttl", HttpConfig.DefaultTokenTtl) is > 0 and var ttl ? ttl : HttpConfig.DefaultTokenTtl,
            HttpTrackerServerPort = ConfigReading.Port(g, "http.tracker_server_port", DefaultHttpTrackerServerPort),
        };
    }

    private static readonly ClientConfig Defaults = new() { TrackerServers = [] };
}
