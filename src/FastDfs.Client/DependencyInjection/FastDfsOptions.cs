using System.ComponentModel.DataAnnotations;
using FastDfs.Protocol.Config;

namespace FastDfs.Client;

/// <summary>
/// The client's settings as configuration binds them (<c>appsettings.json</c>'s <c>"FastDfs"</c> section, environment
/// variables, code): <see cref="FastDfsServiceCollectionExtensions.AddFastDfs(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>
/// validates them at start and builds the <see cref="FastDfsClientOptions"/> of the shared client from them. A setting
/// left unset comes from <see cref="ClientConfigPath"/> when given, else from the stock client.conf defaults.
/// </summary>
public sealed class FastDfsOptions
{
    /// <summary>Tracker servers as <c>host:port</c> (port 22122 when left out); replaces client.conf's <c>tracker_server</c> lines when given.</summary>
    public string[] Trackers { get; set; } = [];

    /// <summary>A stock client.conf to read first (tracker_server, connect_timeout, network_timeout, use_connection_pool, connection_pool_max_idle_time).</summary>
    public string? ClientConfigPath { get; set; }

    /// <summary>Longest wait for a connection (client.conf <c>connect_timeout</c>; default 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>Longest wait for any progress of a send or receive (client.conf <c>network_timeout</c>; default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? NetworkTimeout { get; set; }

    /// <summary>Keep idle connections for reuse (client.conf <c>use_connection_pool</c>; default on).</summary>
    public bool? UseConnectionPool { get; set; }

    /// <summary>Idle pooled connections older than this are closed (client.conf <c>connection_pool_max_idle_time</c>; default 1 h).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "365.00:00:00")]
    public TimeSpan? ConnectionPoolMaxIdleTime { get; set; }

    /// <summary>Concurrent connections per server; 0 = unlimited (default 256).</summary>
    [Range(0, int.MaxValue)]
    public int? MaxConnectionsPerEndpoint { get; set; }

    /// <summary>Extra attempts on another tracker after a connection failure or timeout (default: each tracker once).</summary>
    [Range(0, 100)]
    public int? TrackerRetryCount { get; set; }

    /// <summary>The non-blank entries of <see cref="Trackers"/> (an empty value in configuration is no tracker).</summary>
    internal IReadOnlyList<string> GivenTrackers => Trackers.Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();

    /// <summary>Where <c>GetHttpUrl</c> points instead of the first tracker's HTTP port (an absolute http or https URL).</summary>
    public string? HttpBaseUrl { get; set; }

    /// <summary>The trackers' HTTP port for <c>GetHttpUrl</c> (client.conf <c>http.tracker_server_port</c>; default 80).</summary>
    [Range(1, 65535)]
    public int? HttpTrackerServerPort { get; set; }

    /// <summary>The servers' <c>http.anti_steal.secret_key</c>: <c>GetHttpUrl</c> adds a token (client.conf, when <c>http.anti_steal.check_token</c>).</summary>
    public string? AntiStealSecretKey { get; set; }

    /// <summary>The servers' <c>http.anti_steal.token_ttl</c> (default 600 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan? AntiStealTokenTtl { get; set; }

    /// <summary>The client settings these options give (reads <see cref="ClientConfigPath"/>; throws what loading it throws).</summary>
    public FastDfsClientOptions ToClientOptions()
    {
        var baseline = string.IsNullOrWhiteSpace(ClientConfigPath) ? FastDfsClientOptions.Default : FastDfsClientOptions.FromFile(ClientConfigPath);
        return baseline with
        {
            Trackers = GivenTrackers.Count > 0 ? GivenTrackers.Select(t => FastDfsEndpoint.Parse(t)).Distinct().ToArray() : baseline.Trackers,
            ConnectTimeout = ConnectTimeout ?? baseline.ConnectTimeout,
            NetworkTimeout = NetworkTimeout ?? baseline.NetworkTimeout,
            UseConnectionPool = UseConnectionPool ?? baseline.UseConnectionPool,
            ConnectionPoolMaxIdleTime = ConnectionPoolMaxIdleTime ?? baseline.ConnectionPoolMaxIdleTime,
            MaxConnectionsPerEndpoint = MaxConnectionsPerEndpoint ?? baseline.MaxConnectionsPerEndpoint,
            TrackerRetryCount = TrackerRetryCount ?? baseline.TrackerRetryCount,
            HttpBaseUrl = string.IsNullOrWhiteSpace(HttpBaseUrl) ? baseline.HttpBaseUrl : new Uri(HttpBaseUrl),
            HttpTrackerServerPort = HttpTrackerServerPort ?? baseline.HttpTrackerServerPort,
            AntiStealSecretKey = string.IsNullOrEmpty(AntiStealSecretKey) ? baseline.AntiStealSecretKey : AntiStealSecretKey,
            AntiStealTokenTtl = AntiStealTokenTtl ?? baseline.AntiStealTokenTtl,
        };
    }
}
