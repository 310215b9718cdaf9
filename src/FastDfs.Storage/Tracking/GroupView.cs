using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tracking;

/// <summary>
/// What the trackers told us about our group (spec 6.10): the leader, the trunk server and the peer list
/// with statuses. Kept for the replication threads of a later stage and for our own status in JOIN.
/// </summary>
internal sealed class GroupView
{
    private readonly object _gate = new();
    private IReadOnlyList<StorageBrief> _servers = [];

    public StorageBrief? Leader { get; private set; }
    public StorageBrief? TrunkServer { get; private set; }

    public IReadOnlyList<StorageBrief> Servers
    {
        get
        {
            lock (_gate)
            {
                return _servers;
            }
        }
    }

    public void Apply(ChangeNotification change)
    {
        lock (_gate)
        {
            if (change.Flags.HasFlag(ChangeFlags.TrackerLeader))
            {
                Leader = change.Leader;
            }

            if (change.Flags.HasFlag(ChangeFlags.TrunkServer))
            {
                TrunkServer = change.TrunkServer is { Id.Length: > 0 } or { IpAddr.Length: > 0 } ? change.TrunkServer : null;
            }

            if (change.Flags.HasFlag(ChangeFlags.GroupServers))
            {
                _servers = change.GroupServers.ToArray();
            }
        }
    }

    /// <summary>Our own status in the leader's group list, if we are in it.</summary>
    public StorageStatus? StatusOf(string id, string ip, int port)
    {
        foreach (var brief in Servers)
        {
            if ((brief.Id == id || brief.IpAddr == ip) && (brief.Port == port || brief.Port == 0))
            {
                return brief.Status;
            }
        }

        return null;
    }
}
