using System.Net;
using System.Net.Sockets;

namespace FastDfs.ServerCore.Transport;

/// <summary>Opens the servers' outgoing connections (to trackers, peer trackers, peer storages): one place for the
/// connect timeout and stock's client_bind.</summary>
public static class TcpConnector
{
    /// <summary>
    /// Connects with Nagle off within <paramref name="connectTimeout"/>. A timeout surfaces as
    /// <see cref="OperationCanceledException"/> while <paramref name="ct"/> is not cancelled.
    /// </summary>
    /// <param name="bindAddress">the local address to connect from (stock's client_bind with bind_addr), or null</param>
    public static async Task<TcpClient> ConnectAsync(
        string host, int port, TimeSpan connectTimeout, CancellationToken ct, IPAddress? bindAddress = null)
    {
        var client = bindAddress is null ? new TcpClient { NoDelay = true } : new TcpClient(new IPEndPoint(bindAddress, 0)) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(connectTimeout);
            await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
