using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Transport;
using FastDfs.Storage.Session;
using FastDfs.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.Storage.Hosting;

/// <summary>
/// The FastDFS storage server as a library: the client protocol on the storage's own socket listener
/// (<see cref="SocketListener"/>: pipes straight on the socket, downloads with <c>sendfile</c>), the
/// on-disk layout and binlog, and one report loop per configured tracker. Kestrel runs only the optional
/// HTTP port. Tests and the <c>fdfs</c> CLI
/// host it in-process; <see cref="StorageHostingExtensions"/> runs it under the Generic Host.
/// </summary>
public sealed class StorageServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private StorageConfig _config;
    private readonly TimeProvider _clock;

    /// <summary>The composed storage: built by <see cref="StartAsync"/> (it opens the disk state), null before.</summary>
    private StorageContext? _ctx;
    private readonly List<Task> _background = [];
    private CancellationTokenSource? _stopping;
    private readonly CancellationTokenSource _abandon = new();
    private IHost? _host;
    private SocketListener? _listener;
    private Http.StorageHttpServer? _http;
    private int _state; // 0 new, 1 started, 2 stopped
    private DateTime _startedUtc;

    /// <param name="timeProvider">The server's clock (<see cref="TimeProvider.System"/> when null; tests pass a fake one).</param>
    public StorageServer(StorageConfig config, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.GroupName is null && !config.SpareStorage)
        {
            throw new ArgumentException("storage config has no group_name", nameof(config));
        }

        _config = config;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<StorageServer>();
        _clock = timeProvider ?? TimeProvider.System;
    }

    public StorageConfig Config => _config;

    /// <summary>The bound endpoint (the real port when the configured port is 0). Valid after <see cref="StartAsync"/>.</summary>
    public IPEndPoint EndPoint => _listener?.EndPoint ?? throw new InvalidOperationException("the storage server is not started");

    /// <summary>The bound HTTP endpoint, or null when HTTP is off (<c>http.server_port</c>, <see cref="HttpConfig.Enabled"/>).</summary>
    public IPEndPoint? HttpEndPoint => _http?.EndPoint;

    /// <summary>The composed storage (tests). Valid after <see cref="StartAsync"/>.</summary>
    internal StorageContext Context => _ctx ?? throw new InvalidOperationException("the storage server is not started");

    /// <summary>
    /// The composition root: opens the disk state, builds the components on it (each gets only what it uses) and joins
    /// them in the <see cref="StorageContext"/> the sessions, reporters and HTTP port share.
    /// </summary>
    private static StorageContext Compose(StorageConfig config, ILoggerFactory loggerFactory, TimeProvider clock)
    {
        var state = StorageState.Open(config, loggerFactory, clock);
        try
        {
            var trunk = new Trunk.TrunkStore(state, new Trunk.TrunkFileStore(state.Paths));
            var replication = new Sync.ReplicationManager(state, trunk, loggerFactory);
            state.Binlog.Appended += replication.Pulse;
            var scrubber = new Integrity.Scrubber(state, trunk, loggerFactory.CreateLogger<Integrity.Scrubber>());
            var antiEntropy = new Integrity.AntiEntropy(state, replication, trunk, loggerFactory.CreateLogger<Integrity.AntiEntropy>());
            return new StorageContext(state, trunk, replication, scrubber, antiEntropy, Logging.StorageAccessLog.CreateIfEnabled(config, clock));
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>What the disk recoveries of this start did (empty when no store path had lost its data).</summary>
    internal IReadOnlyList<Recovery.DiskRecovery.Result> Recoveries { get; private set; } = [];

    private async Task RecoverLostPathsAsync(StorageContext ctx, CancellationToken cancellationToken)
    {
        var lost = ctx.State.PathsToRecover();
        if (lost.Count == 0)
        {
            return;
        }

        var recovery = new Recovery.DiskRecovery(ctx.State, _loggerFactory.CreateLogger<Recovery.DiskRecovery>());
        var results = new List<Recovery.DiskRecovery.Result>();
        try
        {
            foreach (int index in lost)
            {
                results.Add(await recovery.RecoverAsync(index, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            // Stopped (or failed) half-way: the recovery files say where, and the next start resumes; nothing stays open.
            _ctx = null;
            ctx.Dispose();
            throw;
        }

        Recoveries = results;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("a storage server starts once");
        }

        _stopping = new CancellationTokenSource();
        if (_config.SpareStorage)
        {
            // A spare has no group until the trackers give it a place: it waits here, serving nothing.
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            _config = await new Recovery.SpareStorageWait(_config, _clock, _loggerFactory.CreateLogger<Recovery.SpareStorageWait>())
                .ResolveAsync(waiting.Token).ConfigureAwait(false);
            // Stopped just as the place came: start nothing (the place is recorded; the next start joins the group).
            _stopping.Token.ThrowIfCancellationRequested();
        }

        var config = _config;
        var address = string.IsNullOrEmpty(config.BindAddr) ? IPAddress.Any : IPAddress.Parse(config.BindAddr);
        // A file older than this start cannot be an upload in progress (the leftover sweep's rule); the file
        // system's clock granularity is covered by the second subtracted. Compared with file times the OS wrote: the
        // real clock, whatever clock the server runs on.
        _startedUtc = DateTime.UtcNow.AddSeconds(-1);
        var ctx = _ctx = Compose(config, _loggerFactory, _clock);
        ReserveDiskThreads(ctx.Paths);
        // A store path whose disk was replaced is filled again from a peer before anything is served or reported (stock's
        // order): the trackers see this storage in RECOVERY meanwhile, and it joins only once every path is whole.
        await RecoverLostPathsAsync(ctx, cancellationToken).ConfigureAwait(false);
        _http = Http.StorageHttpServer.CreateIfEnabled(ctx, _loggerFactory);
        ctx.Metrics = _http?.Metrics;

        var listenerLogger = _loggerFactory.CreateLogger<SocketListener>();
        var allow = AllowHosts.Build(config.AllowHosts, listenerLogger);
        _listener = await SocketListener.BindAsync(new IPEndPoint(address, config.Port), "storage", config.MaxConnections, HandleConnectionAsync,
            listenerLogger, cancellationToken, allow).ConfigureAwait(false);
        if (_http is not null)
        {
            // A port still held by a previous run is waited for, as the storage port is.
            await PortBinding.WaitUntilFreeAsync(new IPEndPoint(address, config.HttpServerPort), "storage HTTP", listenerLogger, cancellationToken)
                .ConfigureAwait(false);
            // Kestrel through the Generic Host for the HTTP port only: that wiring gives its transport the
            // pooled memory (a bare KestrelServer allocates a fresh buffer for every socket read).
            _host = new HostBuilder()
                .ConfigureServices(services =>
                {
                    services.AddSingleton(_loggerFactory);
                    services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
                    _http.AddServices(services);
                })
                .ConfigureWebHost(web => web
                    .UseKestrel(options =>
                    {
                        options.AddServerHeader = false;
                        _http.Listen(options, address);
                    })
                    .Configure(app => _http.Configure(app)))
                .Build();
            await _host.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        _listener.Start();
        ctx.Port = EndPoint.Port;
        _http?.OnStarted();
        _logger.LogInformation("storage {Group} listening on {EndPoint}, base path {BasePath}", ctx.GroupName, EndPoint, config.BasePath);
        foreach (string ignored in config.NotActedOn)
        {
            _logger.LogWarning("storage.conf: {Setting}", ignored);
        }

        var coordinator = new ReporterCoordinator(Math.Min(config.TrackerServers.Count, Protocol.ProtocolConstants.MaxTrackers));
        for (int i = 0; i < config.TrackerServers.Count && i < Protocol.ProtocolConstants.MaxTrackers; i++)
        {
            var reporter = new TrackerReporter(ctx, config.TrackerServers[i], i, coordinator, _loggerFactory.CreateLogger<TrackerReporter>());
            _background.Add(Task.Run(() => reporter.RunAsync(_stopping.Token)));
        }

        _background.Add(Task.Run(() => PeriodicFlushAsync(ctx, _stopping.Token)));
        if (config.StorePathCheckInterval > 0)
        {
            var interval = TimeSpan.FromSeconds(config.StorePathCheckInterval);
            _background.Add(Task.Run(() => ctx.PathHealth.RunAsync(interval, _stopping.Token)));
            if (config.SpareStorePaths.Count > 0)
            {
                var spares = new Recovery.SpareTakeover(ctx.State,
                    new Recovery.DiskRecovery(ctx.State, _loggerFactory.CreateLogger<Recovery.DiskRecovery>()),
                    _loggerFactory.CreateLogger<Recovery.SpareTakeover>());
                _background.Add(Task.Run(() => spares.RunAsync(interval, _stopping.Token)));
            }
        }

        if (config.DiskSlowThreshold > 0)
        {
            var threshold = TimeSpan.FromSeconds(config.DiskSlowThreshold);
            _background.Add(Task.Run(() => ctx.PathHealth.WatchSlowDisksAsync(threshold, _stopping.Token)));
        }

        _background.Add(Task.Run(() => SweepLeftoversAsync(ctx, _stopping.Token)));
        _background.Add(Task.Run(() => ctx.Scrubber.RunAsync(_stopping.Token)));
        _background.Add(Task.Run(() => ctx.AntiEntropy.RunAsync(_stopping.Token)));
        _background.Add(Task.Run(() => ctx.Replication.RunAsync(_stopping.Token, _abandon.Token)));
        _background.Add(Task.Run(() => new Trunk.TrunkBinlogPusher(ctx, _loggerFactory.CreateLogger<Trunk.TrunkBinlogPusher>()).RunAsync(_stopping.Token)));
    }

    /// <summary>
    /// With several store paths, requests wait for a disk on thread-pool threads, at most <see cref="Store.DiskGate.Limit"/> per
    /// path: the pool starts that many without its usual slow growth, so a hanging disk cannot starve the others' requests.
    /// </summary>
    private static void ReserveDiskThreads(Store.StorePathSet paths)
    {
        if (paths.Count < 2)
        {
            return;
        }

        ThreadPool.GetMinThreads(out int workers, out int io);
        int wanted = Environment.ProcessorCount + paths.All.Sum(p => p.Gate.Limit);
        if (wanted > workers)
        {
            ThreadPool.SetMinThreads(wanted, io);
        }
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
        if (_listener is not null)
        {
            await _listener.AbortAsync().ConfigureAwait(false);
        }

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

        _ctx?.Binlog.Abandon();
        await Task.WhenAll(_background).ConfigureAwait(false);
        _logger.LogInformation("storage {Group} killed", _config.GroupName);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        _stopping!.Cancel();
        if (_listener is not null)
        {
            await _listener.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_host is not null)
        {
            await _host.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(_background).ConfigureAwait(false);
        if (_ctx is { } ctx)
        {
            try
            {
                FlushState(forceStats: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "writing the storage state on stop failed");
            }

            ctx.Dispose();
        }

        _logger.LogInformation("storage {Group} stopped", _config.GroupName);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _host?.Dispose();
        _http?.Dispose();
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        _stopping?.Dispose();
        _abandon.Dispose();
    }

    /// <summary>Writes the buffered binlog and changed stats now (tests; the timers do it otherwise).</summary>
    internal void FlushState(bool forceStats = false)
    {
        Context.Binlog.Flush();
        Context.SaveStats(forceStats);
    }

    private Task HandleConnectionAsync(SocketConnection connection) => ServeAsync(connection);

    /// <summary>Serves one connection until the peer leaves, it is aborted, or the server stops while it idles (tests: in memory).</summary>
    internal async Task ServeAsync(IFrameTransport connection)
    {
        var ctx = Context;
        ctx.ConnectionOpened();
        var session = new StorageSession(ctx, connection, _loggerFactory.CreateLogger<StorageSession>())
        {
            RemoteAddress = connection.RemoteEndPoint?.Address,
        };
        try
        {
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
            ctx.ConnectionClosed();
        }
    }

    /// <summary>
    /// The binlog every sync_binlog_buff_interval and storage_stat.dat every sync_stat_file_interval. A failure (a full
    /// or failing disk) is logged and tried again at the next interval: this loop never ends before the server stops.
    /// </summary>
    private async Task PeriodicFlushAsync(StorageContext ctx, CancellationToken stop)
    {
        int binlogInterval = _config.SyncBinlogBuffInterval > 0 ? _config.SyncBinlogBuffInterval : 60;
        int statInterval = _config.SyncStatFileInterval > 0 ? _config.SyncStatFileInterval : 60;
        long lastBinlog = ctx.Now, lastStat = ctx.Now;
        bool statFailing = false;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), ctx.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = ctx.Now;
                if (now - lastBinlog >= binlogInterval)
                {
                    // Logs its own failures and keeps the records for the next attempt.
                    ctx.Binlog.Flush();
                    lastBinlog = now;
                }

                if (now - lastStat >= statInterval)
                {
                    lastStat = now;
                    try
                    {
                        ctx.SaveStats(force: false);
                        if (statFailing)
                        {
                            _logger.LogInformation("{File} written again", Store.StorageStatFile.FileName);
                            statFailing = false;
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        if (!statFailing)
                        {
                            _logger.LogError(e, "writing {File} failed; retrying every {Seconds}s", Store.StorageStatFile.FileName, statInterval);
                            statFailing = true;
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: StopAsync flushes both.
        }
    }

    private async Task SweepLeftoversAsync(StorageContext ctx, CancellationToken stop)
    {
        try
        {
            LeftoverSweepCompleted = await Store.LeftoverSweeper.SweepAsync(ctx.Paths, _startedUtc, _logger, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the next start sweeps again.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "sweeping leftover temporary files failed");
        }
    }

    /// <summary>How many leftover temporary files the sweep after start removed; null until it is done (tests).</summary>
    internal int? LeftoverSweepCompleted { get; private set; }

    /// <summary>The server lives inside another process (tests, the CLI): it does not own Ctrl+C or SIGTERM.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
