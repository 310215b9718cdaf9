using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Peers;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// What only the leader decides, and how followers take it over (spec 14.1). The trunk server of each
/// group is the leader's choice: it reaches followers in PING_LEADER replies and storages through flag 2.
/// The trunk issue plugs its selection into <see cref="SetTrunkServer"/> (called on the leader only).
/// </summary>
internal sealed partial class ClusterState
{
    private long _trunkVersion;

    /// <summary>Bumped whenever a group's trunk server changes: followers get the list again on their next ping.</summary>
    public long TrunkVersion => Interlocked.Read(ref _trunkVersion);

    /// <summary>Every group (sorted) with its trunk server id (empty = none): the PING_LEADER reply.</summary>
    public List<GroupTrunkServer> TrunkServers()
    {
        lock (_lock)
        {
            return _groups.Select(g => new GroupTrunkServer(g.Name, g.TrunkServerId)).ToList();
        }
    }

    /// <summary>The leader's decision for one group (the trunk-server election hook).</summary>
    public void SetTrunkServer(string groupName, string storageId)
    {
        lock (_lock)
        {
            if (FindGroup(groupName) is not { } group || group.TrunkServerId == storageId)
            {
                return;
            }

            ApplyTrunkServer(group, storageId);
        }
    }

    /// <summary>A follower takes the trunk servers from the leader's PING_LEADER reply.</summary>
    public void ApplyLeaderTrunkServers(IReadOnlyList<GroupTrunkServer> servers)
    {
        lock (_lock)
        {
            foreach (var entry in servers)
            {
                if (FindGroup(entry.Group) is { } group && group.TrunkServerId != entry.TrunkServerId)
                {
                    ApplyTrunkServer(group, entry.TrunkServerId);
                }
            }
        }
    }

    private void ApplyTrunkServer(StorageGroup group, string storageId)
    {
        if (group.TrunkServerId.Length > 0)
        {
            group.LastTrunkServerId = group.TrunkServerId;
        }

        group.TrunkServerId = storageId;
        foreach (var node in group.Storages)
        {
            node.IsTrunkServer = node.Id == storageId && storageId.Length > 0;
        }

        Interlocked.Increment(ref _trunkVersion);
        StateChanged();
    }

    /// <summary>A tracker that becomes leader sends every storage the group list again (flag 4).</summary>
    public void ForgetNotifications()
    {
        lock (_lock)
        {
            foreach (var node in _groups.SelectMany(g => g.Storages))
            {
                node.NotifiedGroupVersion = -1;
                node.NotifiedTrunkServer = null;
            }
        }
    }
}
