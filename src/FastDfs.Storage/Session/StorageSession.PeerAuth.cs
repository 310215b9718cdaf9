using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Session;

/// <summary>The accepting side of the <c>cluster_secret_key</c> handshake (<see cref="PeerAuth"/>).</summary>
internal sealed partial class StorageSession
{
    private PeerProof? _peerProof;

    private PeerProof Proof => _peerProof ??= new PeerProof(_ctx.PeerKey);

    private async ValueTask<byte> PeerHelloAsync(PacketHeader request)
    {
        if (request.BodyLength != PeerAuth.NonceSize)
        {
            return Errno.EINVAL;
        }

        var body = await ReadBodyAsync(PeerAuth.NonceSize).ConfigureAwait(false);
        var (status, reply) = Proof.OnHello(body.Span);
        if (status == Errno.Ok)
        {
            _output.WriteResponse(reply);
        }

        return status;
    }

    private async ValueTask<byte> PeerProofAsync(PacketHeader request)
    {
        if (request.BodyLength != PeerAuth.ProofSize)
        {
            return Errno.EINVAL;
        }

        var body = await ReadBodyAsync(PeerAuth.ProofSize).ConfigureAwait(false);
        byte status = Proof.OnProof(body.Span);
        if (status == Errno.Ok)
        {
            return ReplyEmpty();
        }

        if (status == Errno.EPERM)
        {
            // One try per connection: a guesser pays a connection per guess.
            _logger.LogWarning("{Remote} failed the cluster_secret_key proof: closing", RemoteAddress);
            _frames.CloseAfterReply = true;
        }

        return status;
    }

    /// <summary>With a cluster secret, the storage-to-storage commands need a connection that proved it.</summary>
    private bool PeerProofMissing(PacketHeader request)
    {
        if (Proof.Allows)
        {
            return false;
        }

        if (!_nonMemberLogged)
        {
            _nonMemberLogged = true;
            _logger.LogWarning("refusing {Command} from {Remote}: the connection did not prove cluster_secret_key", request.Command, RemoteAddress);
        }

        return true;
    }
}
