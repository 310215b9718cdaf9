using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace FastDfs.Cli.Commands;

/// <summary>
/// READY=1 when the daemon listens and STOPPING=1 when it stops, to the NOTIFY_SOCKET of a supervisor that is not the
/// daemon's direct systemd parent (AddSystemd only speaks to systemd when systemd started the process itself: a
/// wrapper, a container init, a test in between would otherwise never hear that the daemon is ready).
/// </summary>
internal sealed class NotifySocket(IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly SystemdNotifier _notifier = new();

    /// <summary>Whether this is needed: a notify socket is given and the process is not systemd's own child.</summary>
    public static bool Wanted => !SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _notifier.Notify(ServiceState.Ready));
        lifetime.ApplicationStopping.Register(() => _notifier.Notify(ServiceState.Stopping));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
