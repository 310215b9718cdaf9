using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Time;
using FastDfs.ServerCore.Transport;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using FastDfs.Tracker.Peers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker;

/// <summary>
/// A FastDFS tracker: its port on the shared socket transport (<see cref="SocketListener"/>), the optional HTTP port
/// on Kestrel. Usable in-process by tests
/// and by the <c>fdfs</c> CLI; <see cref="TrackerHostingExtensions"/> runs it inside a Generic Host.
/// Besides the connections it runs three loops: the active check, the tracker relationship (leader
/// election and pings, <see cref="LeaderRelationship"/>) and the writer of base_path/data.
/// </summary>
public sealed class TrackerServer : IAsyncDisposable
{
    /// <summary>Heartbeat and report counters are written at most this often (state changes within a second).</summary>
    private static readonly TimeSpan StatsSaveInterval = TimeSpan.FromSeconds(10);

    /// <summary>.tracker_status is rewritten this often (stock: 300 s).</summary>
    private static readonly TimeSpan StatusSaveInterval = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1);

    private readonly TrackerRuntime _runtime;
    private readonly ILogger _logger;
    private WebApplication? _app;
    private SocketListener? _listener;
    private bool _started;
    private Http.TrackerHttpServer? _http;
    private CancellationTokenSource? _loopsStop;
    private Task[] _loops = [];

    /// <summary>A tracker configured from a stock tracker.conf (<see cref="TrackerConfig.Load"/>) or <c>TrackerConfig.Default(path) with { ... }</c>.</summary>
    /// <param name="timeProvider">The tracker's clock (<see cref="TimeProvider.System"/> when null; tests pass a fake one).</param>
    public TrackerServer(TrackerConfig config, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _runtime = Compose(config, loggerFactory, timeProvider ?? TimeProvider.System);
        _logger = loggerFactory.CreateLogger<TrackerServer>();
    }

    /// <summary>
    /// The composition root: loads storage_ids.conf and base_path/data, builds the cluster state, the tracker peers and
    /// the loops on them (each gets only what it uses), and joins them in the <see cref="TrackerRuntime"/> the
    /// connections share.
    /// </summary>
    private static TrackerRuntime Compose(TrackerConfig config, ILoggerFactory loggerFactory, TimeProvider clock)
    {
        var storageIds = config.UseStorageId ? StorageIds.StorageIdTable.Load(config.StorageIdsFilename) : null;
        var dataStore = new Persistence.TrackerDataStore(config.BasePath, loggerFactory.CreateLogger<Persistence.TrackerDataStore>(), clock);
        var cluster = new ClusterState(config, dataStore, clock, loggerFactory.CreateLogger<ClusterState>()) { StorageIds = storageIds };
        long startTime = cluster.Now;
        var (_, lastCheck) = dataStore.ReadStatus();
        var peersLogger = loggerFactory.CreateLogger<TrackerPeers>();
        var peers = new TrackerPeers(startTime, lastCheck > 0 ? Math.Max(0, startTime - lastCheck) : 0, clock, peersLogger,
            TrackerRuntime.ConfiguredPeers(config, peersLogger));
        var connections = new ConnectionCounts();
        var relationship = new LeaderRelationship(config, cluster, peers, dataStore, connections, clock, loggerFactory.CreateLogger<LeaderRelationship>());
        var trunkElector = new TrunkServerElector(config, cluster, peers, clock, loggerFactory.CreateLogger<TrunkServerElector>());
        if (dataStore.Load(cluster))
        {
            relationship.StateLoaded();
        }

        dataStore.MovedFiles.Load(cluster.MovedFiles);

        return new TrackerRuntime(config, loggerFactory, clock, storageIds, dataStore, cluster, peers, connections, relationship, trunkElector);
    }

    public TrackerConfig Config => _runtime.Config;

    /// <summary>The endpoint actually bound (so port 0 resolves to the real port). Valid after <see cref="StartAsync"/>.</summary>
    public IPEndPoint EndPoint =>
        _listener?.EndPoint ?? throw new InvalidOperationException("the tracker has not been started");

    /// <summary>The bound HTTP endpoint (dashboard, redirects, /metrics), or null when HTTP is off.</summary>
    public IPEndPoint? HttpEndPoint => _http?.EndPoint;

    /// <summary>Whether this tracker is the leader of its tracker cluster right now.</summary>
    public bool IsLeader => _runtime.Peers.IsLeader;

    /// <summary>The leader as <c>ip:port</c>, or null while none is known.</summary>
    public string? LeaderAddress => _runtime.Peers.Leader?.HostPort;

    internal ClusterState Cluster => _runtime.Cluster;

    internal TrackerRuntime Runtime => _runtime;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("the tracker is already started");
        }

        _started = true;
        var address = string.IsNullOrWhiteSpace(Config.BindAddr) ? IPAddress.Any : IPAddress.Parse(Config.BindAddr.Split(',')[0].Trim());
        var connections = _connectionHandler = new TrackerConnectionHandler(_runtime);
        var listenerLogger = _runtime.LoggerFactory.CreateLogger<SocketListener>();
        var allow = AllowHosts.Build(Config.AllowHosts, listenerLogger);
        _listener = await SocketListener.BindAsync(new IPEndPoint(address, Config.Port), "tracker", Config.MaxConnections,
            connections.OnConnectedAsync, listenerLogger, cancellationToken, allow).ConfigureAwait(false);
        _http = Http.TrackerHttpServer.CreateIfEnabled(_runtime);
        _runtime.Metrics = _http?.Metrics;
        try
        {
            if (_http is not null)
            {
                // Kestrel for the HTTP port only (dashboard, redirects, /metrics). A port still held by a previous run is waited for.
                await PortBinding.WaitUntilFreeAsync(new IPEndPoint(address, Config.HttpServerPort), "tracker HTTP", listenerLogger, cancellationToken)
                    .ConfigureAwait(false);
                var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
                builder.Services.AddSingleton(_runtime.LoggerFactory);
                builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
                builder.Services.AddSingleton(_runtime);
                _http.AddServices(builder.Services);
                builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => _http.Listen(kestrel, address));
                var app = builder.Build();
                _http.Configure(app);
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                _app = app;
            }
        }
        catch
        {
            // The tracker port is bound already: release it, so a retry (or another server) can have it.
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
            throw;
        }

        _listener.Start();
        _http?.OnStarted(EndPoint);
        _runtime.Peers.ListenPort = EndPoint.Port;
        _runtime.DataStore.WriteStatus(_runtime.StartTime, _runtime.Now);
        _loopsStop = new CancellationTokenSource();
        var stop = _loopsStop.Token;
        _loops =
        [
            RunActiveCheckAsync(stop),
            _runtime.Relationship.RunAsync(stop),
            RunStateWriterAsync(stop),
            _runtime.TrunkElector.RunAsync(stop),
        ];
        _logger.LogInformation("tracker listening on {EndPoint}", EndPoint);
        foreach (string ignored in Config.NotActedOn)
        {
            _logger.LogWarning("tracker.conf: {Setting}", ignored);
        }
    }

    /// <summary>Stops gracefully: the state files and .tracker_status are written a last time.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (await ShutDownAsync(cancellationToken).ConfigureAwait(false))
        {
            SaveState();
            _runtime.DataStore.WriteStatus(_runtime.StartTime, _runtime.Now);
            _logger.LogInformation("tracker stopped");
        }
    }

    /// <summary>
    /// Stops as if the process were killed (tests of failover): connections are aborted at once and nothing
    /// more is written; what is on disk is what the periodic writer left.
    /// </summary>
    internal async Task KillAsync()
    {
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync().ConfigureAwait(false);
        await ShutDownAsync(aborted.Token).ConfigureAwait(false);
        _logger.LogInformation("tracker killed");
    }

    private async Task<bool> ShutDownAsync(CancellationToken cancellationToken)
    {
        var listener = _listener;
        if (listener is null)
        {
            return false;
        }

        _listener = null;
        if (_loopsStop is not null)
        {
            await _loopsStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_loops).ConfigureAwait(false);
            _loopsStop.Dispose();
            _loopsStop = null;
        }

        // Connections waiting for their next request (storages, follower trackers) end now; requests in flight
        // get a moment, then what is left is aborted.
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(ShutdownGrace);
        if (cancellationToken.IsCancellationRequested)
        {
            await listener.AbortAsync().ConfigureAwait(false);
        }
        else
        {
            await listener.StopAsync(grace.Token).ConfigureAwait(false);
        }

        await listener.DisposeAsync().ConfigureAwait(false);
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(grace.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        if (_http is not null)
        {
            await _http.DisposeAsync().ConfigureAwait(false);
        }

        return true;
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private TrackerConnectionHandler? _connectionHandler;

    /// <summary>Serves one connection as the tracker port does (tests: an in-memory <see cref="PipeTransport"/>).</summary>
    internal Task ServeAsync(IFrameTransport connection) =>
        (_connectionHandler ?? throw new InvalidOperationException("the tracker is not started")).ServeAsync(connection);

    private long _activeChecks;

    /// <summary>How many active checks ran (tests that move a fake clock wait for the check to have run).</summary>
    internal long ActiveChecks => Interlocked.Read(ref _activeChecks);

    /// <summary>Every check_active_interval, ACTIVE storages without a recent heartbeat turn OFFLINE.</summary>
    private async Task RunActiveCheckAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, Config.CheckActiveInterval)), _runtime.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _runtime.Cluster.DemoteSilentStorages();
                Interlocked.Increment(ref _activeChecks);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private long _savedStateVersion = -1;
    private long _savedStatsVersion = -1;

    /// <summary>Writes the data files within a second of a state change and every 10 s while counters move.</summary>
    private async Task RunStateWriterAsync(CancellationToken ct)
    {
        var clock = _runtime.Clock;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        long lastStatsSave = clock.Milliseconds(), lastStatusSave = clock.Milliseconds();
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    long now = clock.Milliseconds();
                    var cluster = _runtime.Cluster;
                    if (cluster.StateVersion != _savedStateVersion ||
                        (cluster.StatsVersion != _savedStatsVersion && now - lastStatsSave >= StatsSaveInterval.TotalMilliseconds))
                    {
                        SaveState();
                        lastStatsSave = now;
                    }

                    if (now - lastStatusSave >= StatusSaveInterval.TotalMilliseconds)
                    {
                        _runtime.DataStore.WriteStatus(_runtime.StartTime, _runtime.Now);
                        lastStatusSave = now;
                    }
                }
                catch (IOException e)
                {
                    _logger.LogError("cannot write the tracker data files: {Message}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void SaveState()
    {
        var cluster = _runtime.Cluster;
        long state = cluster.StateVersion, stats = cluster.StatsVersion;
        _runtime.DataStore.Save(cluster);
        _savedStateVersion = state;
        _savedStatsVersion = stats;
    }
}
