using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using FastDfs.Storage.Tracking;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage;

/// <summary>
/// The storage's own state: configuration, the on-disk layout and what was loaded from it (init flag, binlog, stats),
/// the group as the tracker describes it, counters and the clock. Opened by <see cref="Open"/>; the long-lived
/// components (trunk, replication, scrub, anti-entropy) are built on top of it by the server's composition root and
/// joined with it in <see cref="StorageContext"/>.
/// </summary>
internal sealed class StorageState : IDisposable
{
    private readonly object _connectionGate = new();
    private string _sourceIp;
    private uint _sourceRaw;
    private long _tempSequence;
    private long _savedStatFingerprint = long.MinValue;

    private StorageState(StorageConfig config, ILoggerFactory loggerFactory, TimeProvider clock, StorePathSet paths, SubdirDistributor distributor,
        StorageStatCounters counters, DataInitFlag initFlag, BinlogWriter binlog, HostAllowList adminHosts, IReadOnlySet<IPAddress> trackerAddresses,
        string sourceIp)
    {
        Config = config;
        LoggerFactory = loggerFactory;
        Clock = clock;
        GroupName = config.GroupName!;
        DataDirectory = DataDirectoryOf(config);
        Paths = paths;
        Distributor = distributor;
        Counters = counters;
        InitFlag = initFlag;
        Binlog = binlog;
        AdminHosts = adminHosts;
        TrackerAddresses = trackerAddresses;
        Integrity = new Integrity.IntegrityStats(clock);
        RecoveringMembers = new Recovery.RecoveringMembers(config, clock, loggerFactory.CreateLogger<Recovery.RecoveringMembers>());
        PathHealth = new StorePathHealth(paths, config.SubdirCountPerPath, loggerFactory.CreateLogger<StorePathHealth>());
        var listerLogger = loggerFactory.CreateLogger<Integrity.FileLister>();
        Lister = new Integrity.FileLister(paths)
        {
            Unlisted = (directory, e) => listerLogger.LogWarning("listing {Directory} failed: {Message}; left out of the listing", directory, e.Message),
        };
        _sourceIp = sourceIp;
        _sourceRaw = FileNameCodec.SourceFromIp(sourceIp);
        StartTime = Now;
        Port = config.Port;
        PeerKey = PeerKeyOf(config);
        ClientBindAddress = ClientBindAddressOf(config);
    }

    /// <summary>The <c>cluster_secret_key</c> proven to peers, or null without one.</summary>
    internal static byte[]? PeerKeyOf(StorageConfig config) =>
        config.ClusterSecretKey.Length > 0 ? Protocol.Messages.PeerAuth.Key(config.ClusterSecretKey) : null;

    /// <summary>The address outgoing connections are made from (<c>bind_addr</c> with <c>client_bind</c>), or null.</summary>
    internal static IPAddress? ClientBindAddressOf(StorageConfig config) =>
        config.ClientBind && !string.IsNullOrEmpty(config.BindAddr) && IPAddress.TryParse(config.BindAddr, out var bind) && !bind.Equals(IPAddress.Any)
            ? bind
            : null;

    /// <summary>
    /// Creates or checks the on-disk layout (spec 15), loads the init flag, the stats and the binlog, and returns the
    /// state built from them. Nothing runs yet.
    /// </summary>
    public static StorageState Open(StorageConfig config, ILoggerFactory loggerFactory, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.GroupName is null)
        {
            throw new ArgumentException("storage config has no group_name", nameof(config));
        }

        long now = clock.GetUtcNow().ToUnixTimeSeconds();
        var logger = loggerFactory.CreateLogger("FastDfs.Storage");
        var adminHosts = ServerCore.Transport.AllowHosts.Build(config.AdminHosts, logger, "admin_hosts");
        var trackerAddresses = ResolveTrackers(config, logger);
        string sourceIp = !string.IsNullOrEmpty(config.BindAddr) && IPAddress.TryParse(config.BindAddr, out _) ? config.BindAddr : "127.0.0.1";
        string dataDirectory = DataDirectoryOf(config);
        config = Recovery.SparePaths.Apply(config, dataDirectory, logger); // store paths on the spares that replaced failed disks
        var paths = new StorePathSet(config);
        var distributor = new SubdirDistributor(config.FileDistributePathMode, config.FileDistributeRotateCount, config.SubdirCountPerPath);
        var counters = new StorageStatCounters();

