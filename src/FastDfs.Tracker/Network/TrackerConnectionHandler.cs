using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>Kestrel entry point: one <see cref="TrackerSession"/> per accepted TCP connection.</summary>
internal sealed class TrackerConnectionHandler(TrackerRuntime runtime) : ConnectionHandler
{
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger<TrackerSession>();

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        runtime.ConnectionOpened();
        try
        {
            var session = new TrackerSession(runtime, connection, _logger);
            await session.RunAsync(connection.ConnectionClosed).ConfigureAwait(false);
        }
        finally
        {
            runtime.ConnectionClosed();
        }
    }
}
