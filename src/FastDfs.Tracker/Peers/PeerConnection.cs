using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Tracker.Peers;

/// <summary>A connection from this tracker to another tracker: one request at a time, replies bounded.</summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private const int MaxReplyBody = 1 << 20;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _networkTimeout;

    private PeerConnection(TcpClient client, TrackerPeer peer, TimeSpan networkTimeout)
    {
        _client = client;
        _stream = client.GetStream();
        Peer = peer;
        _networkTimeout = networkTimeout;
    }

    public TrackerPeer Peer { get; }

    /// <summary>Set once JOIN_LEADER succeeded on this connection.</summary>
    public bool JoinedLeader { get; set; }

    /// <param name="bindAddress">the tracker's bind_addr, so that the peer sees the address it knows this tracker by</param>
    /// <param name="peerKey">cluster_secret_key: proven right after connecting (see PeerHandshake), or null</param>
    public static async Task<PeerConnection> ConnectAsync(TrackerPeer peer, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        System.Net.IPAddress? bindAddress, byte[]? peerKey)
    {
        PeerConnection connection;
        try
        {
            var client = await TcpConnector.ConnectAsync(peer.Ip, peer.Port, connectTimeout, ct, bindAddress).ConfigureAwait(false);
            connection = new PeerConnection(client, peer, networkTimeout);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new IOException($"cannot connect to tracker {peer}: {e.Message}", e);
        }

        try
        {
            await PeerHandshake.ProveAsync(connection._stream, peerKey, $"tracker {peer}", networkTimeout, ct).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>Sends one request; returns the reply status and body (the body is empty when status != 0).</summary>
    public async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_networkTimeout);
        try
        {
            return await StreamExchange.RequestAsync(_stream, command, body, MaxReplyBody, $"tracker {Peer}", timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new IOException($"tracker {Peer}: {command} failed: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await _stream.WriteAsync(new PacketHeader(0, FdfsCommand.Quit).ToArray(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
