using FastDfs.Protocol.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker;

/// <summary>Runs a <see cref="TrackerServer"/> as an <see cref="IHostedService"/> of a Generic Host (the daemon).</summary>
public static class TrackerHostingExtensions
{
    public static IServiceCollection AddFastDfsTracker(this IServiceCollection services, TrackerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new TrackerServer(config, sp.GetRequiredService<ILoggerFactory>(), sp.GetService<TimeProvider>()));
        services.AddHostedService<TrackerHostedService>();
        return services;
    }

    private sealed class TrackerHostedService(TrackerServer server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
    }
}
