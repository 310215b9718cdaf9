using System.Net;
using System.Net.NetworkInformation;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Time;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Peers;

/// <summary>What the leader knows about a follower from its JOIN_LEADER and pings (TRACKER_CLUSTER_STAT).</summary>
internal sealed record FollowerInfo(string Version, long UpTime, long LastPing, PingLeaderRequest Counts);

/// <summary>One line of TRACKER_CLUSTER_STAT (4.12) and of the monitor's tracker section.</summary>
internal sealed record TrackerClusterEntry(TrackerPeer Peer, bool IsLeader, bool IsActive, PingLeaderRequest Counts,
    string Version, long UpTime, long LastHeartbeat);

/// <summary>
/// The tracker cluster as this tracker sees it (spec 14): the trackers it learnt from storages' JOIN lists,
/// which one it is, and the leader. Guarded by one lock; network work happens in <see cref="LeaderRelationship"/>.
/// </summary>
internal sealed class TrackerPeers
{
    /// <summary>A follower counts as active in cluster stats when it pinged within this many seconds.</summary>
    public const int ActivePingSeconds = 3;

    private readonly Lock _lock = new();
    private readonly SortedSet<TrackerPeer> _known = [];
    private readonly Dictionary<TrackerPeer, FollowerInfo> _followers = [];
    private readonly HashSet<string> _localIps;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private TrackerPeer? _self;
    private TrackerPeer? _leader;
    private TrackerPeer? _nextLeader;
    private long _nextLeaderAt;
    private long _leaderChanges;

    /// <param name="configured">tracker.conf's <c>tracker_server</c> list (addresses resolved): the only peers when not empty.</param>
    public TrackerPeers(long startTime, long restartInterval, TimeProvider clock, ILogger logger, IReadOnlyCollection<TrackerPeer>? configured = null)
    {
        _clock = clock;
        StartTime = startTime;
        RestartInterval = restartInterval;
        _logger = logger;
        _localIps = LocalAddresses();
        _configured = configured is { Count: > 0 } ? [.. configured] : [];
    }

    /// <summary>Trackers learnt from JOIN lists when none are configured: stock's limit.</summary>
    public const int MaxLearnt = ProtocolConstants.MaxTrackers;

    private readonly HashSet<TrackerPeer> _configured;
    private readonly HashSet<TrackerPeer> _refusedLogged = [];

    /// <summary>Whether <paramref name="peer"/> may be a member of the tracker cluster (guarded by <see cref="_lock"/>).</summary>
    private bool MayJoinLocked(TrackerPeer peer)
    {
        if (_known.Contains(peer))
        {
            return true;
        }

        bool allowed = _configured.Count > 0 ? _configured.Contains(peer) : _known.Count < MaxLearnt;
        if (!allowed && _refusedLogged.Count < 64 && _refusedLogged.Add(peer))
        {
            _logger.LogWarning("tracker {Peer} ignored: {Why}", peer,
                _configured.Count > 0 ? "not in this tracker's tracker_server list" : $"already {MaxLearnt} trackers known");
        }

        return allowed;
    }

    /// <summary>Whether <paramref name="ip"/> is the address of a tracker of the cluster (or of this one).</summary>
    public bool IsPeerAddress(string ip)
    {
        lock (_lock)
        {
            return _known.Any(p => p.Ip == ip) || _configured.Any(p => p.Ip == ip) || _localIps.Contains(ip);
        }
    }

    /// <summary>Signalled when something the relationship loop acts on changed (new trackers, leader lost).</summary>
    public SemaphoreSlim Wake { get; } = new(0, int.MaxValue);

    /// <summary>This tracker's start (up_time of GET_STATUS / JOIN_LEADER).</summary>
    public long StartTime { get; }

    /// <summary>Seconds between the previous run's last status write and this start (0 for a first start).</summary>
    public long RestartInterval { get; }

    /// <summary>The port this tracker listens on; set once bound.</summary>
    public int ListenPort { get; set; }

    public TrackerPeer? Self
    {
        get
        {
            lock (_lock)
            {
                return _self;
            }
        }
    }

    public TrackerPeer? Leader
    {
        get
        {
            lock (_lock)
            {
                return _leader;
            }
        }
    }

    public bool IsLeader
    {
        get
        {
            lock (_lock)
            {
                return _leader is not null && _leader == _self;
            }
        }
    }

    /// <summary>Bumped at every leader change: each storage connection is told the leader again (flag 1).</summary>
    public long LeaderChanges => Interlocked.Read(ref _leaderChanges);

    public IReadOnlyList<TrackerPeer> Known
    {
        get
        {
            lock (_lock)
            {
                return [.. _known];
            }
        }
    }

    /// <summary>The other trackers.</summary>
    public IReadOnlyList<TrackerPeer> Others
    {
        get
        {
            lock (_lock)
            {
                return _known.Where(p => p != _self).ToList();
            }
        }
    }

    private static HashSet<string> LocalAddresses()
    {
        var set = new HashSet<string>(StringComparer.Ordinal) { "127.0.0.1", "::1", "localhost" };
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                {
                    set.Add(address.Address.ToString().Split('%')[0]);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Only loopback is then recognised as ourselves.
        }

        return set;
    }

    private bool IsSelf(TrackerPeer peer, string currentTrackerIp) =>
        peer.Port == ListenPort &&
        (_localIps.Contains(peer.Ip) || peer.Ip == currentTrackerIp ||
         (IPAddress.TryParse(peer.Ip, out var ip) && IPAddress.IsLoopback(ip)));

