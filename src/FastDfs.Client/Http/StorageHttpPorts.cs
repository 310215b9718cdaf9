using System.Collections.Concurrent;

namespace FastDfs.Client.Http;

/// <summary>
/// Finds the HTTP port of a storage from its FastDFS endpoint: asks the storage (FastDFS.NET's
/// HTTP_PORT query) and remembers the answer for a while; a storage that cannot tell (a stock storage,
/// unreachable) gets <see cref="FallbackPort"/>. Used by the tracker's HTTP gateway and by storages
/// redirecting to a peer.
/// </summary>
public sealed class StorageHttpPorts
{
    private static readonly TimeSpan KnownLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FallbackLifetime = TimeSpan.FromSeconds(5);
    private const int MaxRemembered = 1024;
    private readonly ConcurrentDictionary<(string Ip, int Port), (int HttpPort, DateTime Until)> _cache = new();
    private readonly FastDfsClientOptions _options;

    public StorageHttpPorts(int fallbackPort, TimeSpan? timeout = null)
    {
        FallbackPort = fallbackPort;
        var limit = timeout ?? TimeSpan.FromSeconds(3);
        _options = FastDfsClientOptions.Default with { ConnectTimeout = limit, NetworkTimeout = limit, UseConnectionPool = false };
    }

    /// <summary>The port assumed for a storage that does not tell its own.</summary>
    public int FallbackPort { get; set; }

    /// <summary>The storage's HTTP port, 0 if it serves no HTTP, <see cref="FallbackPort"/> if it cannot tell.</summary>
    public async ValueTask<int> GetAsync(string ip, int storagePort, CancellationToken ct = default)
    {
        var key = (ip, storagePort);
        var now = DateTime.UtcNow;
        if (_cache.TryGetValue(key, out var known) && known.Until > now)
        {
            return known.HttpPort;
        }

        int port;
        TimeSpan lifetime;
        try
        {
            await using var storage = new StorageClient(new FastDfsEndpoint(ip, storagePort), _options);
            port = await storage.QueryHttpPortAsync(ct).ConfigureAwait(false);
            lifetime = KnownLifetime;
        }
        catch (FastDfsException)
        {
            port = FallbackPort;
            lifetime = FallbackLifetime;
        }

        if (_cache.Count >= MaxRemembered)
        {
            // Expired answers are only ever overwritten: drop them before the map outgrows the cluster.
            foreach (var entry in _cache)
            {
                if (entry.Value.Until <= now)
                {
                    _cache.TryRemove(entry);
                }
            }
        }

        _cache[key] = (port, now + lifetime);
        return port;
    }
}
