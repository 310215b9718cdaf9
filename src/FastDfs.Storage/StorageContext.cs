using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using FastDfs.Storage.Tracking;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage;

/// <summary>Runtime state shared by the client sessions, the tracker reporters and the server.</summary>
internal sealed class StorageContext : IDisposable
{
    private readonly object _connectionGate = new();
    private string _sourceIp;
    private uint _sourceRaw;
    private long _tempSequence;

    public StorageContext(StorageConfig config, ILoggerFactory loggerFactory)
    {
        Config = config;
        LoggerFactory = loggerFactory;
        GroupName = config.GroupName ?? throw new ArgumentException("storage config has no group_name", nameof(config));
        DataDirectory = Path.Combine(config.BasePath, "data");
        Paths = new StorePathSet(config);
        var listerLogger = loggerFactory.CreateLogger<Integrity.FileLister>();
        Lister = new Integrity.FileLister(Paths)
        {
            Unlisted = (directory, e) => listerLogger.LogWarning("listing {Directory} failed: {Message}; left out of the listing", directory, e.Message),
        };
        Distributor = new SubdirDistributor(config.FileDistributePathMode, config.FileDistributeRotateCount, config.SubdirCountPerPath);
        _sourceIp = !string.IsNullOrEmpty(config.BindAddr) && IPAddress.TryParse(config.BindAddr, out _) ? config.BindAddr : "127.0.0.1";
        _sourceRaw = FileNameCodec.SourceFromIp(_sourceIp);
        StartTime = Now;
        Port = config.Port;
        Binlog = null!;
        InitFlag = null!;
        Trunk = null!;
        Replication = null!;
        Scrubber = null!;
        AntiEntropy = null!;
        PeerKey = config.ClusterSecretKey.Length > 0 ? Protocol.Messages.PeerAuth.Key(config.ClusterSecretKey) : null;
        ClientBindAddress = config.ClientBind && !string.IsNullOrEmpty(config.BindAddr) && IPAddress.TryParse(config.BindAddr, out var bind) &&
            !bind.Equals(IPAddress.Any)
            ? bind
            : null;
    }

    /// <summary><c>cluster_secret_key</c> as HMAC key bytes, or null when none is set (no peer handshake).</summary>
    public byte[]? PeerKey { get; }

    /// <summary>The local address outgoing connections bind to (stock's client_bind with bind_addr), or null.</summary>
    public IPAddress? ClientBindAddress { get; }

    /// <summary>The sync workers and per-source timestamps (spec 12.4); created by <see cref="Initialize"/>.</summary>
    public Sync.ReplicationManager Replication { get; private set; }

    /// <summary>The background and on-demand scrub; created by <see cref="Initialize"/>.</summary>
    public Integrity.Scrubber Scrubber { get; private set; }

    /// <summary>The periodic comparison with the peers; created by <see cref="Initialize"/>.</summary>
    public Integrity.AntiEntropy AntiEntropy { get; private set; }

    /// <summary>Sequence for the <c>.cp&lt;seq&gt;.tmp</c> files of received replicas.</summary>
    public long NextTempSequence() => Interlocked.Increment(ref _tempSequence);

    public StorageConfig Config { get; }
    public ILoggerFactory LoggerFactory { get; }
    public string GroupName { get; }
    public string DataDirectory { get; }
    public StorePathSet Paths { get; }

    /// <summary>Who may use the administration commands besides the group's members and the trackers (<c>admin_hosts</c>).</summary>
    public Protocol.Config.HostAllowList AdminHosts { get; private set; } = Protocol.Config.HostAllowList.Everyone;

    /// <summary>The trackers' addresses (resolved at start): they may ask the integrity report for the dashboard.</summary>
    public IReadOnlySet<IPAddress> TrackerAddresses { get; private set; } = new HashSet<IPAddress>();

    /// <summary>The stored files in name order, a page at a time (LIST_FILES, anti-entropy).</summary>
    public Integrity.FileLister Lister { get; }
    public SubdirDistributor Distributor { get; }
    public StorageStatCounters Counters { get; } = new();
    public BinlogWriter Binlog { get; private set; }
    public DataInitFlag InitFlag { get; private set; }
    public GroupView Group { get; } = new();

    /// <summary>Damaged and missing copies found and repaired (checked replication, scrub, anti-entropy).</summary>
    public FastDfs.Storage.Integrity.IntegrityStats Integrity { get; } = new();

    /// <summary>Serializes the in-place changes of one file (appends, modifies, truncates, renames, metadata) and the sync worker's snapshots of it.</summary>
    public FileLocks FileLocks { get; } = new();

    /// <summary>Trunk storage (spec 13): slots for small uploads, trunk-stored reads and deletes.</summary>
    public TrunkStore Trunk { get; private set; }

    /// <summary>Trunk space used / free / reclaimable, for the monitor and the metrics.</summary>
    public TrunkStats TrunkStats => Trunk.GetStats();
    public long StartTime { get; }

