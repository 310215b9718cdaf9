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
    public ValueTask<FastDfsConnection> RentAsync(CancellationToken ct) => RentAsync(fresh: false, ct);

    /// <summary>Takes an idle connection (unless <paramref name="fresh"/>) or opens a new one.</summary>
    internal async ValueTask<FastDfsConnection> RentAsync(bool fresh, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_slots != null)
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
        }

        try
        {
            long maxIdleMs = (long)_options.ConnectionPoolMaxIdleTime.TotalMilliseconds;
            while (!fresh && _idle.TryPop(out var idle))
            {
                if (!idle.IsBroken && Environment.TickCount64 - idle.LastUsed <= maxIdleMs && !idle.LooksClosedByPeer())
                {
                    idle.FromPool = true;
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

    /// <summary>Runs one exchange on a rented connection and returns the connection (no retry).</summary>
    public ValueTask<T> ExecuteAsync<T>(Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, CancellationToken ct) =>
        ExecuteAsync(exchange, RetryPolicy.None, ct);

    /// <summary>
    /// Runs one exchange on a rented connection and returns the connection. When the connection came from the
    /// idle pool and fails as a connection the peer had already closed would (reset, or closed before any reply
    /// header; not a timeout), the exchange runs once more on a newly opened connection if
    /// <paramref name="retry"/> allows it: <see cref="RetryPolicy.Idempotent"/> always,
    /// <see cref="RetryPolicy.IfNothingSent"/> only when no request byte reached the socket. A streamed
    /// <paramref name="content"/> that was partly read is rewound first, or the failure stands when it cannot seek.
    /// </summary>
    public ValueTask<T> ExecuteAsync<T>(
        Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, RetryPolicy retry, CancellationToken ct, Stream? content = null) =>
        ClientTelemetry.Source.HasListeners() ? TracedExchangeAsync(exchange, retry, ct, content) : ExchangeWithRetryAsync(exchange, retry, ct, content);

    /// <summary>The exchange inside a span of its own (only when someone listens: no extra state machine otherwise).</summary>
    private async ValueTask<T> TracedExchangeAsync<T>(
        Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, RetryPolicy retry, CancellationToken ct, Stream? content)
    {
        using var span = ClientTelemetry.StartExchange(Endpoint);
        try
        {
            return await ExchangeWithRetryAsync(exchange, retry, ct, content).ConfigureAwait(false);
        }
        catch (Exception e) when (span is not null)
        {
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private async ValueTask<T> ExchangeWithRetryAsync<T>(
        Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, RetryPolicy retry, CancellationToken ct, Stream? content)
    {
        var connection = await RentAsync(fresh: false, ct).ConfigureAwait(false);
        try
        {
            return await connection.RunAsync(exchange, ct).ConfigureAwait(false);
        }
        catch (FastDfsConnectionException ex) when (IsStaleFailure(connection, ex, retry, content, ct))
        {
            if (connection.ContentRead > 0)
            {
                content!.Seek(-connection.ContentRead, SeekOrigin.Current);
            }
        }
        finally
        {
            Return(connection);
        }

        // The peer had closed the pooled connection: once more on a new one (its failure is final).
        var fresh = await RentAsync(fresh: true, ct).ConfigureAwait(false);
        try
        {
            return await fresh.RunAsync(exchange, ct).ConfigureAwait(false);
        }
        finally
        {
            Return(fresh);
        }
    }

    /// <summary>Whether a failed exchange looks like a stale pooled connection that <paramref name="retry"/> lets us retry.</summary>
    internal static bool IsStaleFailure(FastDfsConnection connection, FastDfsConnectionException failure, RetryPolicy retry, Stream? content, CancellationToken ct) =>
        connection.FromPool && !failure.IsTimeout && !ct.IsCancellationRequested && !connection.ReplyStarted && retry switch
        {
            RetryPolicy.Idempotent => true,
            RetryPolicy.IfNothingSent => !connection.RequestFlushed && (connection.ContentRead == 0 || content is { CanSeek: true }),
            _ => false,
        };

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var connection))
        {
            connection.Dispose();
        }
    }
}

/// <summary>When an operation that failed on a stale pooled connection may run again on a new connection.</summary>
public enum RetryPolicy
{
    /// <summary>Never retry.</summary>
    None,

    /// <summary>Reads and queries: running them twice is harmless, so retry whenever no reply had started.</summary>
    Idempotent,

    /// <summary>Writes: retry only when no request byte was handed to the socket (the server cannot have seen it).</summary>
    IfNothingSent,
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
