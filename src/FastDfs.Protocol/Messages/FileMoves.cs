using System.Buffers.Binary;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>The fixed part of an IMPORT_FILE request (what precedes the name, the metadata and the content).</summary>
/// <param name="Group">the group of the storage asked (its own)</param>
/// <param name="SourceGroup">the group the file comes from (its old ID names it)</param>
/// <param name="NameLength">bytes of the logic name that follow the fixed part</param>
/// <param name="MetadataLength">bytes of metadata (stock's <c>key\x02value\x01...</c> form) after the name; 0 = none</param>
/// <param name="FileSize">bytes of content after the metadata</param>
/// <param name="Crc32">the CRC32 of the content, checked before the file is published</param>
public readonly record struct ImportFileRequest(string Group, string SourceGroup, int NameLength, int MetadataLength, long FileSize, uint Crc32)
{
    /// <summary>Bytes of the whole request body.</summary>
    public long BodyLength => ImportFile.FixedSize + NameLength + MetadataLength + FileSize;
}

/// <summary>
/// FastDFS.NET-only command to a storage (253): store a file of another group under its logic name unchanged (a move
/// between groups, <c>fdfs rebalance</c>). Request: <c>group[16]</c> (the storage's own), <c>source_group[16]</c>,
/// <c>name_len u8</c>, <c>meta_len u32be</c>, <c>file_size i64be</c>, <c>crc32 u32be</c>, then the logic name
/// (<c>M00/3A/0C/X.jpg</c>), the metadata and the content. The storage writes the file under that name and logs it as
/// its own creation (binlog <c>C</c>, and metadata), so its group's members replicate it as any upload. Reply: empty.
/// Importing a name that is there with the same size and CRC32 succeeds without a change (a move can be repeated);
/// another file under that name: EEXIST; a CRC32 that does not match the content: EIO, nothing stored; a name the
/// storage cannot hold as a regular file (a store path it lacks, a trunk-stored name): EINVAL; a caller that is neither
/// a tracker, a member of the group nor in <c>admin_hosts</c>: EPERM. A stock storage answers EINVAL and closes.
/// </summary>
public static class ImportFile
{
    /// <summary>Command byte 253: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)253;

    public const int FixedSize = ProtocolConstants.GroupNameMaxLen * 2 + 1 + 4 + 8 + 4;

    /// <summary>The request's fixed part, name and metadata (the content follows them).</summary>
    public static byte[] RequestHead(string group, string sourceGroup, string logicName, ReadOnlySpan<byte> metadata, long fileSize, uint crc32)
    {
        var nameBytes = Encoding.ASCII.GetBytes(logicName);
        if (nameBytes.Length is 0 or > 255)
        {
            throw new ArgumentException("a logic name is 1 to 255 characters", nameof(logicName));
        }

        var head = new byte[FixedSize + nameBytes.Length + metadata.Length];
        var span = head.AsSpan();
        FixedString.Write(span[..ProtocolConstants.GroupNameMaxLen], group);
        FixedString.Write(span.Slice(ProtocolConstants.GroupNameMaxLen, ProtocolConstants.GroupNameMaxLen), sourceGroup);
        int o = ProtocolConstants.GroupNameMaxLen * 2;
        span[o++] = (byte)nameBytes.Length;
        BinaryPrimitives.WriteUInt32BigEndian(span[o..], (uint)metadata.Length);
        BinaryPrimitives.WriteInt64BigEndian(span[(o + 4)..], fileSize);
        BinaryPrimitives.WriteUInt32BigEndian(span[(o + 12)..], crc32);
        nameBytes.CopyTo(span[FixedSize..]);
        metadata.CopyTo(span[(FixedSize + nameBytes.Length)..]);
        return head;
    }

    /// <summary>Parses the fixed part; <paramref name="bodyLength"/> (the header's) must match what it announces.</summary>
    public static ImportFileRequest Parse(ReadOnlySpan<byte> fixedPart, long bodyLength)
    {
        if (fixedPart.Length != FixedSize)
        {
            throw new ProtocolException($"IMPORT_FILE fixed part of {fixedPart.Length} bytes");
        }

        int o = ProtocolConstants.GroupNameMaxLen * 2;
        var request = new ImportFileRequest(
            FixedString.Read(fixedPart[..ProtocolConstants.GroupNameMaxLen]),
            FixedString.Read(fixedPart.Slice(ProtocolConstants.GroupNameMaxLen, ProtocolConstants.GroupNameMaxLen)),
            fixedPart[o],
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(fixedPart[(o + 1)..]), int.MaxValue),
            BinaryPrimitives.ReadInt64BigEndian(fixedPart[(o + 5)..]),
            BinaryPrimitives.ReadUInt32BigEndian(fixedPart[(o + 13)..]));
        if (request.NameLength == 0 || request.FileSize < 0 || request.MetadataLength > ProtocolConstants.MaxImportMetadataLength ||
            request.SourceGroup.Length == 0 || request.BodyLength != bodyLength)
        {
            throw new ProtocolException("IMPORT_FILE lengths do not match the body");
        }

