using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// One storage record as the tracker keeps it. Mutated only under <see cref="ClusterState"/>'s lock.
/// </summary>
internal sealed class StorageNode(string id, StorageGroup group)
{
    /// <summary>Read and write permission bits (R_OK=4 | W_OK=2); always both without storage ids.</summary>
    public const byte RwBoth = 6;

    public string Id { get; } = id;
    public StorageGroup Group { get; } = group;
    public string Ip { get; set; } = "";

    /// <summary>
    /// The address the storage's JOINs come from (its connection's remote address; differs from <see cref="Ip"/> when it
    /// announces another one). In memory only: a join announcing this storage's address from elsewhere is refused while
    /// it is known (a stranger taking a member's place).
    /// </summary>
    public string JoinedFrom { get; set; } = "";
    public int Port { get; set; }
    public StorageStatus Status { get; set; } = StorageStatus.Init;
    public byte RwMode { get; set; } = RwBoth;
    public bool CanRead => (RwMode & 4) != 0;
    public bool CanWrite => (RwMode & 2) != 0;

    /// <summary>Unix seconds since the storage drains (DRAIN_STORAGE, FastDFS.NET): no upload is sent to it; 0 when it does not.</summary>
    public long DrainingSince { get; set; }
    public string SrcId { get; set; } = "";
    public long SyncUntil { get; set; }
    public string Version { get; set; } = "";
    public long JoinTime { get; set; }
    public long UpTime { get; set; }
    public long UploadPriority { get; set; }
    public int StorePathCount { get; set; }

    /// <summary>The last RECOVERY_PROGRESS of a disk recovery this storage runs (shown while it is in RECOVERY).</summary>
    public RecoveryProgress? Recovery { get; set; }

    /// <summary>The spare storage (ip:port) that was given this member's place when it was retired, or null (in memory only).</summary>
    public string? RetiredFor { get; set; }

    /// <summary>The store paths whose disk failed, as the storage reported them (STORE_PATH_HEALTH); null when all work.</summary>
    public bool[]? FailedPaths { get; set; }

    /// <summary>Whether store path <paramref name="index"/> of this storage is out of service.</summary>
    public bool HasFailedPath(int index) => FailedPaths is { } failed && index >= 0 && index < failed.Length && failed[index];
    public int SubdirCount { get; set; }
    public int CurrentWritePath { get; set; }
    public long[] PathTotalMb { get; set; } = [];
    public long[] PathFreeMb { get; set; } = [];
    public long TotalMb { get; set; }
    public long FreeMb { get; set; }
    public StorageStatCounters Counters { get; } = new();
    public long LastHeartbeat { get; set; }
    public long LastSyncedTimestamp { get; set; }
    public bool IsTrunkServer { get; set; }

    /// <summary>How far this storage has read storage_changelog.dat (CHANGELOG_REQ).</summary>
    public long ChangelogOffset { get; set; }

    /// <summary>
    /// Its last JOIN had init_flag = 1: the storage holds no data yet (new, or restarted on an empty directory).
    /// </summary>
    public bool JoinedWithoutData { get; set; }

    /// <summary>Its last SYNC_DEST_REQ found no ACTIVE writable peer (the reason a new storage stays INIT).</summary>
    public bool SyncDestRefused { get; set; }

    /// <summary>The group membership version this storage last received with flag 4 (-1 = never).</summary>
    public long NotifiedGroupVersion { get; set; } = -1;

    /// <summary>The trunk server id this storage last received with flag 2 (null = never).</summary>
    public string? NotifiedTrunkServer { get; set; }

    /// <summary>The tracker connection this storage joined on (null when none); only that one may log it out.</summary>
    public object? Connection { get; set; }

    /// <summary>Largest source timestamp this storage reported for each peer (spec 11.5 matrix column).</summary>
    public Dictionary<string, int> SyncedFrom { get; } = new(StringComparer.Ordinal);

    public StorageBrief ToBrief() => new(Status, Port, Id, Ip);

    /// <summary>Forgets everything a deleted storage had (spec 4.8).</summary>
    public void ClearForDelete()
    {
        DrainingSince = 0;
        SrcId = "";
        SyncUntil = 0;
        UpTime = 0;
        TotalMb = FreeMb = 0;
        Array.Clear(PathTotalMb);
        Array.Clear(PathFreeMb);
        Counters.CopyFrom(new StorageStatCounters());
        LastSyncedTimestamp = 0;
        SyncedFrom.Clear();
    }
}
