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
    /// <summary>
    /// Joins the parts <see cref="TrackerServer"/>'s composition root built; every member is set here and never
    /// replaced.
    /// </summary>
    public TrackerRuntime(TrackerConfig config, ILoggerFactory loggerFactory, TimeProvider clock, StorageIdTable? storageIds,
        TrackerDataStore dataStore, ClusterState cluster, TrackerPeers peers, ConnectionCounts connections, LeaderRelationship relationship,
        TrunkServerElector trunkElector)
    {
        Config = config;
        LoggerFactory = loggerFactory;
        Clock = clock;
        StorageIds = storageIds;
        IpSize = config.ResolveResponseIpAddrSize(storageIds?.HasIpv6 ?? false);
        DataStore = dataStore;
        Cluster = cluster;
        Peers = peers;
        Connections = connections;
        StartTime = peers.StartTime;
        PeerKey = PeerKeyOf(config);
        AdminHosts = ServerCore.Transport.AllowHosts.Build(config.AdminHosts, loggerFactory.CreateLogger<TrackerRuntime>(), "admin_hosts");
        Relationship = relationship;
        TrunkElector = trunkElector;
    }

    /// <summary><c>cluster_secret_key</c> as HMAC key bytes, or null when none is set (no peer handshake).</summary>
    public static byte[]? PeerKeyOf(TrackerConfig config) =>
        config.ClusterSecretKey.Length > 0 ? Protocol.Messages.PeerAuth.Key(config.ClusterSecretKey) : null;

    /// <summary>The address outgoing peer connections bind to: bind_addr when it names one address, else the system's choice.</summary>
    public static System.Net.IPAddress? ClientBindAddressOf(TrackerConfig config) =>
        System.Net.IPAddress.TryParse(config.BindAddr.Split(',')[0].Trim(), out var ip) && !ip.Equals(System.Net.IPAddress.Any) ? ip : null;

    /// <summary>tracker.conf's <c>tracker_server</c> lines with host names resolved (both addresses of a dual-address tracker).</summary>
    public static List<TrackerPeer> ConfiguredPeers(TrackerConfig config, ILogger logger)
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
    public System.Net.IPAddress? ClientBindAddress => ClientBindAddressOf(Config);

    public TrackerConfig Config { get; }

    /// <summary>The tracker's clock: <see cref="TimeProvider.System"/>, or a fake one in tests.</summary>
    public TimeProvider Clock { get; }

    /// <summary>Now in Unix seconds, by <see cref="Clock"/>.</summary>
    public long Now => Cluster.Now;

    public ConnectionCounts Connections { get; }

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
    public int CurrentConnections => Connections.Current;
    public int PeakConnections => Connections.Peak;

    /// <summary>Request metrics, present when the HTTP server (which exports them) is on.</summary>
    public Http.TrackerMetrics? Metrics { get; set; }

    public void ConnectionOpened() => Connections.Opened();

    public void ConnectionClosed() => Connections.Closed();
}
