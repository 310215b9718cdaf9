using FastDfs.Protocol;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Cluster;

/// <summary>Address changes without storage ids and storage_changelog.dat reads (spec 6.5, 6.9, 14.3).</summary>
internal sealed partial class ClusterState
{
    /// <summary>
    /// REPORT_IP_CHANGED (78), as stock: without storage ids a storage's id is its IP, so the record of the old
    /// address is superseded (IP_CHANGED, logged in the changelog for the peers to rename their mark files)
    /// and a record under the new address takes over its state.
    /// </summary>
    public void ReportIpChanged(string groupName, string oldIp, string newIp)
    {
        if (StorageIds is not null)
        {
            // With ids the identity does not depend on the address: the re-join updates it.
            return;
        }

        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var old = group.Storages.Find(s => s.Ip == oldIp && s.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged))
                ?? throw new ProtocolException($"no storage {oldIp} in {groupName}", Errno.ENOENT);
            if (group.Find(newIp) is { Status: not (StorageStatus.Deleted or StorageStatus.IpChanged) })
            {
                throw new ProtocolException($"storage {newIp} already exists in {groupName}", Errno.EEXIST);
            }

            var fresh = group.Find(newIp) ?? group.Add(newIp);
            fresh.Ip = newIp;
            fresh.Port = old.Port;
            fresh.Status = old.Status;
            fresh.Version = old.Version;
            fresh.JoinTime = old.JoinTime;
            fresh.SrcId = old.SrcId;
            fresh.SyncUntil = old.SyncUntil;
            fresh.StorePathCount = old.StorePathCount;
            fresh.SubdirCount = old.SubdirCount;
            fresh.PathTotalMb = new long[old.StorePathCount];
            fresh.PathFreeMb = new long[old.StorePathCount];
            fresh.UploadPriority = old.UploadPriority;
            fresh.ChangelogOffset = old.ChangelogOffset;
            fresh.Counters.CopyFrom(old.Counters);
            fresh.DrainingSince = old.DrainingSince; // a new address does not end a drain
            old.Connection = null;
            logger.LogInformation("storage {Group}/{Old} changed its address to {New}", groupName, oldIp, newIp);
            SetStatus(old, StorageStatus.IpChanged);
            DataStore?.AppendChangelog(groupName, old.Id, StorageStatus.IpChanged, newIp);
        }
    }

    /// <summary>A storage that is new (INIT) at its join never sees older changelog entries.</summary>
    public void SkipOldChangelog(StorageNode node)
    {
        long end = DataStore?.ChangelogLength ?? 0;
        lock (_lock)
        {
            node.ChangelogOffset = end;
            StateChanged();
        }
    }

    /// <summary>CHANGELOG_REQ (77): the next chunk for this storage; its offset advances.</summary>
    public byte[] ReadChangelog(StorageNode node)
    {
        if (DataStore is null)
        {
            return [];
        }

        long offset;
        lock (_lock)
        {
            offset = node.ChangelogOffset;
        }

        var chunk = DataStore.ReadChangelog(offset);
        if (chunk.Length > 0)
        {
            lock (_lock)
            {
                node.ChangelogOffset = offset + chunk.Length;
                StateChanged();
            }
        }

        return chunk;
    }

    /// <summary>CHANGELOG_REQ from a connection that did not join: the storage named in the body.</summary>
    public StorageNode FindNode(string groupName, string id)
    {
        lock (_lock)
        {
            return FindGroup(groupName)?.Find(id) ?? throw new ProtocolException($"unknown storage {groupName}/{id}", Errno.ENOENT);
        }
    }
}
