using System.Buffers.Binary;

namespace FastDfs.Protocol.Messages;

/// <summary>REPORT_DISK_USAGE (84) request: per store path, total_mb i64be and free_mb i64be.</summary>
public static class DiskUsageReport
{
    public const int EntrySize = 16;

    public static byte[] Encode(IReadOnlyList<PathDiskUsage> paths)
    {
        var body = new byte[EntrySize * paths.Count];
        for (int i = 0; i < paths.Count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(EntrySize * i), paths[i].TotalMb);
            BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(EntrySize * i + 8), paths[i].FreeMb);
        }

        return body;
    }

    /// <exception cref="ProtocolException">Not exactly <paramref name="storePathCount"/> entries.</exception>
    public static PathDiskUsage[] Parse(ReadOnlySpan<byte> body, int storePathCount)
    {
        if (storePathCount < 0 || body.Length != EntrySize * (long)storePathCount)
        {
            throw new ProtocolException($"DISK_USAGE of {body.Length} bytes for {storePathCount} store paths");
        }

        var paths = new PathDiskUsage[storePathCount];
        for (int i = 0; i < paths.Length; i++)
        {
            paths[i] = new PathDiskUsage(BinaryPrimitives.ReadInt64BigEndian(body[(EntrySize * i)..]),
                BinaryPrimitives.ReadInt64BigEndian(body[(EntrySize * i + 8)..]));
        }

        return paths;
    }
}

/// <summary>One SYNC_REPORT entry: a group member and the last of its source timestamps this storage applied.</summary>
public readonly record struct SyncReportEntry(string SourceId, int Timestamp);

/// <summary>SYNC_REPORT (89) request: per member, storage_id[16] and timestamp i32be (spec 6.4).</summary>
public static class SyncReport
{
    public const int EntrySize = ProtocolConstants.StorageIdMaxSize + 4;

    public static byte[] Encode(IReadOnlyList<SyncReportEntry> entries)
    {
        var body = new byte[EntrySize * entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            FixedString.Write(body.AsSpan(i * EntrySize, ProtocolConstants.StorageIdMaxSize), entries[i].SourceId);
            BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(i * EntrySize + ProtocolConstants.StorageIdMaxSize), entries[i].Timestamp);
        }

        return body;
    }

    /// <exception cref="ProtocolException">Not a whole number of entries.</exception>
    public static List<SyncReportEntry> Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length % EntrySize != 0)
        {
            throw new ProtocolException($"SYNC_REPORT of {body.Length} bytes");
        }

        var entries = new List<SyncReportEntry>(body.Length / EntrySize);
        for (int o = 0; o < body.Length; o += EntrySize)
        {
            entries.Add(new SyncReportEntry(FixedString.Read(body.Slice(o, ProtocolConstants.StorageIdMaxSize)),
                BinaryPrimitives.ReadInt32BigEndian(body[(o + ProtocolConstants.StorageIdMaxSize)..])));
        }

        return entries;
    }
}
