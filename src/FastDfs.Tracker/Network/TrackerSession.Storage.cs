using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;

namespace FastDfs.Tracker.Network;

/// <summary>Storage -> tracker commands (spec section 6).</summary>
internal sealed partial class TrackerSession
{
    /// <summary>The storage that joined on this connection (null before STORAGE_JOIN).</summary>
    private StorageNode? _joined;

    /// <summary>The leader change this connection was last told about (flag 1 once per connection and per change).</summary>
    private long _leaderChangeSent = -1;

    private bool TryDispatchStorage(FdfsCommand command, ReadOnlySpan<byte> body)
    {
        switch (command)
        {
            case FdfsCommand.StorageJoin:
                Join(body);
                return true;
            case FdfsCommand.StorageBeat:
                Beat(body);
                return true;
            case FdfsCommand.StorageReportDiskUsage:
                _cluster.ReportDiskUsage(JoinedStorage(command), body);
                ReplyChangeNotification();
                return true;
            case FdfsCommand.StorageSyncReport:
                _cluster.SyncReport(JoinedStorage(command), body);
                ReplyChangeNotification();
                return true;
            case RecoveryProgressReport.Command:
                _cluster.ReportRecoveryProgress(RecoveryProgressReport.Parse(body), RemoteIp);
                ReplyEmpty();
                return true;
            case SpareStorageReport.Command:
            {
                var report = SpareStorageReport.Parse(body);
                string ip = report.AnnounceIp.Length == 0 ? RemoteIp : ValidAnnouncedAddress(report.AnnounceIp);
                var peers = _runtime.Peers;
                Reply(_cluster.ReportSpare(report, ip, decides: peers.IsLeader || peers.Others.Count == 0).ToArray());
                return true;
            }
            case StorePathHealthReport.Command:
                _cluster.ReportFailedPaths(JoinedStorage(command), StorePathHealthReport.Parse(body).Failed);
                ReplyEmpty();
                return true;
            case FdfsCommand.StorageChangelogReq:
            {
                StorageNode node;
                if (body.Length == 0)
                {
                    node = JoinedStorage(command);
                }
                else if (body.Length == ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize)
                {
                    node = _cluster.FindNode(ReadGroupName(body), FixedString.Read(body[ProtocolConstants.GroupNameMaxLen..]));
                }
                else
                {
                    throw new ProtocolException($"CHANGELOG_REQ body of {body.Length} bytes");
                }

                Reply(_cluster.ReadChangelog(node));
                return true;
            }
            case FdfsCommand.StorageReportIpChanged:
                ReportIpChanged(body);
                return true;
            case FdfsCommand.StorageSyncDestReq:
            {
                var node = JoinedStorage(command);
                ExpectLength(body, 0, command);
                RefuseSyncDestOnFollower();
                ReplySyncSource(_cluster.SyncDestRequest(node));
                return true;
            }
            case FdfsCommand.StorageSyncNotify:
            {
                var node = JoinedStorage(command);
                ExpectLength(body, SyncSourceBody.Size, command);
                var peers = _runtime.Peers;
                _cluster.SyncNotify(node, SyncSourceBody.Parse(body), decidesSources: peers.IsLeader || peers.Others.Count == 0);
                ReplyEmpty();
                return true;
            }
            case FdfsCommand.StorageSyncSrcReq:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize, command);
                ReplySyncSource(_cluster.SyncSourceRequest(
                    ReadGroupName(body), FixedString.Read(body[ProtocolConstants.GroupNameMaxLen..])));
                return true;
            case FdfsCommand.StorageSyncDestQuery:
            {
                var node = JoinedStorage(command);
                ExpectLength(body, 0, command);
                ReplySyncSource(_cluster.SyncDestQuery(node));
                return true;
            }
            case FdfsCommand.StorageReportStatus:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen + StorageBrief.Size, command);
                _cluster.ReportStatus(ReadGroupName(body), StorageBrief.Parse(body[ProtocolConstants.GroupNameMaxLen..]), RemoteIp);
                ReplyEmpty();
                return true;
            case FdfsCommand.StorageChangeStatus:
            {
                var node = JoinedStorage(command);
                ExpectLength(body, 1, command);
                _cluster.ChangeStatus(node, body[0]);
                ReplyEmpty();
                return true;
            }
            case FdfsCommand.StorageGetStatus:
            {
                var brief = FindStorageByHost(body);
                Reply(StorageBrief.Size, (span, _) => brief.Write(span));
                return true;
            }
            case FdfsCommand.StorageGetServerId:
                Reply(Encoding.ASCII.GetBytes(ServerIdOf(body)));
                return true;
            case FdfsCommand.StorageGetMyIp:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen + 1 + 4, command);
                Reply(Encoding.ASCII.GetBytes(RemoteIp));
                return true;
            case FdfsCommand.StorageGetGroupName:
                GetGroupName(body);
                return true;
            case FdfsCommand.StorageFetchTrunkFid:
            {
                var node = JoinedStorage(command);
                ExpectLength(body, 0, command);
                Span<byte> fid = stackalloc byte[TrunkFileIdBody.Size];
                new TrunkFileIdBody(_cluster.CurrentTrunkFileId(node)).Write(fid);
                Reply(fid);
                return true;
            }
            case FdfsCommand.StorageReportTrunkFid:
            {
                var node = JoinedStorage(command);
                _cluster.ReportTrunkFileId(node, TrunkFileIdBody.Parse(body).TrunkFileId);
                ReplyEmpty();
                return true;
            }
            case FdfsCommand.StorageReportTrunkFree:
            {
                var node = JoinedStorage(command);
                _cluster.ReportTrunkFree(node, TrunkFreeReport.Parse(body).FreeMb);
                ReplyEmpty();
                return true;
            }
            case FdfsCommand.StorageReplicaChange:
                // Only non-leaders would use it; the leader ignores it.
                JoinedStorage(command);
                ReplyEmpty();
                return true;
            default:
                return false;
        }
    }

    private StorageNode JoinedStorage(FdfsCommand command) =>
        _joined ?? throw new ProtocolException($"{command} before STORAGE_JOIN on this connection", Errno.EACCES);

    private void Join(ReadOnlySpan<byte> body)
    {
        var request = StorageJoinRequest.Parse(body);
        _runtime.Peers.Learn(request.Trackers, request.CurrentTrackerIp);
        var previous = _joined;
        // A storage behind NAT or in a container announces the address clients must use (announce_ip): a unicast address.
        string ip = string.IsNullOrEmpty(request.AnnounceIp) ? RemoteIp : ValidAnnouncedAddress(request.AnnounceIp);
        var response = _cluster.Join(request, ip, RemoteIp, this, out var node);
        if (response.Status == StorageStatus.Init)
        {
            _cluster.SkipOldChangelog(node);
        }

        if (previous is not null && previous != node)
        {
            _cluster.Logout(previous, this);
        }

        _joined = node;
        _leaderChangeSent = -1;
        Reply(StorageJoinResponse.Size, (span, _) => response.Write(span));
    }

    private static string ValidAnnouncedAddress(string announced)
    {
        if (!System.Net.IPAddress.TryParse(announced, out var address) || address.Equals(System.Net.IPAddress.Any) ||
            address.Equals(System.Net.IPAddress.IPv6Any) || address.Equals(System.Net.IPAddress.Broadcast) ||
            (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && address.GetAddressBytes()[0] >= 224) ||
            address.IsIPv6Multicast)
        {
            throw new ProtocolException($"JOIN announces '{announced}', not a unicast address", Errno.EINVAL);
        }

        return address.ToString();
    }

    private void Beat(ReadOnlySpan<byte> body)
    {
        var node = JoinedStorage(FdfsCommand.StorageBeat);
        StorageStatCounters? counters = body.Length switch
        {
            0 => null,
            StorageStatCounters.Size => StorageStatCounters.Parse(body),
            _ => throw new ProtocolException($"BEAT body of {body.Length} bytes"),
        };
        _cluster.Beat(node, counters);
        ReplyChangeNotification();
    }

    /// <summary>
    /// Only the leader sets flags (spec 6.10): flag 1 once per connection and again after every leader
    /// change, flag 4 when the group changed. A follower always answers the single byte 0.
    /// </summary>
    private void ReplyChangeNotification()
    {
        var peers = _runtime.Peers;
        var leader = peers.Leader;
        if (leader is null || leader != peers.Self)
        {
            Reply([0]);
            return;
        }

        StorageBrief? leaderBrief = null;
        long changes = peers.LeaderChanges;
        if (_leaderChangeSent != changes)
        {
            leaderBrief = new StorageBrief(StorageStatus.Init, leader.Port, leader.Ip, leader.Ip);
            _leaderChangeSent = changes;
        }

        var notification = _cluster.TakeChangeNotification(_joined!, leaderBrief);
        Reply(notification.Size, (span, _) => notification.Write(span));
    }

    /// <summary>
    /// The source and cut-off of a storage's initial copy are decided by the leader (beyond stock, where whichever
    /// tracker the storage reaches first decides). A follower that answered would set the storage WAIT_SYNC only in
    /// its own view: the leader, told by SYNC_NOTIFY, keeps a re-joined storage ONLINE, its beat makes it ACTIVE
    /// while it is still empty, and the sources, which follow the leader's group list, never push the old data
    /// (seen with a stock leader). EAGAIN makes the storage (stock or ours) ask again later; meanwhile its
    /// connection to the leader gets the answer, and this tracker learns it from SYNC_NOTIFY.
    /// </summary>
    private void RefuseSyncDestOnFollower()
    {
        var peers = _runtime.Peers;
        if (peers.Leader is { } leader && leader != peers.Self)
        {
            throw new ProtocolException($"SYNC_DEST_REQ on a follower: the leader {leader} decides", Errno.EAGAIN);
        }
    }

    private void ReplySyncSource(SyncSourceBody? source)
    {
        if (source is not { } body)
        {
            ReplyEmpty();
            return;
        }

        Reply(SyncSourceBody.Size, (span, _) => body.Write(span));
    }

    /// <summary>
    /// GET_STATUS / GET_SERVER_ID request: <c>group[16]</c> + <c>ip:port</c> text (6.16), or <c>group[16]</c> + <c>ip</c> (6.00 to
    /// 6.15, which know storages by address only), or the group alone (the caller's address): older storages ask this
    /// before a disk recovery, and looped for ever on EINVAL.
    /// </summary>
    private StorageBrief FindStorageByHost(ReadOnlySpan<byte> body)
    {
        if (body.Length < ProtocolConstants.GroupNameMaxLen)
        {
            throw new ProtocolException($"storage lookup body of {body.Length} bytes");
        }

        string group = ReadGroupName(body);
        string host = FixedString.ReadCString(body[ProtocolConstants.GroupNameMaxLen..]);
        string ip;
        int port = 0;
        int colon = host.LastIndexOf(':');
        bool bareIpv6 = host.Count(c => c == ':') > 1 && !host.StartsWith('[');
        if (host.Length == 0)
        {
            ip = RemoteIp;
        }
        else if (colon <= 0 || bareIpv6)
        {
            ip = host.Trim('[', ']');
        }
        else if (int.TryParse(host.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            ip = host[..colon].Trim('[', ']');
        }
        else
        {
            throw new ProtocolException($"storage lookup of malformed host '{host}'");
        }

        return _cluster.FindStorage(group, ip, port)
            ?? throw new ProtocolException($"no storage {host} in group {group}", Errno.ENOENT);
    }
}
