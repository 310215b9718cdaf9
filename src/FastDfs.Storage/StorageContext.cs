using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using FastDfs.Storage.Tracking;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage;

/// <summary>
/// What the client sessions, the tracker reporters and the HTTP port share: the storage's <see cref="StorageState"/>
/// and the long-lived components built on it. Assembled once by <see cref="Hosting.StorageServer"/>'s composition
/// root; every member is set here and never replaced. The state's members are repeated here so that callers read
/// <c>ctx.Config</c>, <c>ctx.Binlog</c>... as before.
/// </summary>
internal sealed class StorageContext : IDisposable
{
    public StorageContext(StorageState state, TrunkStore trunk, Sync.ReplicationManager replication, Integrity.Scrubber scrubber,
        Integrity.AntiEntropy antiEntropy, Logging.StorageAccessLog? accessLog)
    {
        State = state;
        AccessLog = accessLog;
        Trunk = trunk;
        Replication = replication;
        Scrubber = scrubber;
        AntiEntropy = antiEntropy;
    }

    /// <summary>The access log (<c>[access-log] enabled</c>), or null when it is off.</summary>
    public Logging.StorageAccessLog? AccessLog { get; }

    /// <summary>Configuration, on-disk state, counters, group view and clock.</summary>
    public StorageState State { get; }

    /// <summary>Trunk storage (spec 13): slots for small uploads, trunk-stored reads and deletes.</summary>
    public TrunkStore Trunk { get; }

    /// <summary>The sync workers and per-source timestamps (spec 12.4).</summary>
    public Sync.ReplicationManager Replication { get; }

    /// <summary>The background and on-demand scrub.</summary>
    public Integrity.Scrubber Scrubber { get; }

    /// <summary>The periodic comparison with the peers.</summary>
    public Integrity.AntiEntropy AntiEntropy { get; }

    /// <summary>Trunk space used / free / reclaimable, for the monitor and the metrics.</summary>
    public TrunkStats TrunkStats => Trunk.GetStats();

    /// <summary>The INTEGRITY_STATUS answer: totals, the scrub, anti-entropy, recent findings.</summary>
    public IntegrityStatus DescribeIntegrity()
    {
        var integrity = State.Integrity;
        var status = new IntegrityStatus
        {
            ReplicasRefused = integrity.ReplicasRefused,
            PushesRefused = integrity.PushesRefused,
            CorruptFound = integrity.LocalCorrupt,
            Repaired = integrity.Repaired,
            Unrepairable = integrity.Unrepairable,
            Findings = integrity.Findings,
        };
        return AntiEntropy.Describe(Scrubber.Describe(status));
    }

    public TimeProvider Clock => State.Clock;
    public long Now => State.Now;
    public byte[]? PeerKey => State.PeerKey;
    public IPAddress? ClientBindAddress => State.ClientBindAddress;
    public long NextTempSequence() => State.NextTempSequence();
    public StorageConfig Config => State.Config;
    public ILoggerFactory LoggerFactory => State.LoggerFactory;
    public string GroupName => State.GroupName;
    public string DataDirectory => State.DataDirectory;
    public StorePathSet Paths => State.Paths;

    /// <summary>
    /// Whether <paramref name="logicName"/> names a file of its own in our store paths (not a trunk slot): the names a
    /// request may give under another group's name, as a file moved here from that group (IMPORT_FILE) keeps its old ID.
    /// </summary>
    public bool TryParsePlainFileName(string logicName, out FastDfs.Protocol.FileIds.StoredFilePath stored) =>
        FastDfs.Protocol.FileIds.StoredFilePath.TryParse(logicName, Paths.Count, out stored) && !Trunk.IsTrunkName(logicName, out _);
    public HostAllowList AdminHosts => State.AdminHosts;
    public IReadOnlySet<IPAddress> TrackerAddresses => State.TrackerAddresses;
    public Integrity.FileLister Lister => State.Lister;
    public SubdirDistributor Distributor => State.Distributor;
    public StorageStatCounters Counters => State.Counters;
    public BinlogWriter Binlog => State.Binlog;
    public DataInitFlag InitFlag => State.InitFlag;
    public GroupView Group => State.Group;

    public Recovery.RecoveringMembers RecoveringMembers => State.RecoveringMembers;

    public StorePathHealth PathHealth => State.PathHealth;
    public Integrity.IntegrityStats Integrity => State.Integrity;
    public FileLocks FileLocks => State.FileLocks;
    public long StartTime => State.StartTime;

    public int Port
    {
        get => State.Port;
        set => State.Port = value;
    }

    public TrackerParameters Parameters
    {
        get => State.Parameters;
        set => State.Parameters = value;
    }

    public int HttpPort
    {
        get => State.HttpPort;
        set => State.HttpPort = value;
    }

    public Metrics.StorageMetrics? Metrics
    {
        get => State.Metrics;
        set => State.Metrics = value;
    }

    public string SourceIp => State.SourceIp;
    public uint SourceRaw => State.SourceRaw;
    public string? StorageId => State.StorageId;
    public string MyId => State.MyId;
    public void UseStorageId(string id, bool inFileName) => State.UseStorageId(id, inFileName);
    public void SetSourceIp(IPAddress address) => State.SetSourceIp(address);
    public void ConnectionOpened() => State.ConnectionOpened();
    public void ConnectionClosed() => State.ConnectionClosed();
    public void SaveStats(bool force) => State.SaveStats(force);

    public void Dispose()
    {
        State.Dispose();
        AccessLog?.Dispose();
        Trunk.Dispose();
    }
}
