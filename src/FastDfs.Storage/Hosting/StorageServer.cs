using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.Storage.Session;
using FastDfs.Storage.Tracking;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.Storage.Hosting;

/// <summary>
/// The FastDFS storage server as a library: the client protocol on Kestrel's connection pipeline, the
/// on-disk layout and binlog, and one report loop per configured tracker. Tests and the <c>fdfs</c> CLI
/// host it in-process; <see cref="StorageHostingExtensions"/> runs it under the Generic Host.
/// </summary>
public sealed class StorageServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly StorageContext _ctx;
    private readonly List<Task> _background = [];
    private CancellationTokenSource? _stopping;
    private readonly CancellationTokenSource _abandon = new();
    private IHost? _host;
    private ListenOptions? _listen;
    private Http.StorageHttpServer? _http;
    private int _state; // 0 new, 1 started, 2 stopped

    public StorageServer(StorageConfig config, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<StorageServer>();
        _ctx = new StorageContext(config, _loggerFactory);
    }

    public StorageConfig Config => _ctx.Config;

    /// <summary>The bound endpoint (the real port when the configured port is 0). Valid after <see cref="StartAsync"/>.</summary>
    public IPEndPoint EndPoint => _listen?.IPEndPoint ?? throw new InvalidOperationException("the storage server is not started");

    /// <summary>The bound HTTP endpoint, or null when HTTP is off (<c>http.server_port</c>, <see cref="HttpConfig.Enabled"/>).</summary>
    public IPEndPoint? HttpEndPoint => _http?.EndPoint;

    internal StorageContext Context => _ctx;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("a storage server starts once");
        }

        var config = _ctx.Config;
        var address = string.IsNullOrEmpty(config.BindAddr) ? IPAddress.Any : IPAddress.Parse(config.BindAddr);
        _stopping = new CancellationTokenSource();
        _ctx.Initialize();
        _http = Http.StorageHttpServer.CreateIfEnabled(_ctx, _loggerFactory);
        _ctx.Metrics = _http?.Metrics;

        // Kestrel through the Generic Host: only that wiring gives its transport the pooled memory
        // (a bare KestrelServer allocates a fresh buffer for every socket read).
        _host = new HostBuilder()
            .ConfigureServices(services =>
            {
                services.AddSingleton(_loggerFactory);
                services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
                _http?.AddServices(services);
            })
            .ConfigureWebHost(web => web
                .UseSockets(ConfigureTransport)
                .UseKestrel(options =>
                {
                    options.AddServerHeader = false;
                    options.Limits.MaxConcurrentConnections = config.MaxConnections > 0 ? config.MaxConnections : null;
                    options.Listen(address, config.Port, listen =>
                    {
                        _listen = listen;
                        listen.Use(_ => connection => HandleConnectionAsync(connection));
                    });
                    _http?.Listen(options, address);
                })
                .Configure(app => _http?.Configure(app)))
            .Build();
        await _host.StartAsync(cancellationToken).ConfigureAwait(false);
        _ctx.Port = EndPoint.Port;
        _http?.OnStarted();
        _logger.LogInformation("storage {Group} listening on {EndPoint}, base path {BasePath}", _ctx.GroupName, EndPoint, config.BasePath);

        var coordinator = new ReporterCoordinator(Math.Min(config.TrackerServers.Count, Protocol.ProtocolConstants.MaxTrackers));
        for (int i = 0; i < config.TrackerServers.Count && i < Protocol.ProtocolConstants.MaxTrackers; i++)
        {
            var reporter = new TrackerReporter(_ctx, config.TrackerServers[i], i, coordinator, _loggerFactory.CreateLogger<TrackerReporter>());
            _background.Add(Task.Run(() => reporter.RunAsync(_stopping.Token)));
        }

        _background.Add(Task.Run(() => PeriodicFlushAsync(_stopping.Token)));
        _background.Add(Task.Run(() => _ctx.Replication.RunAsync(_stopping.Token, _abandon.Token)));
        _background.Add(Task.Run(() => new Trunk.TrunkBinlogPusher(_ctx, _loggerFactory.CreateLogger<Trunk.TrunkBinlogPusher>()).RunAsync(_stopping.Token)));
    }

    /// <summary>
    /// Socket transport settings for the request/response protocol: continuations run on the thread that
    /// completed the socket operation (no hop through Kestrel's I/O queues per read: the handlers never
    /// block on the network, only on local file I/O, as the pool thread would), and a connection buffers
    /// at most 512 KB of unread input (uploads write in batches of 256 KB straight from the pipe).
    /// </summary>
    private static void ConfigureTransport(Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions options)
    {
        options.UnsafePreferInlineScheduling = true;
        options.MaxReadBufferSize = 512 * 1024;
    }

    /// <summary>
    /// Stops like a killed process (tests): connections are dropped, no final binlog fsync, mark or stat
    /// write. Records already handed to the OS survive, as they would a kill -9.
    /// </summary>
    internal async Task KillAsync()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        // Connections first: nothing may be acknowledged once the binlog stops taking records.
        await _abandon.CancelAsync().ConfigureAwait(false);
        await _stopping!.CancelAsync().ConfigureAwait(false);
        if (_host is not null)
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync().ConfigureAwait(false);
            try
            {
                await _host.StopAsync(now.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Connections aborted.
            }
        }

        _ctx.Binlog.Abandon();
        await Task.WhenAll(_background).ConfigureAwait(false);
        _logger.LogInformation("storage {Group} killed", _ctx.GroupName);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        _stopping!.Cancel();
        if (_host is not null)
        {
            await _host.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(_background).ConfigureAwait(false);
        FlushState(forceStats: true);
        _ctx.Dispose();
        _logger.LogInformation("storage {Group} stopped", _ctx.GroupName);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _host?.Dispose();
        _http?.Dispose();

        _stopping?.Dispose();
        _abandon.Dispose();
    }

    /// <summary>Writes the buffered binlog and changed stats now (tests; the timers do it otherwise).</summary>
    internal void FlushState(bool forceStats = false)
    {
        _ctx.Binlog.Flush();
        _ctx.SaveStats(forceStats);
    }

    private async Task HandleConnectionAsync(ConnectionContext connection)
    {
        _ctx.ConnectionOpened();
        var session = new StorageSession(_ctx, connection.Transport, _loggerFactory.CreateLogger<StorageSession>(), connection.ConnectionClosed)
        {
            RemoteAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address,
        };
        // Stopping ends connections that wait for their next request (peers' sync connections stay open
        // otherwise and would hold the host's shutdown); a request in progress still completes.
        using var idleEnd = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, _stopping!.Token);
        try
        {
            await session.RunAsync(idleEnd.Token).ConfigureAwait(false);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
            _ctx.ConnectionClosed();
        }
    }

    /// <summary>The binlog every sync_binlog_buff_interval and storage_stat.dat every sync_stat_file_interval.</summary>
    private async Task PeriodicFlushAsync(CancellationToken stop)
    {
        int binlogInterval = _ctx.Config.SyncBinlogBuffInterval > 0 ? _ctx.Config.SyncBinlogBuffInterval : 60;
        int statInterval = _ctx.Config.SyncStatFileInterval > 0 ? _ctx.Config.SyncStatFileInterval : 60;
        long lastBinlog = StorageContext.Now, lastStat = StorageContext.Now;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = StorageContext.Now;
                if (now - lastBinlog >= binlogInterval)
                {
                    _ctx.Binlog.Flush();
                    lastBinlog = now;
                }

                if (now - lastStat >= statInterval)
                {
                    _ctx.SaveStats(force: false);
                    lastStat = now;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: StopAsync flushes both.
        }
        catch (IOException e)
        {
            _logger.LogError(e, "writing storage state failed");
        }
    }

    /// <summary>The server lives inside another process (tests, the CLI): it does not own Ctrl+C or SIGTERM.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