        return request;
    }
}

/// <summary>One entry of the trackers' moved-files map: <c>SourceGroup/LogicName</c> is now in <see cref="TargetGroup"/>
/// under the same logic name. An entry whose target is its source group removes the mapping.</summary>
public readonly record struct MovedFile(string SourceGroup, string LogicName, string TargetGroup);

/// <summary>
/// FastDFS.NET-only tracker command (254): adds entries to the tracker's moved-files map, which QUERY_FETCH_ONE/ALL,
/// QUERY_UPDATE and the HTTP gateway consult: a file ID whose group and logic name are in the map is answered with a
/// storage of the target group (whose storages accept the old group's name for the files they hold). Request:
/// <c>count u16be</c>, per entry <c>source_group[16]</c>, <c>target_group[16]</c>, <c>name_len u8</c>, name. The
/// entries are on disk (<c>data/moved_files.dat</c>) before the reply. Reply: empty; ENOENT for a target group the
/// tracker does not know, EINVAL for a malformed entry, EPERM for a caller that <c>admin_hosts</c> does not list. A stock
/// tracker answers EINVAL (or closes).
/// </summary>
public static class AddMovedFiles
{
    /// <summary>Command byte 254: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)254;

    public const int MaxEntries = 1000;

    /// <summary>The largest request body a client sends (stock trackers' smallest package size, less the header): batch
    /// entries under it (<see cref="EntrySize"/>).</summary>
    public const int MaxRequestBody = ProtocolConstants.TrackerMaxPackageSize - ProtocolConstants.HeaderSize;

    private const int EntryFixedSize = ProtocolConstants.GroupNameMaxLen * 2 + 1;

    /// <summary>Bytes one entry takes in the request.</summary>
    public static int EntrySize(MovedFile entry) => EntryFixedSize + Encoding.ASCII.GetByteCount(entry.LogicName);

    public static byte[] Request(IReadOnlyList<MovedFile> entries)
    {
        if (entries.Count is 0 or > MaxEntries)
        {
            throw new ArgumentException($"1 to {MaxEntries} entries", nameof(entries));
        }

        int size = 2;
        foreach (var entry in entries)
        {
            size += EntrySize(entry);
        }

        var body = new byte[size];
        var span = body.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)entries.Count);
        int o = 2;
        foreach (var entry in entries)
        {
            FixedString.Write(span.Slice(o, ProtocolConstants.GroupNameMaxLen), entry.SourceGroup);
            FixedString.Write(span.Slice(o + ProtocolConstants.GroupNameMaxLen, ProtocolConstants.GroupNameMaxLen), entry.TargetGroup);
            o += ProtocolConstants.GroupNameMaxLen * 2;
            int n = Encoding.ASCII.GetBytes(entry.LogicName, span[(o + 1)..]);
            if (n is 0 or > 255)
            {
                throw new ArgumentException("a logic name is 1 to 255 characters", nameof(entries));
            }

            span[o] = (byte)n;
            o += 1 + n;
        }

        return body;
    }

    public static List<MovedFile> ParseRequest(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            throw new ProtocolException($"ADD_MOVED_FILES request of {body.Length} bytes");
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (count is 0 or > MaxEntries)
        {
            throw new ProtocolException($"ADD_MOVED_FILES of {count} entries");
        }

        var entries = new List<MovedFile>(Math.Min(count, body.Length / EntryFixedSize));
        int o = 2;
        for (int i = 0; i < count; i++)
        {
            if (body.Length < o + EntryFixedSize || body.Length < o + EntryFixedSize + body[o + EntryFixedSize - 1])
            {
                throw new ProtocolException("ADD_MOVED_FILES: an entry is cut");
            }

            string source = FixedString.Read(body.Slice(o, ProtocolConstants.GroupNameMaxLen));
            string target = FixedString.Read(body.Slice(o + ProtocolConstants.GroupNameMaxLen, ProtocolConstants.GroupNameMaxLen));
            int n = body[o + EntryFixedSize - 1];
            string name = Encoding.ASCII.GetString(body.Slice(o + EntryFixedSize, n));
            if (source.Length == 0 || target.Length == 0 || n == 0)
            {
                throw new ProtocolException("ADD_MOVED_FILES: an entry without a group or a name");
            }

            entries.Add(new MovedFile(source, name, target));
            o += EntryFixedSize + n;
        }

        if (o != body.Length)
        {
            throw new ProtocolException("ADD_MOVED_FILES: the entries do not match the body length");
        }

        return entries;
    }
}
