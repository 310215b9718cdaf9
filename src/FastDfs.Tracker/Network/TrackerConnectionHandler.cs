using FastDfs.Protocol.Transport;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>The tracker port's entry point: one <see cref="TrackerSession"/> per accepted TCP connection.</summary>
internal sealed class TrackerConnectionHandler(TrackerRuntime runtime)
{
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger<TrackerSession>();

    /// <summary>Serves <paramref name="connection"/> until the peer leaves, it is aborted, or <paramref name="stopping"/> ends an idle wait.</summary>
    public async Task OnConnectedAsync(SocketConnection connection, CancellationToken stopping)
    {
        runtime.ConnectionOpened();
        using var idleEnd = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed, stopping);
        try
        {
            var session = new TrackerSession(runtime, connection, _logger);
            await session.RunAsync(connection.Closed, idleEnd.Token).ConfigureAwait(false);
        }
        finally
        {
            runtime.ConnectionClosed();
        }
    }
}
