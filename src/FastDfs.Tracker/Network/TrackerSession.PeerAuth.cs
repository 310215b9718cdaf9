using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>The accepting side of the <c>cluster_secret_key</c> handshake (<see cref="PeerAuth"/>), and what it guards.</summary>
internal sealed partial class TrackerSession
{
    private PeerProof? _peerProof;
    private bool _unprovenLogged;

    private PeerProof Proof => _peerProof ??= new PeerProof(_runtime.PeerKey);

    /// <summary>
    /// With a cluster secret, what a storage or a tracker of the cluster sends (joins, beats, reports, sync and trunk
    /// bookkeeping, leadership, the state copy) needs a connection that proved it. Clients' queries, the monitor's
    /// lists and the read-only status questions stay open: stock clients and tools must keep working.
    /// </summary>
    private static bool NeedsPeerProof(FdfsCommand command) => command is
        FdfsCommand.StorageJoin or FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport or
        FdfsCommand.StorageChangelogReq or FdfsCommand.StorageReportIpChanged or FdfsCommand.StorageSyncDestReq or
        FdfsCommand.StorageSyncNotify or FdfsCommand.StorageSyncSrcReq or FdfsCommand.StorageSyncDestQuery or
        FdfsCommand.StorageReportStatus or FdfsCommand.StorageChangeStatus or FdfsCommand.StorageFetchTrunkFid or
        FdfsCommand.StorageReportTrunkFid or FdfsCommand.StorageReportTrunkFree or FdfsCommand.StorageReplicaChange or
        FdfsCommand.TrackerJoinLeader or FdfsCommand.TrackerPingLeader or FdfsCommand.TrackerNotifyNextLeader or
        FdfsCommand.TrackerCommitNextLeader or FdfsCommand.TrackerNotifyReselectLeader or FdfsCommand.TrackerGetSysFilesStart or
        FdfsCommand.TrackerGetOneSysFile or FdfsCommand.TrackerGetSysFilesEnd or StorePathHealthReport.Command or RecoveryProgressReport.Command or
        SpareStorageReport.Command;

    /// <summary>HELLO, PROOF, or a guarded command on an unproven connection: answered here (its status), else null.</summary>
    private async ValueTask<byte?> TryHandlePeerProofAsync(PacketHeader header)
    {
        bool hello = header.Cmd == PeerAuth.Hello, proof = header.Cmd == PeerAuth.Proof;
        if (!hello && !proof && (!NeedsPeerProof(header.Cmd) || Proof.Allows))
        {
            return null;
        }

        if (hello)
        {
            if (header.BodyLength != PeerAuth.NonceSize)
            {
                return Errno.EINVAL;
            }

            var nonce = await _frames.ReadBodyAsync(PeerAuth.NonceSize).ConfigureAwait(false);
            var (status, reply) = Proof.OnHello(nonce.Span);
            if (status == Errno.Ok)
            {
                _output.WriteResponse(reply);
            }

            return status;
        }

        if (proof)
        {
            if (header.BodyLength != PeerAuth.ProofSize)
            {
                return Errno.EINVAL;
            }

            var answer = await _frames.ReadBodyAsync(PeerAuth.ProofSize).ConfigureAwait(false);
            byte status = Proof.OnProof(answer.Span);
            if (status == Errno.EPERM)
            {
                // One try per connection: a guesser pays a connection per guess.
                _logger.LogWarning("{Peer} failed the cluster_secret_key proof: closing", _peer);
                _frames.CloseAfterReply = true;
            }

            if (status == Errno.Ok)
            {
                ReplyEmpty();
            }

            return status;
        }

        if (!_unprovenLogged)
        {
            _unprovenLogged = true;
            _logger.LogWarning("refusing {Command} from {Peer}: the connection did not prove cluster_secret_key", header.Cmd, _peer);
        }

        return Errno.EPERM; // the loop drops the body
    }
}
