using FastDfs.Protocol;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Tracker.Peers;

/// <summary>A connection from this tracker to another tracker (a <see cref="PeerChannel"/>): one request at a time, replies bounded.</summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private const int MaxReplyBody = 1 << 20;

    private readonly PeerChannel _channel;

    private PeerConnection(PeerChannel channel, TrackerPeer peer)
    {
        _channel = channel;
        Peer = peer;
    }

    public TrackerPeer Peer { get; }

    /// <summary>Set once JOIN_LEADER succeeded on this connection.</summary>
    public bool JoinedLeader { get; set; }

    /// <param name="bindAddress">the tracker's bind_addr, so that the peer sees the address it knows this tracker by</param>
    /// <param name="peerKey">cluster_secret_key: proven right after connecting, or null</param>
    public static async Task<PeerConnection> ConnectAsync(TrackerPeer peer, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        System.Net.IPAddress? bindAddress, byte[]? peerKey) =>
        new(await PeerChannel.ConnectAsync(peer.Ip, peer.Port, new PeerChannelOptions(connectTimeout, networkTimeout, bindAddress, peerKey), "tracker", ct)
            .ConfigureAwait(false), peer);

    /// <summary>Sends one request; returns the reply status and body (the body is empty when status != 0).</summary>
    public Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct) =>
        _channel.RequestAsync(command, body, MaxReplyBody, ct);

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