    /// <summary>
    /// A storage's JOIN tracker list (and the address it reached us at): the cluster membership. Returns
    /// true when a tracker was new.
    /// </summary>
    public bool Learn(IEnumerable<string> trackerLines, string currentTrackerIp)
    {
        bool changed = false;
        lock (_lock)
        {
            foreach (string line in trackerLines)
            {
                if (!TrackerPeer.TryParse(line, out var peer))
                {
                    continue;
                }

                if (_self is null && IsSelf(peer, currentTrackerIp))
                {
                    _self = peer;
                    _logger.LogInformation("this tracker is {Self} in the storages' tracker list", peer);
                }

                if (peer != _self && !MayJoinLocked(peer))
                {
                    continue;
                }

                if (_known.Add(peer))
                {
                    changed = true;
                    _logger.LogInformation("tracker {Peer} joined the tracker cluster ({Count} known)", peer, _known.Count);
                }
            }
        }

        if (changed)
        {
            Wake.Release();
        }

        return changed;
    }

    /// <summary>
    /// A tracker named by a peer command (NOTIFY/COMMIT_NEXT_LEADER, JOIN_LEADER): it must be a member already, configured
    /// or listed by a storage's JOIN; a stranger cannot make itself one this way. Null when it is not.
    /// </summary>
    public TrackerPeer? LearnPeer(TrackerPeer peer)
    {
        lock (_lock)
        {
            if (_known.Contains(peer) || _configured.Contains(peer))
            {
                _known.Add(peer);
                return peer;
            }

            if (_refusedLogged.Count < 64 && _refusedLogged.Add(peer))
            {
                _logger.LogWarning("tracker {Peer} ignored: no storage lists it and tracker_server does not name it", peer);
            }

            return null;
        }
    }

    /// <summary>This tracker's GET_STATUS answer; times rounded down to 300 s as stock does.</summary>
    public TrackerStatusReply LocalStatus(long now) =>
        new(IsLeader, (now - StartTime) / 300 * 300, RestartInterval / 300 * 300);

    public void SetLeader(TrackerPeer? leader, string reason)
    {
        lock (_lock)
        {
            if (_leader == leader)
            {
                return;
            }

            var old = _leader;
            _leader = leader;
            _nextLeader = null;
            Interlocked.Increment(ref _leaderChanges);
            if (leader is not null && leader == _self)
            {
                _followers.Clear();
                _logger.LogInformation("I am the new tracker leader {Self} ({Reason})", leader, reason);
            }
            else
            {
                _logger.LogInformation("tracker leader {Old} -> {New} ({Reason})", old?.ToString() ?? "none", leader?.ToString() ?? "none", reason);
            }
        }

        if (leader is null)
        {
            Wake.Release();
        }
    }

    /// <summary>NOTIFY_NEXT_LEADER (66); a leader told about another leader gives up and answers EINVAL.</summary>
    public byte NotifyNextLeader(TrackerPeer next)
    {
        bool stepDown;
        lock (_lock)
        {
            if (LearnPeer(next) is null)
            {
                return Errno.EPERM;
            }

            stepDown = _leader is not null && _leader == _self && next != _self;
            _nextLeader = next;
            _nextLeaderAt = _clock.Milliseconds();
        }

        if (stepDown)
        {
            SetLeader(null, $"{next} announced itself as the next leader");
            lock (_lock)
            {
                _nextLeader = next;
                _nextLeaderAt = _clock.Milliseconds();
            }

            return Errno.EINVAL;
        }

        return Errno.Ok;
    }

    /// <summary>A tracker was announced as next leader moments ago: wait for its commit instead of electing.</summary>
    public bool AwaitingCommit
    {
        get
        {
            lock (_lock)
            {
                return _nextLeader is not null && _clock.Milliseconds() - _nextLeaderAt < 3000;
            }
        }
    }

    /// <summary>COMMIT_NEXT_LEADER (67): must name the tracker notified before.</summary>
    public byte CommitNextLeader(TrackerPeer next)
    {
        lock (_lock)
        {
            if (_nextLeader != next)
            {
                return Errno.EINVAL;
            }
        }

        SetLeader(next, "committed by the new leader");
        return Errno.Ok;
    }

    public void RecordFollower(TrackerPeer follower, FollowerInfo info)
    {
        lock (_lock)
        {
            if (!_known.Contains(follower) && !_configured.Contains(follower))
            {
                return;
            }

            _known.Add(follower);
            _followers[follower] = info;
        }
    }

    public FollowerInfo? FollowerOf(TrackerPeer peer)
    {
        lock (_lock)
        {
            return _followers.GetValueOrDefault(peer);
        }
    }

    /// <summary>TRACKER_CLUSTER_STAT entries, computed by the leader.</summary>
    public List<TrackerClusterEntry> ClusterStat(long now, PingLeaderRequest ownCounts)
    {
        lock (_lock)
        {
            var list = new List<TrackerClusterEntry>();
            foreach (var peer in _known)
            {
                if (peer == _self)
                {
                    list.Add(new TrackerClusterEntry(peer, true, true, ownCounts, ProtocolConstants.Version, StartTime, now));
                    continue;
                }

                var info = _followers.GetValueOrDefault(peer);
                bool active = info is not null && now - info.LastPing <= ActivePingSeconds;
                list.Add(new TrackerClusterEntry(peer, false, active, info?.Counts ?? default, info?.Version ?? "",
                    info?.UpTime ?? 0, info?.LastPing ?? 0));
            }

            return list;
        }
    }
}
