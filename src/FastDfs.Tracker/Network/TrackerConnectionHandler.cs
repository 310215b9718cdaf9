using FastDfs.ServerCore.Transport;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>The tracker port's entry point: one <see cref="TrackerSession"/> per accepted TCP connection.</summary>
internal sealed class TrackerConnectionHandler(TrackerRuntime runtime)
{
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger<TrackerSession>();

    /// <summary>Serves <paramref name="connection"/> until the peer leaves, it is aborted, or the tracker stops while it idles.</summary>
    public Task OnConnectedAsync(SocketConnection connection) => ServeAsync(connection);

    /// <summary>The same for any transport (tests: in memory).</summary>
    public async Task ServeAsync(IFrameTransport connection)
    {
        runtime.ConnectionOpened();
        try
        {
            var session = new TrackerSession(runtime, connection, _logger);
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            runtime.ConnectionClosed();
        }
    }
}
