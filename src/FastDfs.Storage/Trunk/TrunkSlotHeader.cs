using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The 24-byte header at the start of every trunk slot (spec 13): type, slot size, file size, crc32, mtime
/// and the 7-character formatted extension. A file stored in a slot exists only while this header is
/// byte-for-byte the header rebuilt from its name (spec 9.7).
/// </summary>
internal readonly record struct TrunkSlotHeader(byte FileType, int AllocSize, int FileSize, uint Crc32, int Mtime, string Ext7)
{
    public const int Size = 24;
    public const int ExtLength = 7;
    public const byte TypeRegular = (byte)'F';
    public const byte TypeLink = (byte)'L';
    public const byte TypeFree = 0;

    public bool IsOccupied => FileType is TypeRegular or TypeLink;

    /// <summary>The header a trunk-stored file's name promises (type 'F').</summary>
    public static bool TryFromName(FileNameInfo info, out TrunkSlotHeader header)
    {
        header = default;
        if (!info.IsTrunk || info.Trunk is not { } location || info.Tail.Length != ExtLength)
        {
            return false;
        }

        header = new TrunkSlotHeader(TypeRegular, location.AllocSize, (int)info.FileSize, info.Crc32, info.Timestamp, info.Tail);
        return true;
    }

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        destination[0] = FileType;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], AllocSize);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], FileSize);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], Crc32);
        BinaryPrimitives.WriteInt32BigEndian(destination[13..], Mtime);
        Encoding.ASCII.GetBytes(Ext7.AsSpan(0, Math.Min(Ext7.Length, ExtLength)), destination.Slice(17, ExtLength));
    }

    public static TrunkSlotHeader Read(ReadOnlySpan<byte> source) => new(
        source[0],
        BinaryPrimitives.ReadInt32BigEndian(source[1..]),
        BinaryPrimitives.ReadInt32BigEndian(source[5..]),
        BinaryPrimitives.ReadUInt32BigEndian(source[9..]),
        BinaryPrimitives.ReadInt32BigEndian(source[13..]),
        Encoding.ASCII.GetString(source.Slice(17, ExtLength)));

    /// <summary>Stock's existence test: same fields, where a link slot ('L') counts like a regular one.</summary>
    public bool Matches(in TrunkSlotHeader onDisk) =>
        onDisk.IsOccupied && onDisk.AllocSize == AllocSize && onDisk.FileSize == FileSize &&
        onDisk.Crc32 == Crc32 && onDisk.Mtime == Mtime && onDisk.Ext7 == Ext7;
}
