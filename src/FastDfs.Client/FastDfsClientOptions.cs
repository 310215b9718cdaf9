using FastDfs.Protocol;
using FastDfs.Protocol.Config;

namespace FastDfs.Client;

/// <summary>Immutable client settings; <see cref="Default"/> matches the stock client.conf code defaults.</summary>
public sealed record FastDfsClientOptions
{
    public static FastDfsClientOptions Default { get; } = new();

    /// <summary>Tracker servers, tried in turn (round-robin start) with failover.</summary>
    public IReadOnlyList<FastDfsEndpoint> Trackers { get; init; } =
        [new FastDfsEndpoint("127.0.0.1", ProtocolConstants.DefaultTrackerPort)];

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for any single send/receive progress (reset as a streamed body advances).</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Keep idle connections for reuse (stock <c>use_connection_pool</c>; on by default here).</summary>
    public bool UseConnectionPool { get; init; } = true;

    /// <summary>Idle pooled connections older than this are closed instead of reused.</summary>
    public TimeSpan ConnectionPoolMaxIdleTime { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary>Concurrent connections per server; 0 = unlimited.</summary>
    public int MaxConnectionsPerEndpoint { get; init; } = 256;

    /// <summary>
    /// Extra attempts on another tracker after a connection failure or timeout; null = try each tracker once.
    /// Errno replies are never retried.
    /// </summary>
    public int? TrackerRetryCount { get; init; }

    /// <summary>
    /// Socket calls block the calling thread instead of awaiting readiness: an operation runs on its caller's
    /// thread from start to end. Cheaper per request for callers that give each concurrent operation a
    /// thread of its own (a load generator, synchronous code); wasteful for many concurrent operations on few
    /// threads. The network timeout becomes the socket timeout, and cancellation is seen between socket calls.
    /// </summary>
    public bool BlockingSockets { get; init; }

    /// <summary>Chunk size used when streaming bodies.</summary>
    public int StreamBufferSize { get; init; } = 64 * 1024;

    /// <summary>The trackers' HTTP port for <see cref="FastDfsClient.GetHttpUrl"/> (client.conf <c>http.tracker_server_port</c>).</summary>
    public int HttpTrackerServerPort { get; init; } = ClientConfig.DefaultHttpTrackerServerPort;

    /// <summary>Where <see cref="FastDfsClient.GetHttpUrl"/> points instead of the first tracker's HTTP port (a load balancer, a CDN).</summary>
    public Uri? HttpBaseUrl { get; init; }

    /// <summary>
    /// The servers' <c>http.anti_steal.secret_key</c> when they check tokens (client.conf <c>http.anti_steal.check_token</c>):
    /// <see cref="FastDfsClient.GetHttpUrl"/> adds <c>?token=…&amp;ts=…</c>; null = URLs without a token.
    /// </summary>
    public string? AntiStealSecretKey { get; init; }

    /// <summary>The servers' <c>http.anti_steal.token_ttl</c>: a token is accepted this long after its timestamp.</summary>
    public TimeSpan AntiStealTokenTtl { get; init; } = TimeSpan.FromSeconds(HttpConfig.DefaultTokenTtl);

    /// <summary>The clock of token timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Options for the given tracker addresses (<c>host:port</c>).</summary>
    public static FastDfsClientOptions ForTrackers(params string[] trackers) =>
        new() { Trackers = trackers.Select(t => FastDfsEndpoint.Parse(t)).ToArray() };

    /// <summary>
    /// Options from a stock client.conf: tracker_server lines (a tracker's second address becomes another
    /// endpoint), connect/network timeouts (≤ 0 = default), use_connection_pool, connection_pool_max_idle_time,
    /// http.tracker_server_port and the http.anti_steal keys (usually from an included http.conf).
    /// </summary>
    public static FastDfsClientOptions FromClientConfig(ClientConfig config)
    {
        var trackers = new List<FastDfsEndpoint>();
        foreach (var tracker in config.TrackerServers)
        {
            trackers.AddRange(tracker.Hosts.Select(host => new FastDfsEndpoint(host, tracker.Port)));
        }

        return Default with
        {
            Trackers = trackers.Distinct().ToArray(),
            ConnectTimeout = config.ConnectTimeout > 0 ? TimeSpan.FromSeconds(config.ConnectTimeout) : Default.ConnectTimeout,
            NetworkTimeout = config.NetworkTimeout > 0 ? TimeSpan.FromSeconds(config.NetworkTimeout) : Default.NetworkTimeout,
            UseConnectionPool = config.UseConnectionPool,
            ConnectionPoolMaxIdleTime = config.ConnectionPoolMaxIdleTime > 0
                ? TimeSpan.FromSeconds(config.ConnectionPoolMaxIdleTime)
                : Default.ConnectionPoolMaxIdleTime,
            HttpTrackerServerPort = config.HttpTrackerServerPort,
            AntiStealSecretKey = config.AntiStealCheckToken ? config.AntiStealSecretKey : null,
            AntiStealTokenTtl = TimeSpan.FromSeconds(config.AntiStealTokenTtl),
        };
    }

    /// <summary>Loads a stock client.conf (throws <see cref="ConfigException"/> on errors).</summary>
    public static FastDfsClientOptions FromFile(string path) => FromClientConfig(ClientConfig.Load(path));

    internal int TrackerAttempts => TrackerRetryCount is { } retries ? Math.Max(1, retries + 1) : Math.Max(1, Trackers.Count);
}