    /// <summary>The port trackers and peers know us by (the bound port when configured as 0).</summary>
    public int Port { get; set; }

    public TrackerParameters Parameters { get; set; } = TrackerParameters.Default;

    /// <summary>Our built-in HTTP port once bound, 0 when HTTP is off (answered to HTTP_PORT queries).</summary>
    public int HttpPort { get; set; }

    /// <summary>Request metrics, present when the HTTP server (which exports them) is on.</summary>
    public Metrics.StorageMetrics? Metrics { get; set; }

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Our IPv4 as the tracker sees it; the source field of every generated name.</summary>
    public string SourceIp => Volatile.Read(ref _sourceIp);

    public uint SourceRaw => Volatile.Read(ref _sourceRaw);

    /// <summary>Our storage id when the trackers use storage ids (use_storage_id), else null.</summary>
    public string? StorageId { get; private set; }

    /// <summary>The id trackers and peers know us by: the storage id, or our IP without ids.</summary>
    public string MyId => StorageId ?? SourceIp;

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

    /// <summary>Creates or checks the on-disk layout (spec 15) and loads the persisted state.</summary>
    public void Initialize()
    {
        var logger = LoggerFactory.CreateLogger("FastDfs.Storage");
        AdminHosts = ServerCore.Transport.AllowHosts.Build(Config.AdminHosts, logger, "admin_hosts");
        var trackers = new HashSet<IPAddress>();
        foreach (var tracker in Config.TrackerServers)
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

        TrackerAddresses = trackers;
        Directory.CreateDirectory(DataDirectory);
        Paths.EnsureDirectories();
        InitFlag = DataInitFlag.LoadOrCreate(DataDirectory, Paths.Count, Now);
        if (InitFlag.WasCreated)
        {
            InitFlag.LastIpAddr = SourceIp;
            InitFlag.LastServerPort = Port;
        }

        ReconcileStorePathMarks(logger);
        InitFlag.Save();
        StorageStatFile.Load(DataDirectory, Counters, Distributor, logger);
        Binlog = new BinlogWriter(DataDirectory, LoggerFactory.CreateLogger<BinlogWriter>());
        Trunk = new TrunkStore(this, new TrunkFileStore(Paths));
        Replication = new Sync.ReplicationManager(this, LoggerFactory);
        Scrubber = new Integrity.Scrubber(this, LoggerFactory.CreateLogger<Integrity.Scrubber>());
        AntiEntropy = new Integrity.AntiEntropy(this, LoggerFactory.CreateLogger<Integrity.AntiEntropy>());
        RemoveStaleReplicaTempFiles(logger);
    }

    /// <summary>Half-received replicas of a previous run (<c>data/.cp*.tmp</c>): nothing can be receiving yet.</summary>
    private void RemoveStaleReplicaTempFiles(ILogger logger)
    {
        foreach (var path in Paths.All)
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

    private void ReconcileStorePathMarks(ILogger logger)
    {
        for (int i = 0; i < Paths.Count; i++)
        {
            string dataDir = Paths[i].DataDirectory;
            string? onDisk = StorePathMark.Read(dataDir);
            string recorded = InitFlag.StorePathMarks[i] ?? string.Empty;
            if (onDisk is null)
            {
                string mark = recorded.Length > 0 ? recorded : StorePathMark.Build(SourceIp, Port, i, Now);
                StorePathMark.Write(dataDir, mark);
                InitFlag.StorePathMarks[i] = mark;
            }
            else if (recorded.Length == 0)
            {
                if (!InitFlag.WasCreated && Config.CheckStorePathMark)
                {
                    throw new InvalidOperationException(
                        $"store path {Paths[i].Root} has a mark in {StorePathMark.VarsFileName} that {DataInitFlag.FileName} does not record: wrong disk mounted?");
                }

                logger.LogInformation("adopting the existing store path mark of {Path}", Paths[i].Root);
                InitFlag.StorePathMarks[i] = onDisk;
            }
            else if (onDisk != recorded && Config.CheckStorePathMark)
            {
                throw new InvalidOperationException(
                    $"store path {Paths[i].Root}: mark in {StorePathMark.VarsFileName} differs from {DataInitFlag.FileName}: wrong disk mounted?");
            }
        }
    }

    /// <summary>The INTEGRITY_STATUS answer: totals, the scrub, anti-entropy, recent findings.</summary>
    public Protocol.Messages.IntegrityStatus DescribeIntegrity()
    {
        var status = new Protocol.Messages.IntegrityStatus
        {
            ReplicasRefused = Integrity.ReplicasRefused,
            PushesRefused = Integrity.PushesRefused,
            CorruptFound = Integrity.LocalCorrupt,
            Repaired = Integrity.Repaired,
            Unrepairable = Integrity.Unrepairable,
            Findings = Integrity.Findings,
        };
        return AntiEntropy.Describe(Scrubber.Describe(status));
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

    private long _savedStatFingerprint = long.MinValue;

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

    public void Dispose()
    {
        Binlog?.Dispose();
        Trunk?.Dispose();
    }
}
