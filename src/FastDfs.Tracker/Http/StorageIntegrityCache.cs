using System.Collections.Concurrent;
using FastDfs.Client;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Http;

/// <summary>
/// The storages' integrity reports for the dashboard: asked of each storage (INTEGRITY_STATUS, a FastDFS.NET command)
/// in the background when the dashboard wants them and the last answer is older than a few seconds, so a page load
/// never waits for a storage. A stock storage (which refuses the command) or one that does not answer has none.
/// </summary>
internal sealed class StorageIntegrityCache(Func<FastDfsClient> client, TimeProvider clock)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

    /// <summary>A storage that refused the command (stock: EINVAL, which it logs; or not allowed: EPERM) is asked again only after this.</summary>
    private static readonly TimeSpan RefusedAge = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<(string Ip, int Port), Entry> _entries = new();

    private sealed class Entry
    {
        public IntegrityStatus? Status;
        public DateTimeOffset Fetched = DateTimeOffset.MinValue;
        public int Refreshing;
        public bool Refused;
    }

    /// <summary>The last report of the storage at <paramref name="ip"/>:<paramref name="port"/>, refreshed in the background when old.</summary>
    public IntegrityStatus? Get(string ip, int port)
    {
        var entry = _entries.GetOrAdd((ip, port), _ => new Entry());
        if (clock.GetUtcNow() - entry.Fetched > (entry.Refused ? RefusedAge : MaxAge) && Interlocked.Exchange(ref entry.Refreshing, 1) == 0)
        {
            _ = RefreshAsync(ip, port, entry);
        }

        return entry.Status;
    }

    private async Task RefreshAsync(string ip, int port, Entry entry)
    {
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            entry.Status = await client().GetStorage(new StorageEndpoint(ip, port)).QueryIntegrityAsync(timeout.Token).ConfigureAwait(false);
            entry.Refused = false;
        }
        catch (FastDfsException e) when (e.ErrorCode is FastDfs.Protocol.Errno.EINVAL or FastDfs.Protocol.Errno.EPERM)
        {
            entry.Status = null;
            entry.Refused = true;
        }
        catch (Exception e) when (e is FastDfsException or OperationCanceledException or InvalidOperationException or IOException)
        {
            entry.Status = null;
        }
        finally
        {
            entry.Fetched = clock.GetUtcNow();
            Volatile.Write(ref entry.Refreshing, 0);
        }
    }
}
