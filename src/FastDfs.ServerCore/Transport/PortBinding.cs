using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Transport;

/// <summary>
/// Binding a server port that may still be busy: a daemon restarted right after a crash (systemd's Restart=, a
/// kill -9 loop) can find its port held for a moment by the dying process or by a connection of the previous run.
/// Stock sets SO_REUSEADDR and would still exit; we set it too and wait for the port instead, saying so in the log,
/// so that a restarted member always comes back.
/// </summary>
public static class PortBinding
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    /// <summary>A bound (not yet listening) TCP socket on <paramref name="endPoint"/>; waits while the port is in use.</summary>
    public static async Task<Socket> BindAsync(IPEndPoint endPoint, string what, ILogger logger, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var lastLog = DateTime.MinValue;
        while (true)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(endPoint);
                if (lastLog != DateTime.MinValue)
                {
                    logger.LogInformation("{What} port {EndPoint} bound after waiting {Seconds:0}s", what, endPoint, (DateTime.UtcNow - started).TotalSeconds);
                }

                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && endPoint.Port != 0)
            {
                socket.Dispose();
                if (DateTime.UtcNow - lastLog >= LogInterval)
                {
                    logger.LogWarning("{What} port {EndPoint} is in use (another process, or the previous run of this one still " +
                        "closing); retrying every {Interval}s until it is free", what, endPoint, RetryInterval.TotalSeconds);
                    lastLog = DateTime.UtcNow;
                }

                await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>Waits until <paramref name="endPoint"/> can be bound (for a port another component binds itself, such as Kestrel's).</summary>
    public static async Task WaitUntilFreeAsync(IPEndPoint endPoint, string what, ILogger logger, CancellationToken cancellationToken)
    {
        if (endPoint.Port == 0)
        {
            return;
        }

        using var probe = await BindAsync(endPoint, what, logger, cancellationToken).ConfigureAwait(false);
    }
}