        Directory.CreateDirectory(dataDirectory);
        bool[] directoriesCreated = paths.EnsureDirectories();
        var initFlag = DataInitFlag.LoadOrCreate(dataDirectory, paths.Count, now);
        if (initFlag.WasCreated)
        {
            initFlag.LastIpAddr = sourceIp;
            initFlag.LastServerPort = config.Port;
        }

        foreach (int lost in ReconcileStorePathMarks(config, paths, initFlag, directoriesCreated, sourceIp, now, logger))
        {
            // Written before anything else happens: a crash from here on still recovers the path at the next start.
            var recovery = new Recovery.RecoveryFiles(paths[lost].DataDirectory);
            if (!recovery.InProgress)
            {
                recovery.WriteFlag(new Recovery.RecoveryFiles.Flag(Recovery.RecoveryFiles.UnknownStatus, false, -1));
            }
        }

        initFlag.Save();
        StorageStatFile.Load(dataDirectory, counters, distributor, logger);
        RemoveStaleReplicaTempFiles(paths, logger);
        var binlog = new BinlogWriter(dataDirectory, loggerFactory.CreateLogger<BinlogWriter>());
        return new StorageState(config, loggerFactory, clock, paths, distributor, counters, initFlag, binlog, adminHosts, trackerAddresses, sourceIp);
    }

    private static string DataDirectoryOf(StorageConfig config) => Path.Combine(config.BasePath, "data");

    private static HashSet<IPAddress> ResolveTrackers(StorageConfig config, ILogger logger)
    {
        var trackers = new HashSet<IPAddress>();
        foreach (var tracker in config.TrackerServers)
        {
            foreach (string host in new[] { tracker.Host, tracker.SecondHost }.OfType<string>())
            {
                try
                {
                    trackers.UnionWith(IPAddress.TryParse(host, out var ip) ? [ip] : System.Net.Dns.GetHostAddresses(host));
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    logger.LogWarning("tracker host {Host} does not resolve: {Message}", host, e.Message);
                }
            }
        }

        return trackers;
    }

    /// <summary>Half-received replicas of a previous run (<c>data/.cp*.tmp</c>): nothing can be receiving yet.</summary>
    private static void RemoveStaleReplicaTempFiles(StorePathSet paths, ILogger logger)
    {
        foreach (var path in paths.All)
        {
            if (!Directory.Exists(path.DataDirectory))
            {
                continue;
            }

            foreach (string temp in Directory.EnumerateFiles(path.DataDirectory, ".cp*.tmp"))
            {
                logger.LogInformation("removing the stale replica temp file {Path}", temp);
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Checks each store path's mark against the init flag; returns the paths whose data is lost and must be recovered
    /// from a peer: with data expected (an init flag whose old-data sync is done), a path whose directories had to be
    /// created or whose mark is gone (an empty replacement disk), or whose mark belongs to no path of ours (a foreign
    /// disk). Such a path gets a new mark. Marks of two of our paths swapped, or an unrecorded mark, stop the start.
    /// </summary>
    private static List<int> ReconcileStorePathMarks(StorageConfig config, StorePathSet paths, DataInitFlag initFlag, bool[] directoriesCreated,
        string sourceIp, long now, ILogger logger)
    {
        var lost = new List<int>();
        bool dataExpected = !initFlag.WasCreated && initFlag.SyncOldDone;
        for (int i = 0; i < paths.Count; i++)
        {
            string dataDir = paths[i].DataDirectory;
            string? onDisk = StorePathMark.Read(dataDir);
            string recorded = initFlag.StorePathMarks[i] ?? string.Empty;
            if (onDisk is null)
            {
                bool replaced = dataExpected && (directoriesCreated[i] || recorded.Length > 0);
                string mark = recorded.Length > 0 && !replaced ? recorded : StorePathMark.Build(sourceIp, config.Port, i, now);
                StorePathMark.Write(dataDir, mark);
                initFlag.StorePathMarks[i] = mark;
                if (replaced)
                {
                    logger.LogWarning("store path {Index} ({Path}) has lost its data (no {Vars}): recovering it from a peer", i, paths[i].Root,
                        StorePathMark.VarsFileName);
                    lost.Add(i);
                }
            }
            else if (recorded.Length == 0)
            {
                if (!initFlag.WasCreated && config.CheckStorePathMark)
                {
                    throw new InvalidOperationException(
                        $"store path {paths[i].Root} has a mark in {StorePathMark.VarsFileName} that {DataInitFlag.FileName} does not record: wrong disk mounted?");
                }

                logger.LogInformation("adopting the existing store path mark of {Path}", paths[i].Root);
                initFlag.StorePathMarks[i] = onDisk;
            }
            else if (onDisk != recorded)
            {
                int owner = Array.IndexOf(initFlag.StorePathMarks, onDisk);
                if (owner >= 0)
                {
                    throw new InvalidOperationException(
                        $"store path {paths[i].Root} holds the disk of store path {owner} ({paths[owner].Root}): disks swapped? Mount each at its own path.");
                }

                if (dataExpected)
                {
                    logger.LogWarning("store path {Index} ({Path}) holds a disk that is not ours (foreign mark in {Vars}): recovering the path from a peer; "
                        + "the disk's other files are left in place", i, paths[i].Root, StorePathMark.VarsFileName);
                    string mark = StorePathMark.Build(sourceIp, config.Port, i, now);
                    StorePathMark.Write(dataDir, mark);
                    initFlag.StorePathMarks[i] = mark;
                    lost.Add(i);
                }
                else if (config.CheckStorePathMark)
                {
                    throw new InvalidOperationException(
                        $"store path {paths[i].Root}: mark in {StorePathMark.VarsFileName} differs from {DataInitFlag.FileName}: wrong disk mounted?");
                }
            }
            else if (directoriesCreated[i] && dataExpected)
            {
                logger.LogWarning("store path {Index} ({Path}) had lost its data directories: recovering it from a peer", i, paths[i].Root);
                lost.Add(i);
            }
        }

        return lost;
    }

    /// <summary>The store paths with a disk recovery due or in progress (their <c>.recovery.flag</c>).</summary>
    public IReadOnlyList<int> PathsToRecover() =>
        [.. Enumerable.Range(0, Paths.Count).Where(i => new Recovery.RecoveryFiles(Paths[i].DataDirectory).InProgress)];

    /// <summary>The server's clock: <see cref="TimeProvider.System"/>, or a fake one in tests.</summary>
    public TimeProvider Clock { get; }

    /// <summary>Now in Unix seconds, by <see cref="Clock"/>.</summary>
    public long Now => Clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary><c>cluster_secret_key</c> as HMAC key bytes, or null when none is set (no peer handshake).</summary>
    public byte[]? PeerKey { get; }

    /// <summary>The local address outgoing connections bind to (stock's client_bind with bind_addr), or null.</summary>
    public IPAddress? ClientBindAddress { get; }

    /// <summary>Sequence for the <c>.cp&lt;seq&gt;.tmp</c> files of received replicas.</summary>
    public long NextTempSequence() => Interlocked.Increment(ref _tempSequence);

    public StorageConfig Config { get; }
    public ILoggerFactory LoggerFactory { get; }
    public string GroupName { get; }
    public string DataDirectory { get; }
    public StorePathSet Paths { get; }

    /// <summary>Who may use the administration commands besides the group's members and the trackers (<c>admin_hosts</c>).</summary>
    public HostAllowList AdminHosts { get; }

    /// <summary>The trackers' addresses (resolved at start): they may ask the integrity report for the dashboard.</summary>
    public IReadOnlySet<IPAddress> TrackerAddresses { get; }

    /// <summary>The stored files in name order, a page at a time (LIST_FILES, anti-entropy).</summary>
    public Integrity.FileLister Lister { get; }
    public SubdirDistributor Distributor { get; }
    public StorageStatCounters Counters { get; }
    public BinlogWriter Binlog { get; }
    public DataInitFlag InitFlag { get; }
    public GroupView Group { get; } = new();

    /// <summary>The check of the store paths' disks (a failed one is taken out of service).</summary>
    public StorePathHealth PathHealth { get; }

    /// <summary>Whether a member of the group recovers a disk now (the trackers asked, cached two seconds).</summary>
    public Recovery.RecoveringMembers RecoveringMembers { get; }

    /// <summary>Damaged and missing copies found and repaired (checked replication, scrub, anti-entropy).</summary>
    public Integrity.IntegrityStats Integrity { get; }

    /// <summary>Serializes the in-place changes of one file (appends, modifies, truncates, renames, metadata) and the sync worker's snapshots of it.</summary>
    public FileLocks FileLocks { get; } = new();

    public long StartTime { get; }

    /// <summary>The port trackers and peers know us by (the bound port when configured as 0).</summary>
    public int Port { get; set; }

    public TrackerParameters Parameters { get; set; } = TrackerParameters.Default;

    /// <summary>Our built-in HTTP port once bound, 0 when HTTP is off (answered to HTTP_PORT queries).</summary>
    public int HttpPort { get; set; }

    /// <summary>Request metrics, present when the HTTP server (which exports them) is on.</summary>
    public Metrics.StorageMetrics? Metrics { get; set; }

    /// <summary>Our IPv4 as the tracker sees it; the source field of every generated name.</summary>
    public string SourceIp => Volatile.Read(ref _sourceIp);

    public uint SourceRaw => Volatile.Read(ref _sourceRaw);

    /// <summary>Our storage id when the trackers use storage ids (use_storage_id), else null.</summary>
    public string? StorageId { get; private set; }

    /// <summary>The id trackers and peers know us by: the storage id, or our IP without ids.</summary>
    public string MyId => StorageId ?? SourceIp;

    /// <summary>Our id in the group: the configured/assigned storage id, else as the leader's group list names us
    /// (ip, or ip:port beside a same-host storage).</summary>
    public string IdInGroup
    {
        get
        {
            if (StorageId is { } storageId)
            {
                return storageId;
            }

            foreach (var brief in Group.Servers)
            {
                if (brief.IpAddr == SourceIp && brief.Port == Port)
                {
                    return brief.Id;
                }
            }

            return SourceIp;
        }
    }

    /// <summary>Adopts our storage id; with id_type_in_filename = id new file names carry it instead of the IP.</summary>
    public void UseStorageId(string id, bool inFileName)
    {
        StorageId = id;
        if (inFileName && int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int numeric))
        {
            Volatile.Write(ref _sourceRaw, FileNameCodec.SourceFromStorageId(numeric));
        }
    }

    public void SetSourceIp(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        string text = address.ToString();
        if (text == SourceIp)
        {
            return;
        }

        if (StorageId is null || !Parameters.IdTypeIsId)
        {
            Volatile.Write(ref _sourceRaw, FileNameCodec.SourceFromIp(text));
        }

        Volatile.Write(ref _sourceIp, text);
        if (InitFlag.LastIpAddr != text)
        {
            InitFlag.LastIpAddr = text;
            InitFlag.Save();
        }
    }

    public void ConnectionOpened()
    {
        lock (_connectionGate)
        {
            int current = Counters.ConnectionCurrentCount + 1;
            Counters.ConnectionCurrentCount = current;
            if (current > Counters.ConnectionMaxCount)
            {
                Counters.ConnectionMaxCount = current;
            }

            if (current > Counters.ConnectionAllocCount)
            {
                Counters.ConnectionAllocCount = current;
            }
        }
    }

    public void ConnectionClosed()
    {
        lock (_connectionGate)
        {
            Counters.ConnectionCurrentCount--;
        }
    }

    /// <summary>Writes storage_stat.dat when something changed (or when forced on stop).</summary>
    public void SaveStats(bool force)
    {
        long fingerprint = StorageStatFile.Fingerprint(Counters, Distributor);
        if (!force && fingerprint == _savedStatFingerprint)
        {
            return;
        }

        StorageStatFile.Save(DataDirectory, Counters, Distributor);
        _savedStatFingerprint = fingerprint;
    }

    public void Dispose() => Binlog.Dispose();
}
