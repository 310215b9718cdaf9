using FastDfs.Protocol;

namespace FastDfs.Tracker.Cluster;

/// <summary>A group and its storages (sorted by id). Mutated only under <see cref="ClusterState"/>'s lock.</summary>
internal sealed class StorageGroup(string name, int storagePort, int storePathCount, int subdirCount)
{
    public string Name { get; } = name;
    public int StoragePort { get; set; } = storagePort;
    public int StorePathCount { get; set; } = storePathCount;
    public int SubdirCount { get; set; } = subdirCount;

    /// <summary>Every record, any status, in byte-wise id order.</summary>
    public List<StorageNode> Storages { get; } = [];

    /// <summary>ACTIVE storages with read permission, id order.</summary>
    public List<StorageNode> Readable { get; } = [];

    /// <summary>ACTIVE storages with write permission, id order.</summary>
    public List<StorageNode> Writable { get; } = [];

    /// <summary>store_lookup 3: this group's running credit in the smooth weighted round robin.</summary>
    public double UploadCredit { get; set; }

    public int CurrentWriteServer { get; set; }
    public int CurrentReadServer { get; set; }
    public long TotalMb { get; set; }
    public long FreeMb { get; set; }

    /// <summary>Trunk bookkeeping kept in storage_groups_new.dat; the leader decides the trunk server.</summary>
    public int CurrentTrunkFileId { get; set; }

    /// <summary>Free trunk space in MB as last reported by the trunk server (REPORT_TRUNK_FREE).</summary>
    public long TrunkFreeMb { get; set; }

    public string TrunkServerId { get; set; } = "";

    public string LastTrunkServerId { get; set; } = "";

    /// <summary>Bumped on every membership or status change; drives change-notification flag 4.</summary>
    public long Version { get; private set; }

    public StorageNode? Find(string id) => Storages.Find(s => s.Id == id);

    public StorageNode Add(string id)
    {
        var node = new StorageNode(id, this);
        int index = Storages.FindIndex(s => string.CompareOrdinal(s.Id, id) > 0);
        Storages.Insert(index < 0 ? Storages.Count : index, node);
        return node;
    }

    /// <summary>Rebuilds the readable/writable lists and the group totals after a status or disk change.</summary>
    public void Changed()
    {
        Version++;
        Readable.Clear();
        Writable.Clear();
        foreach (var s in Storages)
        {
            if (s.Status != StorageStatus.Active)
            {
                continue;
            }

            if (s.CanRead)
            {
                Readable.Add(s);
            }

            if (s.CanWrite && s.DrainingSince == 0)
            {
                Writable.Add(s);
            }
        }

        RecomputeSpace();
    }

    /// <summary>
    /// Group space = the writable storage with the least free MB (spec 2.1); without writable
    /// storages, the least-free storage that has reported disk usage.
    /// </summary>
    public void RecomputeSpace()
    {
        IEnumerable<StorageNode> candidates = Writable.Count > 0 ? Writable : Storages.Where(s => s.TotalMb > 0);
        StorageNode? least = null;
        foreach (var s in candidates)
        {
            if (least is null || s.FreeMb < least.FreeMb)
            {
                least = s;
            }
        }

        TotalMb = least?.TotalMb ?? 0;
        FreeMb = least?.FreeMb ?? 0;
    }
}
