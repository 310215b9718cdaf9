namespace FastDfs.Protocol.Messages;

/// <summary>
/// SERVER_TRACKER_CLUSTER_STAT (96) request (spec 4.12): filter_by (1 = by is_active, 2 = by is_leader), is_active,
/// is_leader. A null criterion is not filtered on.
/// </summary>
public readonly record struct TrackerClusterStatRequest(bool? IsActive = null, bool? IsLeader = null)
{
    public const FdfsCommand Command = FdfsCommand.ServerTrackerClusterStat;

    public byte[] ToArray() =>
    [
        (byte)((IsActive is null ? 0 : 1) | (IsLeader is null ? 0 : 2)),
        IsActive == true ? (byte)1 : (byte)0,
        IsLeader == true ? (byte)1 : (byte)0,
    ];
}

/// <summary>One tracker of a TRACKER_CLUSTER_STAT reply, as the leader sees it.</summary>
/// <param name="Host">ip:port</param>
/// <param name="UpTime">Unix seconds the tracker started</param>
/// <param name="LastHeartbeatTime">Unix seconds of the tracker's last ping to the leader (0 for the leader itself)</param>
public sealed record TrackerClusterStatEntry(
    string Host, bool IsLeader, bool IsActive, int AllocCount, int CurrentCount, int MaxCount, string Version, long UpTime, long LastHeartbeatTime)
{
    public const int Size = ProtocolConstants.MaxIpPortSize + 2 + 12 + ProtocolConstants.VersionSize + 16;

    /// <summary>Parses the reply: a one-byte count, then that many entries.</summary>
    public static List<TrackerClusterStatEntry> ParseList(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || body.Length != 1 + (body[0] * Size))
        {
            throw new ProtocolException($"TRACKER_CLUSTER_STAT reply of {body.Length} bytes");
        }

        var r = new SpanReader(body[1..]);
        var list = new List<TrackerClusterStatEntry>(body[0]);
        for (int i = 0; i < body[0]; i++)
        {
            list.Add(new TrackerClusterStatEntry(
                r.ReadFixed(ProtocolConstants.MaxIpPortSize), r.ReadByte() != 0, r.ReadByte() != 0,
                r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadFixed(ProtocolConstants.VersionSize), r.ReadInt64(), r.ReadInt64()));
        }

        return list;
    }
}

/// <summary>
/// SERVER_STORAGE_CLUSTER_STAT (97) request (spec 4.13): filter_by (1 = by is_trunk_server, 2 = by status), op_type
/// (<c>=</c> or <c>!</c> against <see cref="Status"/>), status, is_trunk_server. A null criterion is not filtered on.
/// </summary>
public readonly record struct StorageClusterStatRequest(StorageStatus? Status = null, bool StatusEquals = true, bool? IsTrunkServer = null)
{
    public const FdfsCommand Command = FdfsCommand.ServerStorageClusterStat;

    public byte[] ToArray() =>
    [
        (byte)((IsTrunkServer is null ? 0 : 1) | (Status is null ? 0 : 2)),
        Status is null ? (byte)0 : StatusEquals ? (byte)'=' : (byte)'!',
        (byte)(Status ?? 0),
        IsTrunkServer == true ? (byte)1 : (byte)0,
    ];
}

/// <summary>One storage of a STORAGE_CLUSTER_STAT reply.</summary>
/// <param name="Host">ip:port</param>
public sealed record StorageClusterStatEntry(
    string Id, string Host, bool IsTrunkServer, StorageStatus Status, int AllocCount, int CurrentCount, int MaxCount, string Version,
    long UpTime, long LastHeartbeatTime)
{
    public const int Size = ProtocolConstants.StorageIdMaxSize + ProtocolConstants.MaxIpPortSize + 2 + 12 + ProtocolConstants.VersionSize + 16;
}

/// <summary>A STORAGE_CLUSTER_STAT reply: the tracker's use_storage_id and use_trunk_file, and every storage it knows.</summary>
public sealed record StorageClusterStat(bool UseStorageId, bool UseTrunkFile, IReadOnlyList<StorageClusterStatEntry> Storages)
{
    private const int HeaderSize = 6;

    public static StorageClusterStat Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        bool useStorageId = r.ReadByte() != 0, useTrunkFile = r.ReadByte() != 0;
        int count = r.ReadInt32();
        if (count < 0 || body.Length != HeaderSize + ((long)count * StorageClusterStatEntry.Size))
        {
            throw new ProtocolException($"STORAGE_CLUSTER_STAT reply of {body.Length} bytes for {count} storages");
        }

        var storages = new List<StorageClusterStatEntry>(count);
        for (int i = 0; i < count; i++)
        {
            storages.Add(new StorageClusterStatEntry(
                r.ReadFixed(ProtocolConstants.StorageIdMaxSize), r.ReadFixed(ProtocolConstants.MaxIpPortSize), r.ReadByte() != 0,
                (StorageStatus)r.ReadByte(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadFixed(ProtocolConstants.VersionSize),
                r.ReadInt64(), r.ReadInt64()));
        }

        return new StorageClusterStat(useStorageId, useTrunkFile, storages);
    }
}

/// <summary>
/// SERVER_STORAGE_VOLUMN_STAT (98) request (spec 4.14): filter_by (1 = by disk space, 2 = by trunk space, 4 = by
/// either), then the three wanted values. A null criterion is not filtered on.
/// </summary>
public readonly record struct VolumeStatRequest(bool? DiskAvailable = null, bool? TrunkAvailable = null, bool? SpaceAvailable = null)
{
    public const FdfsCommand Command = FdfsCommand.ServerStorageVolumeStat;

    public byte[] ToArray() =>
    [
        (byte)((DiskAvailable is null ? 0 : 1) | (TrunkAvailable is null ? 0 : 2) | (SpaceAvailable is null ? 0 : 4)),
        DiskAvailable == true ? (byte)1 : (byte)0,
        TrunkAvailable == true ? (byte)1 : (byte)0,
        SpaceAvailable == true ? (byte)1 : (byte)0,
    ];
}

/// <summary>One group (volume) of a STORAGE_VOLUMN_STAT reply; sizes in MB.</summary>
/// <param name="AvailMb">free space above the reserved space that uploads may use</param>
public sealed record VolumeStatEntry(
    string GroupName, long TotalMb, long FreeMb, long ReservedMb, long AvailMb, long TrunkFreeMb, bool IsDiskAvailable, bool IsTrunkAvailable)
{
    public const int Size = ProtocolConstants.GroupNameMaxLen + 1 + (5 * 8) + 2;
}

/// <summary>A STORAGE_VOLUMN_STAT reply: the tracker's use_trunk_file and the space of every group.</summary>
public sealed record VolumeStat(bool UseTrunkFile, IReadOnlyList<VolumeStatEntry> Groups)
{
    private const int HeaderSize = 5;

    public static VolumeStat Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        bool useTrunkFile = r.ReadByte() != 0;
        int count = r.ReadInt32();
        if (count < 0 || body.Length != HeaderSize + ((long)count * VolumeStatEntry.Size))
        {
            throw new ProtocolException($"STORAGE_VOLUMN_STAT reply of {body.Length} bytes for {count} groups");
        }

        var groups = new List<VolumeStatEntry>(count);
        for (int i = 0; i < count; i++)
        {
            groups.Add(new VolumeStatEntry(
                r.ReadFixed(ProtocolConstants.GroupNameMaxLen + 1), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(),
                r.ReadByte() != 0, r.ReadByte() != 0));
        }

        return new VolumeStat(useTrunkFile, groups);
    }
}
