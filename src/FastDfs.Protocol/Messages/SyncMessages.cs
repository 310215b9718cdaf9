using System.Buffers.Binary;

namespace FastDfs.Protocol.Messages;

// The storage-to-storage SYNC_* requests (spec 7): a fixed part, then the name(s), then (for files and ranges) the
// bytes. The receiver reads the fixed part first (it says how long the rest is), so each message is a fixed part
// with its encoder of fixed part + names. Timestamps are the source's, unsigned 32-bit seconds.

/// <summary>SYNC_CREATE_FILE (16) / SYNC_UPDATE_FILE (18): name_len i64, file_size i64, timestamp u32, group[16]; name, content.</summary>
public readonly record struct SyncFileFixed(long NameLength, long FileSize, uint Timestamp, string Group)
{
    public const int Size = 8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen;

    public static SyncFileFixed Parse(ReadOnlySpan<byte> fixedPart) => fixedPart.Length != Size
        ? throw new ProtocolException($"sync file fixed part of {fixedPart.Length} bytes")
        : new(BinaryPrimitives.ReadInt64BigEndian(fixedPart), BinaryPrimitives.ReadInt64BigEndian(fixedPart[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(fixedPart[16..]), FixedString.Read(fixedPart.Slice(20, ProtocolConstants.GroupNameMaxLen)));

    /// <summary>The fixed part and the name: what precedes the <paramref name="fileSize"/> content bytes.</summary>
    public static byte[] Encode(string group, string logicName, long fileSize, uint timestamp)
    {
        int nameLength = FixedString.ByteCount(logicName);
        var body = new byte[Size + nameLength];
        BinaryPrimitives.WriteInt64BigEndian(body, nameLength);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(8), fileSize);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), timestamp);
        FixedString.Write(body.AsSpan(20, ProtocolConstants.GroupNameMaxLen), group);
        FixedString.Write(body.AsSpan(Size), logicName);
        return body;
    }
}

/// <summary>
/// SYNC_APPEND_FILE (25) / SYNC_MODIFY_FILE (35), with First = offset and Second = length, then name and content;
/// SYNC_TRUNCATE_FILE (37) with First = old size and Second = new size, then the name. name_len i64, First i64,
/// Second i64, timestamp u32, group[16].
/// </summary>
public readonly record struct SyncRangeFixed(long NameLength, long First, long Second, uint Timestamp, string Group)
{
    public const int Size = 8 + 8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen;

    public static SyncRangeFixed Parse(ReadOnlySpan<byte> fixedPart) => fixedPart.Length < Size
        ? throw new ProtocolException($"sync range fixed part of {fixedPart.Length} bytes")
        : new(BinaryPrimitives.ReadInt64BigEndian(fixedPart), BinaryPrimitives.ReadInt64BigEndian(fixedPart[8..]),
            BinaryPrimitives.ReadInt64BigEndian(fixedPart[16..]), BinaryPrimitives.ReadUInt32BigEndian(fixedPart[24..]),
            FixedString.Read(fixedPart.Slice(28, ProtocolConstants.GroupNameMaxLen)));

    /// <summary>The fixed part and the name.</summary>
    public static byte[] Encode(string group, string logicName, long first, long second, uint timestamp)
    {
        int nameLength = FixedString.ByteCount(logicName);
        var body = new byte[Size + nameLength];
        BinaryPrimitives.WriteInt64BigEndian(body, nameLength);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(8), first);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(16), second);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(24), timestamp);
        FixedString.Write(body.AsSpan(28, ProtocolConstants.GroupNameMaxLen), group);
        FixedString.Write(body.AsSpan(Size), logicName);
        return body;
    }
}

/// <summary>SYNC_DELETE_FILE (17): timestamp u32, group[16], name.</summary>
public readonly record struct SyncDeleteRequest(uint Timestamp, string Group, string LogicName)
{
    public const int FixedSize = 4 + ProtocolConstants.GroupNameMaxLen;

    public static SyncDeleteRequest Parse(ReadOnlySpan<byte> body) => body.Length <= FixedSize
        ? throw new ProtocolException($"SYNC_DELETE_FILE body of {body.Length} bytes")
        : new(BinaryPrimitives.ReadUInt32BigEndian(body), FixedString.Read(body.Slice(4, ProtocolConstants.GroupNameMaxLen)),
            FixedString.ReadCString(body[FixedSize..]));

    public byte[] ToArray()
    {
        var body = new byte[FixedSize + FixedString.ByteCount(LogicName)];
        BinaryPrimitives.WriteUInt32BigEndian(body, Timestamp);
        FixedString.Write(body.AsSpan(4, ProtocolConstants.GroupNameMaxLen), Group);
        FixedString.Write(body.AsSpan(FixedSize), LogicName);
        return body;
    }
}

/// <summary>SYNC_CREATE_LINK (19) / SYNC_RENAME_FILE (40): first_len i64, second_len i64, timestamp u32, group[16]; first, second.</summary>
public readonly record struct SyncLinkFixed(long FirstLength, long SecondLength, uint Timestamp, string Group)
{
    public const int Size = 8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen;

    public static SyncLinkFixed Parse(ReadOnlySpan<byte> body) => body.Length < Size
        ? throw new ProtocolException($"sync link fixed part of {body.Length} bytes")
        : new(BinaryPrimitives.ReadInt64BigEndian(body), BinaryPrimitives.ReadInt64BigEndian(body[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[16..]), FixedString.Read(body.Slice(20, ProtocolConstants.GroupNameMaxLen)));

    /// <summary>The whole request: fixed part, first name (the link or the new name), second name (its target or the old name).</summary>
    public static byte[] Encode(string group, string first, string second, uint timestamp)
    {
        int firstLength = FixedString.ByteCount(first);
        int secondLength = FixedString.ByteCount(second);
        var body = new byte[Size + firstLength + secondLength];
        BinaryPrimitives.WriteInt64BigEndian(body, firstLength);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(8), secondLength);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), timestamp);
        FixedString.Write(body.AsSpan(20, ProtocolConstants.GroupNameMaxLen), group);
        FixedString.Write(body.AsSpan(Size, firstLength), first);
        FixedString.Write(body.AsSpan(Size + firstLength), second);
        return body;
    }
}
