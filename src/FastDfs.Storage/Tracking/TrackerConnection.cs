using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Tracking;

/// <summary>A storage's long-lived connection to one tracker: request/response framing over a socket.</summary>
internal sealed class TrackerConnection : IAsyncDisposable
{
    private const int MaxResponseBody = 64 * 1024;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _networkTimeout;

    private TrackerConnection(TcpClient client, string host, TimeSpan networkTimeout)
    {
        _client = client;
        _stream = client.GetStream();
        Host = host;
        _networkTimeout = networkTimeout;
    }

    public string Host { get; }

    public IPEndPoint? LocalEndPoint => _client.Client.LocalEndPoint as IPEndPoint;

    /// <param name="bindAddress">the address to connect from (storage.conf bind_addr with client_bind), or null</param>
    /// <param name="peerKey">cluster_secret_key: proven right after connecting (see PeerHandshake), or null</param>
    public static async Task<TrackerConnection> ConnectAsync(
        IReadOnlyList<string> hosts, int port, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        IPAddress? bindAddress = null, byte[]? peerKey = null)
    {
        Exception? last = null;
        foreach (string host in hosts)
        {
            try
            {
                // client_bind (stock): connect from bind_addr so trackers and peers see the address we serve on.
                var client = await TcpConnector.ConnectAsync(host, port, connectTimeout, ct, bindAddress).ConfigureAwait(false);
                var connection = new TrackerConnection(client, host, networkTimeout);
                try
                {
                    await PeerHandshake.ProveAsync(connection._stream, peerKey, $"tracker {host}:{port}", networkTimeout, ct).ConfigureAwait(false);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                return connection;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                last = e;
            }
        }

        throw new IOException($"cannot connect to tracker {string.Join(",", hosts)}:{port}: {last?.Message}", last);
    }

    /// <summary>Sends one request and returns the reply's status and body (empty when status != 0).</summary>
    public async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_networkTimeout);
        return await StreamExchange.RequestAsync(_stream, command, body, MaxResponseBody, $"tracker {Host}", timeout.Token)
            .ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Polite goodbye as stock's report thread does; the socket may already be dead.
            var quit = new PacketHeader(0, FdfsCommand.Quit).ToArray();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _stream.WriteAsync(quit, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
