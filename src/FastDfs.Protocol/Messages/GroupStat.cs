namespace FastDfs.Protocol.Messages;

/// <summary>TrackerGroupStat, 113 bytes (spec 2.1), returned by LIST_ONE_GROUP / LIST_ALL_GROUPS.</summary>
public sealed record GroupStat
{
    public const int Size = ProtocolConstants.GroupStatSize;

    public required string GroupName { get; init; }
    public long TotalMb { get; init; }
    public long FreeMb { get; init; }
    public long ReservedMb { get; init; }
    public long TrunkFreeMb { get; init; }
    public long StorageCount { get; init; }
    public long StoragePort { get; init; }
    public long ReadableServerCount { get; init; }
    public long WritableServerCount { get; init; }
    public long CurrentWriteServer { get; init; }
    public long StorePathCount { get; init; }
    public long SubdirCountPerPath { get; init; }
    public long CurrentTrunkFileId { get; init; } = -1;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(GroupName, ProtocolConstants.GroupNameMaxLen + 1);
        w.WriteInt64(TotalMb);
        w.WriteInt64(FreeMb);
        w.WriteInt64(ReservedMb);
        w.WriteInt64(TrunkFreeMb);
        w.WriteInt64(StorageCount);
        w.WriteInt64(StoragePort);
        w.WriteInt64(ReadableServerCount);
        w.WriteInt64(WritableServerCount);
        w.WriteInt64(CurrentWriteServer);
        w.WriteInt64(StorePathCount);
        w.WriteInt64(SubdirCountPerPath);
        w.WriteInt64(CurrentTrunkFileId);
    }

    public static GroupStat Parse(ReadOnlySpan<byte> record)
    {
        var r = new SpanReader(record);
        return new GroupStat
        {
            GroupName = r.ReadFixed(ProtocolConstants.GroupNameMaxLen + 1),
            TotalMb = r.ReadInt64(),
            FreeMb = r.ReadInt64(),
            ReservedMb = r.ReadInt64(),
            TrunkFreeMb = r.ReadInt64(),
            StorageCount = r.ReadInt64(),
            StoragePort = r.ReadInt64(),
            ReadableServerCount = r.ReadInt64(),
            WritableServerCount = r.ReadInt64(),
            CurrentWriteServer = r.ReadInt64(),
            StorePathCount = r.ReadInt64(),
            SubdirCountPerPath = r.ReadInt64(),
            CurrentTrunkFileId = r.ReadInt64(),
        };
    }

    public static List<GroupStat> ParseList(ReadOnlySpan<byte> body)
    {
        if (body.Length % Size != 0)
        {
            throw new ProtocolException($"group list of {body.Length} bytes is not a multiple of {Size}");
        }

        var list = new List<GroupStat>();
        for (int o = 0; o < body.Length; o += Size)
        {
            list.Add(Parse(body.Slice(o, Size)));
        }

        return list;
    }
}
