using System.Collections.Concurrent;

namespace FastDfs.Client.Connections;

/// <summary>
/// Connections to one server. Idle connections are reused (LIFO) unless pooling is off, they idled longer
/// than the max idle time, the peer closed them, or they are broken. Thread-safe.
/// </summary>
public sealed class ConnectionPool : IDisposable
{
    private readonly ConcurrentStack<FastDfsConnection> _idle = new();
    private readonly SemaphoreSlim? _slots;
    private readonly FastDfsClientOptions _options;
    private long _opened;
    private volatile bool _disposed;

    public ConnectionPool(FastDfsEndpoint endpoint, FastDfsClientOptions options)
    {
        Endpoint = endpoint;
        _options = options;
        if (options.MaxConnectionsPerEndpoint > 0)
        {
            _slots = new SemaphoreSlim(options.MaxConnectionsPerEndpoint, options.MaxConnectionsPerEndpoint);
        }
    }

    public FastDfsEndpoint Endpoint { get; }

    /// <summary>Number of TCP connections this pool has opened so far.</summary>
    public long OpenedCount => Interlocked.Read(ref _opened);

    /// <summary>Number of idle connections currently kept.</summary>
    public int IdleCount => _idle.Count;

    /// <summary>Takes an idle connection or opens a new one. Give it back with <see cref="Return"/>.</summary>
    public async ValueTask<FastDfsConnection> RentAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_slots != null)
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
        }

        try
        {
            long maxIdleMs = (long)_options.ConnectionPoolMaxIdleTime.TotalMilliseconds;
            while (_idle.TryPop(out var idle))
            {
                if (!idle.IsBroken && Environment.TickCount64 - idle.LastUsed <= maxIdleMs && !idle.LooksClosedByPeer())
                {
                    return idle;
                }

                idle.Dispose();
            }

            var connection = await FastDfsConnection.ConnectAsync(Endpoint, _options, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _opened);
            return connection;
        }
        catch
        {
            _slots?.Release();
            throw;
        }
    }

    /// <summary>Returns a rented connection: kept for reuse when healthy and pooling is on, else closed.</summary>
    public void Return(FastDfsConnection connection)
    {
        if (connection.IsBroken || !_options.UseConnectionPool || _disposed)
        {
            connection.Dispose();
        }
        else
        {
            connection.LastUsed = Environment.TickCount64;
            _idle.Push(connection);
            if (_disposed && _idle.TryPop(out var late))
            {
                late.Dispose();
            }
        }

        _slots?.Release();
    }

    /// <summary>Runs one exchange on a rented connection and returns the connection.</summary>
    public async ValueTask<T> ExecuteAsync<T>(Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, CancellationToken ct)
    {
        var connection = await RentAsync(ct).ConfigureAwait(false);
        try
        {
            return await connection.RunAsync(exchange, ct).ConfigureAwait(false);
        }
        finally
        {
            Return(connection);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var connection))
        {
            connection.Dispose();
        }
    }
}

/// <summary>One <see cref="ConnectionPool"/> per server endpoint, shared by tracker and storage clients.</summary>
public sealed class ConnectionPoolSet(FastDfsClientOptions options) : IDisposable, IAsyncDisposable
{
    private readonly ConcurrentDictionary<FastDfsEndpoint, ConnectionPool> _pools = new();

    public FastDfsClientOptions Options { get; } = options;

    public ConnectionPool GetPool(FastDfsEndpoint endpoint) => _pools.GetOrAdd(endpoint, static (ep, o) => new ConnectionPool(ep, o), Options);

    /// <summary>Pools created so far (for monitoring and tests).</summary>
    public IReadOnlyCollection<ConnectionPool> Pools => (IReadOnlyCollection<ConnectionPool>)_pools.Values;

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            pool.Dispose();
        }

        _pools.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
