using FastDfs.Protocol.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Hosting;

/// <summary>Runs a <see cref="StorageServer"/> as a hosted service of the Generic Host (the daemon).</summary>
public static class StorageHostingExtensions
{
    /// <summary>Registers the storage server (singleton) and a hosted service that starts and stops it.</summary>
    public static IServiceCollection AddFastDfsStorage(this IServiceCollection services, StorageConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new StorageServer(config, sp.GetService<ILoggerFactory>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<IHostedService, StorageHostedService>();
        return services;
    }

    /// <summary>Shorthand for <c>builder.Services.AddFastDfsStorage(config)</c>.</summary>
    public static IHostApplicationBuilder AddFastDfsStorage(this IHostApplicationBuilder builder, StorageConfig config)
    {
        builder.Services.AddFastDfsStorage(config);
        return builder;
    }

    private sealed class StorageHostedService(StorageServer server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
    }
}
