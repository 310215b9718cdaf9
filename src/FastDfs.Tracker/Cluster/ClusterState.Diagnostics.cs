using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// Why a storage is in its state and how far behind each peer it is (FastDFS.NET extension command 120),
/// so that a state that cannot progress is explained in <c>fdfs monitor</c> instead of silently stuck.
/// </summary>
internal sealed partial class ClusterState
{
    public StorageSyncStatus SyncStatus(string groupName)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
            var lags = new List<SyncLag>();
            foreach (var node in group.Storages)
            {
                if (ReasonFor(group, node) is { } reason)
                {
                    reasons[node.Id] = reason;
                }

                if (node.Status is StorageStatus.Deleted or StorageStatus.IpChanged)
                {
                    continue;
                }

                foreach (var source in group.Storages)
                {
                    if (source == node || source.Status is StorageStatus.Deleted or StorageStatus.IpChanged)
                    {
                        continue;
                    }

                    long synced = node.SyncedFrom.TryGetValue(source.Id, out int ts) ? ts : 0;
                    long sourceUpdate = source.Counters[StorageStatCounters.Counter.LastSourceUpdate];
                    long delay = sourceUpdate > 0 ? Math.Max(0, sourceUpdate - synced) : 0;
                    lags.Add(new SyncLag(node.Id, source.Id, synced, delay));
                }
            }

            return new StorageSyncStatus(reasons, lags)
            {
                Recoveries = group.Storages.Where(n => n.Status == StorageStatus.Recovery && n.Recovery is not null)
                    .ToDictionary(n => n.Id, n => n.Recovery!.Value, StringComparer.Ordinal),
                FailedPaths = group.Storages.Where(n => n.FailedPaths is not null)
                    .ToDictionary(n => n.Id, n => (IReadOnlyList<int>)[.. Enumerable.Range(0, n.FailedPaths!.Length).Where(n.HasFailedPath)],
                        StringComparer.Ordinal),
                Spares = Spares(),
                Draining = group.Storages.Where(n => n.DrainingSince > 0)
                    .ToDictionary(n => n.Id, n => DrainStateOf(group, n), StringComparer.Ordinal),
            };
        }
    }

    /// <summary>
    /// A draining storage looks done when every other ACTIVE member has applied its records up to its last change (the
    /// synced timestamps of the stock sync reports, whole seconds) after a heartbeat of its own that followed the drain.
    /// A first estimate: <c>fdfs monitor drain --wait</c> then compares the members' listings before it says drained.
    /// </summary>
    internal static DrainState DrainStateOf(StorageGroup group, StorageNode draining)
    {
        long lastChange = draining.Counters[StorageStatCounters.Counter.LastSourceUpdate];
        // Its counters come with its heartbeats: judged only from one that followed the drain, while it is ACTIVE.
        if (draining.Status != StorageStatus.Active || draining.LastHeartbeat <= draining.DrainingSince)
        {
            return new DrainState(draining.DrainingSince, [("(its own report since the drain)", 0)]);
        }

        var peers = group.Storages.Where(s => s != draining && s.Status == StorageStatus.Active).ToList();
        if (peers.Count == 0)
        {
            return new DrainState(draining.DrainingSince, [("(another ACTIVE member)", 0)]);
        }

        var behind = new List<(string, long)>();
        foreach (var peer in peers)
        {
            long synced = peer.SyncedFrom.TryGetValue(draining.Id, out int ts) ? ts : 0;
            if (lastChange > 0 && synced < lastChange)
            {
                behind.Add((peer.Id, lastChange - synced));
            }
        }

        return new DrainState(draining.DrainingSince, behind);
    }

    private static string? ReasonFor(StorageGroup group, StorageNode node)
    {
        var source = node.SrcId.Length > 0 ? group.Find(node.SrcId) : null;
        return node.Status switch
        {
            StorageStatus.Init when node.SyncDestRefused =>
                "waiting for an ACTIVE writable peer to copy the group's files from (SYNC_DEST_REQ answered ENOENT)",
            StorageStatus.Init => "joined; its old-data source is not assigned yet",
            StorageStatus.WaitSync or StorageStatus.Syncing when source is null =>
                "its sync source is gone; it will get a new one when a writable peer is ACTIVE",
            StorageStatus.WaitSync or StorageStatus.Syncing when source.Status != StorageStatus.Active =>
                $"waiting for its sync source {source.Id}, which is {source.Status.ToMonitorName()}",
            StorageStatus.WaitSync => $"waiting for {source!.Id} to start pushing the group's files",
            StorageStatus.Syncing => $"receiving the group's files from {source!.Id}",
            StorageStatus.Deleted when node.RetiredFor is { } spare => $"retired: the spare storage {spare} took its place",
            StorageStatus.Offline => "not connected to this tracker (stopped, unreachable, or heartbeat lost)",
            StorageStatus.Online => "joined; ACTIVE after its next heartbeat",
            StorageStatus.Recovery => node.Recovery is { } progress
                ? "recovering a replaced disk from its peers, " + progress.Describe()
                : "recovering a replaced disk from its peers",
            _ => null,
        };
    }
}
