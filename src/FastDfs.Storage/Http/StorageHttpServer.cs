using System.Net;
using FastDfs.Client.Http;
using FastDfs.Protocol.Http;
using FastDfs.ServerCore.Http;
using FastDfs.Storage.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FastDfs.Storage.Http;

/// <summary>
/// The storage's built-in HTTP server (the job of nginx + fastdfs-nginx-module in stock): one more
/// Kestrel listener of the storage's host on <c>http.server_port</c>, serving file URLs and <c>/metrics</c>.
/// <see cref="Hosting.StorageServer"/> calls <see cref="AddServices"/>, <see cref="Listen"/> and
/// <see cref="Configure"/> while it builds its host.
/// </summary>
internal sealed class StorageHttpServer : IDisposable
{
    private readonly StorageContext _ctx;
    private readonly StorageHttpHandler _handler;
    private readonly HttpClient _proxyClient;
    private readonly StorageHttpPorts _peerPorts;
    private ListenOptions? _listen;

    private StorageHttpServer(StorageContext ctx, ILoggerFactory loggerFactory)
    {
        _ctx = ctx;
        var config = ctx.Config.Http;
        Metrics = new StorageMetrics(ctx);
        Lookup = new StoredFileLookup(ctx.Paths);
        Lookup.AddReader(new Trunk.TrunkHttpReader(ctx));
        var mime = config.MimeTypesFilename is { } file
            ? MimeTypeMap.Load(file, config.DefaultContentType)
            : MimeTypeMap.CreateDefault(config.DefaultContentType);
        _proxyClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // A peer that cannot tell its HTTP port is assumed to use ours (stock deployments: one nginx port
        // everywhere); set once bound, see OnStarted.
        _peerPorts = new StorageHttpPorts(config.StorageServerPort);
        _handler = new StorageHttpHandler(ctx, Lookup, mime, Metrics, _peerPorts, _proxyClient, loggerFactory.CreateLogger<StorageHttpHandler>());
    }

    public StorageMetrics Metrics { get; }

    /// <summary>Where other storage layouts (trunk files) plug in their reader.</summary>
    public StoredFileLookup Lookup { get; }

    /// <summary>The bound endpoint (the real port when configured as 0). Valid once the host started.</summary>
    public IPEndPoint EndPoint => _listen?.IPEndPoint ?? throw new InvalidOperationException("the HTTP server is not started");

    /// <summary>The HTTP server of this storage, or null when <c>http</c> is off.</summary>
    public static StorageHttpServer? CreateIfEnabled(StorageContext ctx, ILoggerFactory loggerFactory) =>
        ctx.Config.Http.Enabled ? new StorageHttpServer(ctx, loggerFactory) : null;

    public void AddServices(IServiceCollection services)
    {
        services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("fdfs-storage"))
            .WithMetrics(metrics => metrics.AddMeter(Metrics.MeterName).AddPrometheusExporter());
    }

    public void Listen(KestrelServerOptions kestrel, IPAddress address)
    {
        kestrel.Listen(address, _ctx.Config.HttpServerPort, listen =>
        {
            HttpEndpointSecurity.Configure(listen, _ctx.Config.Http);
            _listen = listen;
        });
    }

    public void Configure(IApplicationBuilder app)
    {
        HttpEndpointSecurity.UseAdminKey(app, _ctx.Config.Http.AdminSecretKey, path => path == "/metrics");
        app.UseOpenTelemetryPrometheusScrapingEndpoint();
        app.Run(_handler.HandleAsync);
    }

    /// <summary>After the host started: our port is known to the HTTP_PORT query and is the peers' fallback.</summary>
    public void OnStarted()
    {
        _ctx.HttpPort = EndPoint.Port;
        _peerPorts.FallbackPort = EndPoint.Port;
    }

    public void Dispose()
    {
        _proxyClient.Dispose();
        Metrics.Dispose();
    }
}
