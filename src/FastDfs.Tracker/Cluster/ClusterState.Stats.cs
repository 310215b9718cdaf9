using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>One storage line of SERVER_STORAGE_CLUSTER_STAT (4.13).</summary>
internal sealed record StorageClusterEntry(
    string Id, string Host, bool IsTrunkServer, StorageStatus Status, int AllocCount, int CurrentCount, int MaxCount,
    string Version, long UpTime, long LastHeartbeat);

/// <summary>One group line of SERVER_STORAGE_VOLUMN_STAT (4.14).</summary>
internal sealed record VolumeEntry(string Group, long TotalMb, long FreeMb, long ReservedMb, bool DiskAvailable);

/// <summary>Monitoring snapshots (spec 4.5-4.7, 4.13, 4.14).</summary>
internal sealed partial class ClusterState
{
    public List<GroupStat> ListGroups(string? name = null)
    {
        lock (_lock)
        {
            if (name is not null)
            {
                var group = FindGroup(name) ?? throw new ProtocolException($"unknown group {name}", Errno.ENOENT);
                return [ToGroupStat(group)];
            }

            return _groups.Select(ToGroupStat).ToList();
        }
    }

    private GroupStat ToGroupStat(StorageGroup g) => new()
    {
        GroupName = g.Name,
        TotalMb = g.TotalMb,
        FreeMb = g.FreeMb,
        ReservedMb = Config.ReservedStorageSpace.ReservedMb(g.TotalMb),
        TrunkFreeMb = Config.UseTrunkFile ? g.TrunkFreeMb : 0,
        StorageCount = g.Storages.Count,
        StoragePort = g.StoragePort,
        ReadableServerCount = g.Readable.Count,
        WritableServerCount = g.Writable.Count,
        CurrentWriteServer = g.CurrentWriteServer,
        StorePathCount = g.StorePathCount,
        SubdirCountPerPath = g.SubdirCount,
        CurrentTrunkFileId = Config.UseTrunkFile ? g.CurrentTrunkFileId : -1,
    };

    /// <summary>LIST_STORAGE (4.7): every record of the group in id order, or the one with <paramref name="id"/>.</summary>
    public List<StorageStat> ListStorages(string groupName, string? id)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var list = group.Storages.Where(s => id is null || s.Id == id).Select(ToStorageStat).ToList();
            if (list.Count == 0 && id is not null)
            {
                throw new ProtocolException($"unknown storage {groupName}/{id}", Errno.ENOENT);
            }

            return list;
        }
    }

    private StorageStat ToStorageStat(StorageNode s)
    {
        var counters = new StorageStatCounters();
        counters.CopyFrom(s.Counters);
        // The tracker's own bookkeeping, not what the storage sent.
        counters[StorageStatCounters.Counter.LastSyncedTimestamp] = s.LastSyncedTimestamp;
        counters[StorageStatCounters.Counter.LastHeartBeatTime] = s.LastHeartbeat;
        return new StorageStat
        {
            Status = s.Status,
            RwMode = s.RwMode,
            Id = s.Id,
            IpAddr = s.Ip,
            SrcId = s.SrcId,
            Version = s.Version,
            JoinTime = s.JoinTime,
            UpTime = s.UpTime,
            TotalMb = s.TotalMb,
            FreeMb = s.FreeMb,
            ReservedMb = Config.ReservedStorageSpace.ReservedMb(s.TotalMb),
            UploadPriority = s.UploadPriority,
            StorePathCount = s.StorePathCount,
            SubdirCountPerPath = s.SubdirCount,
            CurrentWritePath = s.CurrentWritePath,
            StoragePort = s.Port,
            Counters = counters,
            IsTrunkServer = s.IsTrunkServer,
        };
    }

    /// <summary>SERVER_STORAGE_CLUSTER_STAT (4.13): group by group, storages by id.</summary>
    public List<StorageClusterEntry> StorageClusterStat(Func<StorageNode, bool> filter)
    {
        lock (_lock)
        {
            return _groups.SelectMany(g => g.Storages).Where(filter).Select(s => new StorageClusterEntry(
                s.Id, $"{s.Ip}:{s.Port}", s.IsTrunkServer, s.Status, s.Counters.ConnectionAllocCount,
                s.Counters.ConnectionCurrentCount, s.Counters.ConnectionMaxCount, s.Version, s.UpTime,
                s.LastHeartbeat)).ToList();
        }
    }

    /// <summary>SERVER_STORAGE_VOLUMN_STAT (4.14): one entry per group.</summary>
    public List<VolumeEntry> VolumeStat()
    {
        lock (_lock)
        {
            return _groups.Select(g => new VolumeEntry(
                g.Name, g.TotalMb, g.FreeMb, Config.ReservedStorageSpace.ReservedMb(g.TotalMb),
                Config.ReservedStorageSpace.GroupHasSpace(g.FreeMb, g.TotalMb))).ToList();
        }
    }
}
