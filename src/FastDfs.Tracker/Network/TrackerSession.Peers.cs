using System.Buffers;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Peers;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>Tracker <-> tracker commands (spec 8), leader queries (4.11, 4.12) and NOTIFY_RESELECT_LEADER.</summary>
internal sealed partial class TrackerSession
{
    private const int TrackerClusterEntrySize = ProtocolConstants.MaxIpPortSize + 2 + 12 + ProtocolConstants.VersionSize + 16;

    /// <summary>The follower that sent JOIN_LEADER on this connection.</summary>
    private TrackerPeer? _follower;

    /// <summary>The trunk-server version last sent in a PING_LEADER reply on this connection (-1 = never).</summary>
    private long _trunkVersionSent = -1;

    private bool TryDispatchPeer(FdfsCommand command, ReadOnlySpan<byte> body)
    {
        var peers = _runtime.Peers;
        switch (command)
        {
            case FdfsCommand.TrackerGetStatus:
                ExpectLength(body, 0, command);
                if (!_cluster.HasGroups)
                {
                    throw new ProtocolException("GET_STATUS: no group yet", Errno.ENOENT);
                }

                var status = peers.LocalStatus(_cluster.Now);
                Reply(TrackerStatusReply.Size, (span, _) => status.Write(span));
                return true;
            case FdfsCommand.TrackerJoinLeader:
                JoinLeader(body);
                return true;
            case FdfsCommand.TrackerPingLeader:
                PingLeader(body);
                return true;
            case FdfsCommand.TrackerNotifyNextLeader:
                RequirePeer(command);
                _output.WriteStatus(peers.NotifyNextLeader(ParsePeer(body, command)));
                return true;
            case FdfsCommand.TrackerCommitNextLeader:
                RequirePeer(command);
                _output.WriteStatus(peers.CommitNextLeader(ParsePeer(body, command)));
                return true;
            case FdfsCommand.TrackerNotifyReselectLeader:
                ExpectLength(body, 0, command);
                RequireLeader(command);
                if (!_cluster.IsStorageAddress(RemoteIp) && !peers.IsPeerAddress(RemoteIp))
                {
                    throw new ProtocolException($"{command} from {RemoteIp}: neither a storage nor a tracker of the cluster", Errno.EPERM);
                }

                _logger.LogWarning("{Peer}: a storage saw two tracker leaders: stepping down for a new election", _peer);
                peers.SetLeader(null, "NOTIFY_RESELECT_LEADER from a storage");
                ReplyEmpty();
                return true;
            case FdfsCommand.TrackerGetSysFilesStart:
                ExpectLength(body, 0, command);
                if (!_cluster.HasGroups)
                {
                    throw new ProtocolException("GET_SYS_FILES_START: no group yet", Errno.ENOENT);
                }

                if (!_runtime.DataStore.TryLockSysFiles(this, _cluster, TimeSpan.FromSeconds(NetworkTimeoutSeconds)))
                {
                    throw new ProtocolException("GET_SYS_FILES_START: another tracker is copying", Errno.EBUSY);
                }

                ReplyEmpty();
                return true;
            case FdfsCommand.TrackerGetOneSysFile:
                GetOneSysFile(body);
                return true;
            case FdfsCommand.TrackerGetSysFilesEnd:
                ExpectLength(body, 0, command);
                _runtime.DataStore.UnlockSysFiles(this);
                ReplyEmpty();
                return true;
            case FdfsCommand.ServerGetLeader:
                ExpectLength(body, 0, command);
                var leader = peers.Leader ?? throw new ProtocolException("no tracker leader yet", Errno.ENOENT);
                Reply(Encoding.ASCII.GetBytes(leader.HostPort));
                return true;
            case FdfsCommand.ServerTrackerClusterStat:
                ExpectLength(body, 3, command);
                RequireLeader(command);
                TrackerClusterStat(body);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Leadership moves only at the word of a tracker of the cluster (configured, or learnt within the limit).</summary>
    private void RequirePeer(FdfsCommand command)
    {
        if (!_runtime.Peers.IsPeerAddress(RemoteIp))
        {
            throw new ProtocolException($"{command} from {RemoteIp}: not a tracker of the cluster", Errno.EPERM);
        }
    }

    private void RequireLeader(FdfsCommand command)
    {
        if (!_runtime.Peers.IsLeader)
        {
            throw new ProtocolException($"{command}: this tracker is not the leader", Errno.EOPNOTSUPP);
        }
    }

    private static TrackerPeer ParsePeer(ReadOnlySpan<byte> body, FdfsCommand command)
    {
        if (body.Length is 0 or > ProtocolConstants.MaxIpPortSize)
        {
            throw new ProtocolException($"{command} body of {body.Length} bytes");
        }

        string text = FixedString.ReadCString(body);
        return TrackerPeer.TryParse(text, out var peer) ? peer : throw new ProtocolException($"{command}: bad tracker '{text}'");
    }

    private void JoinLeader(ReadOnlySpan<byte> body)
    {
        RequireLeader(FdfsCommand.TrackerJoinLeader);
        if (_follower is not null)
        {
            throw new ProtocolException("JOIN_LEADER twice on one connection", Errno.EEXIST);
        }

        var request = JoinLeaderRequest.Parse(body);
        if (request.ServerPort is <= 0 or > 65535)
        {
            throw new ProtocolException($"JOIN_LEADER with port {request.ServerPort}");
        }

        var follower = _runtime.Peers.LearnPeer(new TrackerPeer(RemoteIp, (int)request.ServerPort))
            ?? throw new ProtocolException($"JOIN_LEADER from {RemoteIp}:{request.ServerPort}: not a tracker of the cluster", Errno.EPERM);
        _runtime.Peers.RecordFollower(follower, new FollowerInfo(request.Version, request.UpTime, _cluster.Now, default));
        _follower = follower;
        _logger.LogInformation("tracker {Follower} follows this leader", follower);
        ReplyEmpty();
    }

    private void PingLeader(ReadOnlySpan<byte> body)
    {
        RequireLeader(FdfsCommand.TrackerPingLeader);
        var follower = _follower ?? throw new ProtocolException("PING_LEADER before JOIN_LEADER");
        var counts = PingLeaderRequest.Parse(body);
        var previous = _runtime.Peers.FollowerOf(follower);
        _runtime.Peers.RecordFollower(follower,
            new FollowerInfo(previous?.Version ?? "", previous?.UpTime ?? 0, _cluster.Now, counts));

        // The group/trunk list goes out on the first ping of a connection and again after a change.
        long trunkVersion = _cluster.TrunkVersion;
        if (_trunkVersionSent == trunkVersion)
        {
            ReplyEmpty();
            return;
        }

        _trunkVersionSent = trunkVersion;
        Reply(GroupTrunkServer.Encode(_cluster.TrunkServers()));
    }

    private void GetOneSysFile(ReadOnlySpan<byte> body)
    {
        _runtime.DataStore.TouchSysFilesLock(this);
        ExpectLength(body, 9, FdfsCommand.TrackerGetOneSysFile);
        var reader = new SpanReader(body);
        int index = reader.ReadByte();
        long offset = reader.ReadInt64();
        var (size, chunk) = _runtime.DataStore.ReadSysFile(index, offset, _cluster);
        Reply(8 + chunk.Length, (span, _) =>
        {
            var w = new SpanWriter(span);
            w.WriteInt64(size);
            w.WriteBytes(chunk);
        });
    }

    /// <summary>TRACKER_CLUSTER_STAT (4.12): every known tracker, computed by the leader.</summary>
    private void TrackerClusterStat(ReadOnlySpan<byte> body)
    {
        byte filter = body[0];
        bool wantActive = body[1] != 0, wantLeader = body[2] != 0;
        var own = new PingLeaderRequest(_options.MaxConnections, _runtime.CurrentConnections, _runtime.PeakConnections);
        var entries = _runtime.Peers.ClusterStat(_cluster.Now, own)
            .Where(e => ((filter & 1) == 0 || e.IsActive == wantActive) && ((filter & 2) == 0 || e.IsLeader == wantLeader))
            .Take(byte.MaxValue)
            .ToList();
        Reply(1 + entries.Count * TrackerClusterEntrySize, (span, _) =>
        {
            span[0] = (byte)entries.Count;
            var w = new SpanWriter(span[1..]);
            foreach (var e in entries)
            {
                w.WriteFixed(e.Peer.HostPort, ProtocolConstants.MaxIpPortSize);
                w.WriteByte(e.IsLeader ? (byte)1 : (byte)0);
                w.WriteByte(e.IsActive ? (byte)1 : (byte)0);
                w.WriteInt32(e.Counts.AllocCount);
                w.WriteInt32(e.Counts.CurrentCount);
                w.WriteInt32(e.Counts.MaxCount);
                w.WriteFixed(e.Version, ProtocolConstants.VersionSize);
                w.WriteInt64(e.UpTime);
                w.WriteInt64(e.LastHeartbeat);
            }
        });
    }

    /// <summary>
    /// Before a JOIN: learn the tracker list, and on an empty tracker copy the state from a peer first.
    /// false when the JOIN is to be answered EAGAIN (a listed tracker is unreachable and none has data).
    /// </summary>
    private async ValueTask<bool> PrepareJoinAsync(ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        StorageJoinRequest request;
        try
        {
            request = StorageJoinRequest.Parse(body.Span);
        }
        catch (ProtocolException)
        {
            return true; // The dispatch answers the bad body.
        }

        _runtime.Peers.Learn(request.Trackers, request.CurrentTrackerIp);
        if (await _runtime.Relationship.EnsureStateAsync(ct).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }
}
