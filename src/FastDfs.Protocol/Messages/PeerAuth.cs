using System.Security.Cryptography;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>
/// FastDFS.NET-only, opt-in (<c>cluster_secret_key</c>): the handshake by which a server-to-server connection proves
/// that both ends know the cluster's secret, before a join, beat, sync, trunk or tracker peer command is accepted.
/// <list type="number">
/// <item>HELLO (246), request <c>client_nonce[16]</c>; reply <c>server_nonce[16] server_proof[32]</c>.</item>
/// <item>PROOF (247), request <c>client_proof[32]</c>; reply empty, status 0 or EPERM (and the connection closes).</item>
/// </list>
/// A proof is HMAC-SHA256 keyed with the secret (UTF-8) over the role ("server" or "client"), then both nonces: the
/// server shows it knows the secret before the client shows anything, and fresh nonces on both sides make a recorded
/// exchange useless on another connection. A server without a secret answers HELLO with EOPNOTSUPP; a stock server
/// with EINVAL (and closes): either way a server that has a secret refuses to go on.
/// </summary>
public static class PeerAuth
{
    /// <summary>Command byte 246: unused by stock FastDFS.</summary>
    public const FdfsCommand Hello = (FdfsCommand)246;

    /// <summary>Command byte 247: unused by stock FastDFS.</summary>
    public const FdfsCommand Proof = (FdfsCommand)247;

    public const int NonceSize = 16;
    public const int ProofSize = 32;
    public const int HelloReplySize = NonceSize + ProofSize;

    private static readonly byte[] ServerRole = "server"u8.ToArray();
    private static readonly byte[] ClientRole = "client"u8.ToArray();

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    /// <summary>The key bytes of a secret as configured.</summary>
    public static byte[] Key(string secret) => Encoding.UTF8.GetBytes(secret);

    public static byte[] ServerProof(byte[] key, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce) =>
        Compute(key, ServerRole, clientNonce, serverNonce);

    public static byte[] ClientProof(byte[] key, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce) =>
        Compute(key, ClientRole, clientNonce, serverNonce);

    /// <summary>Compares a received proof with the expected one in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> received, ReadOnlySpan<byte> expected) =>
        received.Length == ProofSize && CryptographicOperations.FixedTimeEquals(received, expected);

    private static byte[] Compute(byte[] key, byte[] role, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        if (clientNonce.Length != NonceSize || serverNonce.Length != NonceSize)
        {
            throw new ProtocolException("peer authentication: a nonce is not 16 bytes");
        }

        Span<byte> message = stackalloc byte[6 + 2 * NonceSize];
        role.CopyTo(message);
        clientNonce.CopyTo(message[6..]);
        serverNonce.CopyTo(message[(6 + NonceSize)..]);
        return HMACSHA256.HashData(key, message);
    }
}
