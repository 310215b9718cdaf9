using System.IO.Pipelines;
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
    private bool _closeAfterReply;
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
        FdfsCommand.TrackerGetOneSysFile or FdfsCommand.TrackerGetSysFilesEnd;

    /// <summary>HELLO, PROOF, or a guarded command on an unproven connection: answered here (true), else false.</summary>
    private async ValueTask<bool> TryHandlePeerProofAsync(PipeReader input, PacketHeader header, CancellationToken ct)
    {
        bool hello = header.Cmd == PeerAuth.Hello, proof = header.Cmd == PeerAuth.Proof;
        if (!hello && !proof && (!NeedsPeerProof(header.Cmd) || Proof.Allows))
        {
            return false;
        }

        int length = (int)header.BodyLength;
        var body = length == 0 ? default : await input.ReadExactlyAsync(length, ct).ConfigureAwait(false);
        try
        {
            ReadOnlySpan<byte> span = body.IsSingleSegment ? body.FirstSpan : System.Buffers.BuffersExtensions.ToArray(body);
            if (hello)
            {
                var (status, reply) = Proof.OnHello(span);
                if (status == Errno.Ok)
                {
                    _output.WriteResponse(reply);
                }
                else
                {
                    _output.WriteStatus(status);
                }
            }
            else if (proof)
            {
                byte status = span.Length == PeerAuth.ProofSize ? Proof.OnProof(span) : Errno.EINVAL;
                _output.WriteStatus(status);
                if (status == Errno.EPERM)
                {
                    // One try per connection: a guesser pays a connection per guess.
                    _logger.LogWarning("{Peer} failed the cluster_secret_key proof: closing", _peer);
                    _closeAfterReply = true;
                }
            }
            else
            {
                if (!_unprovenLogged)
                {
                    _unprovenLogged = true;
                    _logger.LogWarning("refusing {Command} from {Peer}: the connection did not prove cluster_secret_key", header.Cmd, _peer);
                }

                _output.WriteStatus(Errno.EPERM);
            }
        }
        finally
        {
            if (length > 0)
            {
                input.AdvanceTo(body.End);
            }
        }

        return true;
    }
}
