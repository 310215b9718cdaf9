using System.Net;
using FastDfs.Protocol.Config;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker;

/// <summary>
/// A FastDFS tracker served by Kestrel (raw TCP via a ConnectionHandler). Usable in-process by tests
/// and by the <c>fdfs</c> CLI; <see cref="TrackerHostingExtensions"/> runs it inside a Generic Host.
/// </summary>
public sealed class TrackerServer : IAsyncDisposable
{
    private readonly TrackerRuntime _runtime;
    private readonly ILogger _logger;
    private WebApplication? _app;
    private ListenOptions? _listen;
    private Http.TrackerHttpServer? _http;
    private CancellationTokenSource? _activeCheckStop;
    private Task? _activeCheck;

    public TrackerServer(TrackerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _runtime = new TrackerRuntime(options, loggerFactory);
        _logger = loggerFactory.CreateLogger<TrackerServer>();
    }

    /// <summary>A tracker configured from a stock tracker.conf (<see cref="TrackerConfig.Load"/>).</summary>
    public TrackerServer(TrackerConfig config, ILoggerFactory loggerFactory)
        : this(TrackerOptions.FromConfig(config), loggerFactory)
    {
    }

    public TrackerOptions Options => _runtime.Options;

    /// <summary>The endpoint actually bound (so port 0 resolves to the real port). Valid after <see cref="StartAsync"/>.</summary>
    public IPEndPoint EndPoint =>
        _listen?.IPEndPoint ?? throw new InvalidOperationException("the tracker has not been started");

    /// <summary>The bound HTTP endpoint (dashboard, redirects, /metrics), or null when HTTP is off.</summary>
    public IPEndPoint? HttpEndPoint => _http?.EndPoint;

    internal ClusterState Cluster => _runtime.Cluster;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("the tracker is already started");
        }

        var address = string.IsNullOrWhiteSpace(Options.BindAddr) ? IPAddress.Any : IPAddress.Parse(Options.BindAddr.Trim());
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_runtime.LoggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(_runtime);
        builder.Services.AddSingleton<TrackerConnectionHandler>();
        _http = Http.TrackerHttpServer.CreateIfEnabled(_runtime);
        _runtime.Metrics = _http?.Metrics;
        _http?.AddServices(builder.Services);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = Options.MaxConnections;
            kestrel.Listen(address, Options.Port, listen =>
            {
                listen.UseConnectionHandler<TrackerConnectionHandler>();
                _listen = listen;
            });
            _http?.Listen(kestrel, address);
        });
        var app = builder.Build();
        _http?.Configure(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        _http?.OnStarted(EndPoint);
        _activeCheckStop = new CancellationTokenSource();
        _activeCheck = RunActiveCheckAsync(_activeCheckStop.Token);
        _logger.LogInformation("tracker listening on {EndPoint}", EndPoint);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;
        if (_activeCheckStop is not null)
        {
            await _activeCheckStop.CancelAsync().ConfigureAwait(false);
            await _activeCheck!.ConfigureAwait(false);
            _activeCheckStop.Dispose();
            _activeCheckStop = null;
        }

        await app.StopAsync(cancellationToken).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        if (_http is not null)
        {
            await _http.DisposeAsync().ConfigureAwait(false);
        }

        _logger.LogInformation("tracker stopped");
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Every check_active_interval, ACTIVE storages without a recent heartbeat turn OFFLINE.</summary>
    private async Task RunActiveCheckAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, Options.CheckActiveInterval)));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _runtime.Cluster.DemoteSilentStorages();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
