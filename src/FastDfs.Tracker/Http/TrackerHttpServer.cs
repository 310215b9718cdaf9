using System.Net;
using FastDfs.Client;
using FastDfs.ServerCore.Http;
using FastDfs.Tracker.Network;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FastDfs.Tracker.Http;

/// <summary>
/// The tracker's built-in HTTP server on <c>http.server_port</c>: file redirects, dashboard, upload/delete
/// and <c>/metrics</c>. <see cref="TrackerServer"/> calls <see cref="AddServices"/>, <see cref="Listen"/>,
/// <see cref="Configure"/> and <see cref="OnStarted"/> while it builds its web application.
/// </summary>
internal sealed class TrackerHttpServer : IAsyncDisposable
{
    private readonly TrackerRuntime _runtime;
    private readonly TrackerHttpHandler _handler;
    private ListenOptions? _listen;
    private FastDfsClient? _client;

    private TrackerHttpServer(TrackerRuntime runtime)
    {
        _runtime = runtime;
        Metrics = new TrackerMetrics(runtime);
        var options = runtime.Config;
        _handler = new TrackerHttpHandler(runtime, options.Http, options.Http.StorageServerPort, Metrics,
            () => _client ?? throw new InvalidOperationException("the tracker is not started"),
            () => _listen?.IPEndPoint?.Port ?? 0,
            runtime.LoggerFactory.CreateLogger<TrackerHttpHandler>());
        _handler.ClearSpool();
    }

    public TrackerMetrics Metrics { get; }

    public IPEndPoint EndPoint => _listen?.IPEndPoint ?? throw new InvalidOperationException("the HTTP server is not started");

    public static TrackerHttpServer? CreateIfEnabled(TrackerRuntime runtime) =>
        runtime.Config.Http.Enabled ? new TrackerHttpServer(runtime) : null;

    public void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("fdfs-tracker"))
            .WithMetrics(metrics => metrics.AddMeter(Metrics.MeterName).AddPrometheusExporter());

    public void Listen(KestrelServerOptions kestrel, IPAddress address) =>
        kestrel.Listen(address, _runtime.Config.HttpServerPort, listen =>
        {
            HttpEndpointSecurity.Configure(listen, _runtime.Config.Http);
            _listen = listen;
        });

    public void Configure(IApplicationBuilder app)
    {
        // The dashboard, its /api/cluster and /metrics show the cluster's layout: behind http.admin.secret_key when set.
        HttpEndpointSecurity.UseAdminKey(app, _runtime.Config.Http.AdminSecretKey,
            path => path == "/metrics" || path.StartsWith("/api/", StringComparison.Ordinal) || DashboardAssets.TryGet(path, out _));
        app.UseOpenTelemetryPrometheusScrapingEndpoint();
        app.Run(_handler.HandleAsync);
    }

    /// <summary>The upload/delete endpoints use a FastDFS client of this very tracker (it picks the storage as for any client).</summary>
    public void OnStarted(IPEndPoint trackerEndPoint)
    {
        var address = trackerEndPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : trackerEndPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : trackerEndPoint.Address;
        _client = new FastDfsClient(FastDfsClientOptions.Default with { Trackers = [new FastDfsEndpoint(address.ToString(), trackerEndPoint.Port)] });
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        Metrics.Dispose();
    }
}
