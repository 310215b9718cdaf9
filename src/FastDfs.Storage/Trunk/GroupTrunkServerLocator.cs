using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Time;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Who allocates trunk space for our group, from what the leader tracker told us (spec 6.10, 13):
/// <list type="bullet">
/// <item>a trunk server announced with flag 2 is authoritative. Another member → <see cref="TrunkServerRole.Remote"/>.
/// Ourselves → <see cref="TrunkServerRole.Self"/>, but only under a lease: not before <see cref="TakeoverDelay"/> has
/// passed since we were named (a deposed trunk server may still be allocating until its lease runs out), and only
/// while the leader answered one of our heartbeats within <see cref="Lease"/> (a trunk server cut off from the leader
/// stops allocating before the leader can have named another). In between the role is Unknown and small uploads
/// become normal files: two members never allocate at the same time.</item>
/// <item>with none announced (a tracker that does not elect), a storage that is the only member of its group's
/// list is its own trunk server; otherwise, or before the first group list, the role is Unknown.</item>
/// </list>
/// </summary>
internal sealed class GroupTrunkServerLocator(StorageState ctx) : ITrunkServerLocator
{
    private readonly object _gate = new();
    private bool _namedSelf;
    private long _selfFromTicks;
    private long _lastLeaderContactTicks = long.MinValue / 2;
    private int _epoch;
    private bool _selfByOnlyMemberRule;
    private int _idsReadyEpoch = -1;

    /// <summary>How long a trunk server keeps allocating after the leader last answered it.</summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(Math.Max(2, 3 * Math.Max(1, ctx.Config.HeartBeatInterval)));

    /// <summary>How long a newly named trunk server waits before allocating: longer than the lease of the one before.</summary>
    public TimeSpan TakeoverDelay => Lease + TimeSpan.FromSeconds(1);

    /// <summary>Bumped each time the tracker names us trunk server: the free space is reloaded from the trunk binlog.</summary>
    public int Epoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

    /// <summary>True when the leader names us trunk server (whether or not the takeover delay has passed).</summary>
    public bool NamedSelf
    {
        get
        {
            Observe();
            lock (_gate)
            {
                return _namedSelf;
            }
        }
    }

    /// <summary>
    /// FETCH_TRUNK_FID and the first id reservation of term <paramref name="epoch"/> are done: allocation may start
    /// (a new trunk file needs an id above every id a previous trunk server may have used).
    /// </summary>
    public void IdsReady(int epoch)
    {
        lock (_gate)
        {
            _idsReadyEpoch = epoch;
        }
    }

    /// <summary>The leader answered a heartbeat of ours now.</summary>
    public void LeaderContact()
    {
        lock (_gate)
        {
            _lastLeaderContactTicks = ctx.Clock.Milliseconds();
        }
    }

    public TrunkServerRole Resolve()
    {
        if (ctx.Group.TrunkServer is not null)
        {
            if (!Observe())
            {
                return TrunkServerRole.Remote;
            }

            lock (_gate)
            {
                long now = ctx.Clock.Milliseconds();
                return now >= _selfFromTicks && now - _lastLeaderContactTicks <= (long)Lease.TotalMilliseconds && _idsReadyEpoch == _epoch
                    ? TrunkServerRole.Self
                    : TrunkServerRole.Unknown;
            }
        }

        Observe();
        bool self = IsOnlyMember();
        lock (_gate)
        {
            _selfByOnlyMemberRule = self;
        }

        return ctx.Group.Servers.Count == 0 ? TrunkServerRole.Unknown : self ? TrunkServerRole.Self : TrunkServerRole.Remote;
    }

    /// <summary>True when the group list holds no other live member: nobody else can be allocating.</summary>
    public bool IsOnlyMember()
    {
        var servers = ctx.Group.Servers;
        if (servers.Count == 0)
        {
            return false;
        }

        foreach (var brief in servers)
        {
            if (!IsSelf(brief) && brief.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Where slots freed here go: the announced trunk server, else by <see cref="Resolve"/>.</summary>
    public bool FreesRemotely => ctx.Group.TrunkServer is { } trunk ? !IsSelf(trunk) : Resolve() == TrunkServerRole.Remote;

    /// <summary>Tracks whether the announced trunk server is us; starts a new epoch when it becomes us.</summary>
    private bool Observe()
    {
        bool self = ctx.Group.TrunkServer is { } trunk && IsSelf(trunk);
        lock (_gate)
        {
            if (self && !_namedSelf)
            {
                // Already allocating as the only member: the same term goes on. Otherwise a new term: the free space
                // is reloaded, and with other members around we wait out the lease of whoever allocated before.
                if (!_selfByOnlyMemberRule)
                {
                    _epoch++;
                }
                else
                {
                    // The same term goes on: allocation does not pause; new trunk files wait for the first reservation.
                    _idsReadyEpoch = _epoch;
                }

                _selfFromTicks = _selfByOnlyMemberRule || IsOnlyMember() ? 0 : ctx.Clock.Milliseconds() + (long)TakeoverDelay.TotalMilliseconds;
            }

            if (!self && _namedSelf)
            {
                _selfByOnlyMemberRule = false;
            }

            _namedSelf = self;
            return self;
        }
    }

    private bool IsSelf(StorageBrief brief) =>
        (brief.IpAddr == ctx.SourceIp || brief.Id == ctx.SourceIp || (ctx.StorageId is { } id && brief.Id == id)) &&
        (brief.Port == ctx.Port || brief.Port == 0);
}
