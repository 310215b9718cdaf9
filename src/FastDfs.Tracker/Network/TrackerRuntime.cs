using FastDfs.Protocol.Config;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Peers;
using FastDfs.Tracker.Persistence;
using FastDfs.Tracker.StorageIds;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>Everything the connection handler shares across connections of one tracker instance.</summary>
internal sealed class TrackerRuntime
{
    private int _currentConnections;
    private int _peakConnections;

    public TrackerRuntime(TrackerConfig config, ILoggerFactory loggerFactory)
    {
        Config = config;
        LoggerFactory = loggerFactory;
        StorageIds = config.UseStorageId ? StorageIdTable.Load(config.StorageIdsFilename) : null;
        IpSize = config.ResolveResponseIpAddrSize(StorageIds?.HasIpv6 ?? false);
        DataStore = new TrackerDataStore(config.BasePath, loggerFactory.CreateLogger<TrackerDataStore>());
        Cluster = new ClusterState(config, loggerFactory.CreateLogger<ClusterState>()) { StorageIds = StorageIds };
        Cluster.DataStore = DataStore;
        StartTime = ClusterState.Now;
        var (_, lastCheck) = DataStore.ReadStatus();
        Peers = new TrackerPeers(StartTime, lastCheck > 0 ? Math.Max(0, StartTime - lastCheck) : 0,
            loggerFactory.CreateLogger<TrackerPeers>(), ConfiguredPeers(config, loggerFactory.CreateLogger<TrackerPeers>()));
        PeerKey = config.ClusterSecretKey.Length > 0 ? Protocol.Messages.PeerAuth.Key(config.ClusterSecretKey) : null;
        AdminHosts = ServerCore.Transport.AllowHosts.Build(config.AdminHosts, loggerFactory.CreateLogger<TrackerRuntime>(), "admin_hosts");
        Relationship = new LeaderRelationship(this, loggerFactory.CreateLogger<LeaderRelationship>());
        TrunkElector = new TrunkServerElector(this, loggerFactory.CreateLogger<TrunkServerElector>());
        if (DataStore.Load(Cluster))
        {
            Relationship.StateLoaded();
        }
    }

    /// <summary>tracker.conf's <c>tracker_server</c> lines with host names resolved (both addresses of a dual-address tracker).</summary>
    private static List<TrackerPeer> ConfiguredPeers(TrackerConfig config, ILogger logger)
    {
        var peers = new List<TrackerPeer>();
        foreach (var tracker in config.TrackerServers)
        {
            foreach (string host in new[] { tracker.Host, tracker.SecondHost }.OfType<string>())
            {
                try
                {
                    var addresses = System.Net.IPAddress.TryParse(host, out var ip) ? [ip] : System.Net.Dns.GetHostAddresses(host);
                    peers.AddRange(addresses.Select(a => new TrackerPeer(a.ToString(), tracker.Port)));
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    logger.LogWarning("tracker_server {Host} does not resolve: {Message}", host, e.Message);
                }
            }
        }

        return peers;
    }

    /// <summary>The address outgoing peer connections bind to: bind_addr when it names one address, else the system's choice.</summary>
    public System.Net.IPAddress? ClientBindAddress =>
        System.Net.IPAddress.TryParse(Config.BindAddr.Split(',')[0].Trim(), out var ip) && !ip.Equals(System.Net.IPAddress.Any) ? ip : null;

    public TrackerConfig Config { get; }

    /// <summary><c>cluster_secret_key</c> as HMAC key bytes, or null when none is set (no peer handshake).</summary>
    public byte[]? PeerKey { get; }

    /// <summary><c>admin_hosts</c>: who may delete storages and groups.</summary>
    public Protocol.Config.HostAllowList AdminHosts { get; }
    public ILoggerFactory LoggerFactory { get; }
    public ClusterState Cluster { get; }
    public TrackerDataStore DataStore { get; }
    public TrackerPeers Peers { get; }
    public LeaderRelationship Relationship { get; }

    /// <summary>Trunk server election of the leader (spec 13).</summary>
    public TrunkServerElector TrunkElector { get; }

    /// <summary>storage_ids.conf when use_storage_id is on.</summary>
    public StorageIdTable? StorageIds { get; }

    /// <summary>IP field width in responses: 16 or 46 (spec 4.0).</summary>
    public int IpSize { get; }

    public long StartTime { get; }
    public int CurrentConnections => Volatile.Read(ref _currentConnections);
    public int PeakConnections => Volatile.Read(ref _peakConnections);

    /// <summary>Request metrics, present when the HTTP server (which exports them) is on.</summary>
    public Http.TrackerMetrics? Metrics { get; set; }

    public void ConnectionOpened()
    {
        int now = Interlocked.Increment(ref _currentConnections);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakConnections)) &&
               Interlocked.CompareExchange(ref _peakConnections, now, peak) != peak)
        {
        }
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _currentConnections);
}
