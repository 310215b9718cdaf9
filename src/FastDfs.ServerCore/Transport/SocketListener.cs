using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Transport;

/// <summary>
/// The FastDFS ports' own accept loop (storage and tracker): one <see cref="SocketConnection"/> per client, at
/// most <c>max_connections</c> at once (further clients are accepted and closed at once, as stock does). The
/// server owns the socket, so that a storage download can use <c>sendfile</c>
/// (<see cref="SocketConnection.SendFileAsync"/>) and a request is served without the thread hops of a
/// general-purpose transport (docs/benchmarks.md).
/// </summary>
public sealed class SocketListener : IAsyncDisposable
{
    private const int Backlog = 512;

    private readonly Func<SocketConnection, Task> _handler;
    private readonly int _maxConnections;
    private readonly ILogger _logger;
    private readonly Socket _listenSocket;
    private readonly ConcurrentDictionary<SocketConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopAccepting = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _active;
    private readonly Protocol.Config.HostAllowList _allow;
    private readonly Dictionary<IPAddress, long> _refusalsLogged = [];

    private SocketListener(Socket boundSocket, int maxConnections, Func<SocketConnection, Task> handler, ILogger logger, Protocol.Config.HostAllowList? allow)
    {
        _allow = allow ?? Protocol.Config.HostAllowList.Everyone;
        _handler = handler;
        _maxConnections = maxConnections > 0 ? maxConnections : int.MaxValue;
        _logger = logger;
        _listenSocket = boundSocket;
        try
        {
            _listenSocket.Listen(Backlog);
        }
        catch
        {
            _listenSocket.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_listenSocket.LocalEndPoint!;
    }

    /// <summary>
    /// Binds <paramref name="endPoint"/> (waiting while the port is still in use, see <see cref="PortBinding"/>) and
    /// listens; <see cref="Start"/> then accepts.
    /// </summary>
    /// <param name="allow">who may connect (<c>allow_hosts</c>); others are disconnected at accept, nothing sent, as stock does.</param>
    public static async Task<SocketListener> BindAsync(IPEndPoint endPoint, string what, int maxConnections, Func<SocketConnection, Task> handler,
        ILogger logger, CancellationToken cancellationToken, Protocol.Config.HostAllowList? allow = null)
    {
        var socket = await PortBinding.BindAsync(endPoint, what, logger, cancellationToken).ConfigureAwait(false);
        return new SocketListener(socket, maxConnections, handler, logger, allow);
    }

    public IPEndPoint EndPoint { get; }

    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync);

    private async Task AcceptLoopAsync()
    {
        var stop = _stopAccepting.Token;
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors or a connection reset before accept: keep serving the others.
                _logger.LogWarning("accept failed: {Error}", e.SocketErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(50), stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            if (!_allow.AllowsEveryone && !IsAllowed(socket))
            {
                socket.Dispose();
                continue;
            }

            if (Interlocked.Increment(ref _active) > _maxConnections)
            {
                Interlocked.Decrement(ref _active);
                _logger.LogWarning("refusing {Remote}: max_connections ({Max}) reached", socket.RemoteEndPoint, _maxConnections);
                socket.Dispose();
                continue;
            }

            SocketConnection connection;
            try
            {
                connection = new SocketConnection(socket, stop);
            }
            catch (SocketException)
            {
                // Reset between accept and setup.
                Interlocked.Decrement(ref _active);
                socket.Dispose();
                continue;
            }

            var run = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[connection] = run.Task;
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Listener.RunConnectionAsync(state.Connection, state.Done), (Listener: this, Connection: connection, Done: run), preferLocal: false);
        }
    }

    /// <summary>allow_hosts at accept; a refused address is logged once a minute at most (a scanner must not flood the log).</summary>
    private bool IsAllowed(Socket socket)
    {
        if (socket.RemoteEndPoint is not IPEndPoint remote)
        {
            return false;
        }

        if (_allow.Allows(remote.Address))
        {
            return true;
        }

        long now = Environment.TickCount64;
        var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        lock (_refusalsLogged)
        {
            if (_refusalsLogged.Count > 1024)
            {
                _refusalsLogged.Clear();
            }

            if (!_refusalsLogged.TryGetValue(address, out long last) || now - last > 60_000)
            {
                _refusalsLogged[address] = now;
                _logger.LogWarning("refusing {Remote}: not in allow_hosts", address);
            }
        }

        return false;
    }

    private async Task RunConnectionAsync(SocketConnection connection, TaskCompletionSource done)
    {
        try
        {
            await _handler(connection).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "connection from {Remote} failed", connection.RemoteEndPoint);
        }
        finally
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogDebug("closing connection from {Remote}: {Message}", connection.RemoteEndPoint, e.Message);
            }

            _connections.TryRemove(connection, out _);
            Interlocked.Decrement(ref _active);
            done.SetResult();
        }
    }

    /// <summary>
    /// Stops accepting, which ends the connections waiting for their next request (<see cref="SocketConnection.IdleEnd"/>),
    /// then waits for the others to finish their request; when <paramref name="cancellationToken"/> fires first, aborts
    /// those left.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        var open = _connections.Values.ToArray();
        try
        {
            await Task.WhenAll(open).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            AbortAll();
            await Task.WhenAll(_connections.Values.ToArray()).ConfigureAwait(false);
        }
    }

    /// <summary>Stops accepting and drops every connection at once (a simulated kill).</summary>
    public async Task AbortAsync()
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        AbortAll();
        await Task.WhenAll(_connections.Values.ToArray()).ConfigureAwait(false);
    }

    private void AbortAll()
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
    }

    private async Task StopAcceptingAsync()
    {
        if (!_stopAccepting.IsCancellationRequested)
        {
            await _stopAccepting.CancelAsync().ConfigureAwait(false);
            _listenSocket.Dispose();
        }

        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await AbortAsync().ConfigureAwait(false);
        _stopAccepting.Dispose();
    }
}
