using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;

namespace FastDfs.ServerCore.Peers;

/// <summary>The peer handshake failed: the other end does not know (or does not use) this cluster's secret.</summary>
public sealed class PeerAuthenticationException(string message) : IOException(message);

/// <summary>
/// The connecting side of <see cref="PeerAuth"/>: every server-to-server connection of ours (storage to tracker, storage
/// to storage for sync and trunk, tracker to tracker) runs it right after connecting when <c>cluster_secret_key</c> is set.
/// </summary>
public static class PeerHandshake
{
    /// <summary>
    /// Proves the secret to the server at the other end of <paramref name="stream"/> and checks that it knows it too.
    /// Nothing when <paramref name="key"/> is null (no secret configured: stock behaviour).
    /// </summary>
    /// <exception cref="PeerAuthenticationException">The peer has no secret, another one, or is a stock server.</exception>
    /// <exception cref="IOException">The connection failed.</exception>
    public static async Task ProveAsync(Stream stream, byte[]? key, string peer, TimeSpan timeout, CancellationToken ct)
    {
        if (key is null)
        {
            return;
        }

        try
        {
            await ExchangeAsync(stream, key, peer, timeout, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or EndOfStreamException or ProtocolException ||
                                  (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new IOException($"{peer}: the cluster_secret_key handshake failed: {e.Message}", e);
        }
    }

    private static async Task ExchangeAsync(Stream stream, byte[] key, string peer, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        byte[] clientNonce = PeerAuth.NewNonce();
        var (status, body) = await StreamExchange.RequestAsync(stream, PeerAuth.Hello, clientNonce, PeerAuth.HelloReplySize, peer, limit.Token)
            .ConfigureAwait(false);
        if (status == Errno.EOPNOTSUPP)
        {
            throw new PeerAuthenticationException($"{peer} has no cluster_secret_key while this server has one: not talking to it");
        }

        if (status != Errno.Ok || body.Length != PeerAuth.HelloReplySize)
        {
            throw new PeerAuthenticationException(
                $"{peer} does not answer the cluster_secret_key handshake (status {status}): a stock or older server cannot be a peer while this server has a secret");
        }

        var serverNonce = body.AsSpan(0, PeerAuth.NonceSize);
        if (!PeerAuth.Matches(body.AsSpan(PeerAuth.NonceSize), PeerAuth.ServerProof(key, clientNonce, serverNonce)))
        {
            throw new PeerAuthenticationException($"{peer} does not know this cluster's cluster_secret_key");
        }

        var (proofStatus, _) = await StreamExchange.RequestAsync(stream, PeerAuth.Proof, PeerAuth.ClientProof(key, clientNonce, serverNonce), 0,
            peer, limit.Token).ConfigureAwait(false);
        if (proofStatus != Errno.Ok)
        {
            throw new PeerAuthenticationException($"{peer} refused this server's cluster_secret_key proof (status {proofStatus})");
        }
    }
}

/// <summary>
/// The accepting side of <see cref="PeerAuth"/> for one connection: answers HELLO and PROOF and remembers whether the
/// caller proved the secret. One PROOF per HELLO; a wrong one answers EPERM and the session closes the connection.
/// </summary>
public sealed class PeerProof(byte[]? key)
{
    private byte[]? _clientNonce;
    private byte[]? _serverNonce;

    /// <summary>Whether this server has a secret, so that peer commands need a proven connection.</summary>
    public bool Required => key is not null;

    /// <summary>The caller proved the secret on this connection.</summary>
    public bool Proven { get; private set; }

    /// <summary>Whether a peer command may run on this connection.</summary>
    public bool Allows => key is null || Proven;

    /// <summary>HELLO: the reply body (status 0), or an errno with no body.</summary>
    public (byte Status, byte[] Reply) OnHello(ReadOnlySpan<byte> body)
    {
        if (key is null)
        {
            return (Errno.EOPNOTSUPP, []);
        }

        if (body.Length != PeerAuth.NonceSize)
        {
            return (Errno.EINVAL, []);
        }

        _clientNonce = body.ToArray();
        _serverNonce = PeerAuth.NewNonce();
        return (Errno.Ok, [.. _serverNonce, .. PeerAuth.ServerProof(key, _clientNonce, _serverNonce)]);
    }

    /// <summary>PROOF: 0 when it matches; EPERM when not (the caller should close), EINVAL without a HELLO first.</summary>
    public byte OnProof(ReadOnlySpan<byte> body)
    {
        if (key is null)
        {
            return Errno.EOPNOTSUPP;
        }

        if (_clientNonce is null || _serverNonce is null)
        {
            return Errno.EINVAL;
        }

        Proven = PeerAuth.Matches(body, PeerAuth.ClientProof(key, _clientNonce, _serverNonce));
        _clientNonce = null;
        _serverNonce = null;
        return Proven ? Errno.Ok : Errno.EPERM;
    }
}
