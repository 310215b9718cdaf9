using System.Buffers.Binary;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>What kind of stored file a listed name is (flags).</summary>
[Flags]
public enum ListedFileKind : byte
{
    Normal = 0,
    Appender = 1,
    Slave = 2,
    Trunk = 4,

    /// <summary>A metadata file (<c>&lt;name&gt;-m</c>).</summary>
    Metadata = 8,

    /// <summary>A symbolic link (a slave stored with <c>store_slave_file_use_link</c>).</summary>
    Link = 16,

    /// <summary>The file could not be read (an I/O error): its size and CRC32 are unknown.</summary>
    Unreadable = 32,
}

/// <summary>The words <c>fdfs ls</c> and the tracker's <c>/api/files</c> show for a <see cref="ListedFileKind"/>.</summary>
public static class ListedFileKinds
{
    /// <summary>trunk (stored inside a trunk file), metadata, link, appender, slave or normal.</summary>
    public static string Word(this ListedFileKind kind) =>
        kind.HasFlag(ListedFileKind.Trunk) ? "trunk"
        : kind.HasFlag(ListedFileKind.Metadata) ? "metadata"
        : kind.HasFlag(ListedFileKind.Link) ? "link"
        : kind.HasFlag(ListedFileKind.Appender) ? "appender"
        : kind.HasFlag(ListedFileKind.Slave) ? "slave"
        : "normal";
}

/// <summary>What LIST_FILES computes beyond names, sizes and times.</summary>
[Flags]
public enum ListFilesOptions : byte
{
    None = 0,

    /// <summary>The CRC32 of every file's content (reads every byte).</summary>
    Crc32 = 1,

    /// <summary>The CRC32 of the files that change in place only (appender and metadata files).</summary>
    Crc32OfMutable = 2,

    /// <summary>Read for the checksums at no more than the storage's <c>scrub_rate</c> (anti-entropy's background comparisons).</summary>
    Throttled = 4,

    /// <summary>
    /// The files stored inside trunk files instead (their names are only in the binlog): in the order they were created,
    /// within the prefix, the cursor a binlog position (<c>index:offset</c>); checksums are not computed.
    /// </summary>
    TrunkStored = 8,
}

/// <summary>One stored file as LIST_FILES reports it; <see cref="Crc32"/> is meaningful when <see cref="HasCrc32"/>.</summary>
public readonly record struct ListedFile(string LogicName, long Size, long Mtime, ListedFileKind Kind, bool HasCrc32, uint Crc32);

/// <summary>
/// FastDFS.NET-only command to a storage (244): the files it holds, in logic-name order, a page at a time.
/// Request: <c>group[16]</c>, <c>options u8</c> (<see cref="ListFilesOptions"/>), <c>max_entries u16be</c>,
/// <c>prefix_len u8</c> + prefix (<c>""</c>, <c>M00</c>, <c>M00/3A</c> or <c>M00/3A/0C</c>), <c>cursor_len u8</c> +
/// cursor (the last name of the previous page; empty = from the start). Response: <c>count u16be</c>, per file
/// <c>name_len u8</c>, name, <c>size i64be</c>, <c>mtime i64be</c>, <c>kind u8</c> (bit 7: a CRC32 follows),
/// <c>crc32 u32be</c>; then <c>next_len u8</c> + the cursor for the next page (empty = the listing is complete).
/// Files stored inside trunk files are listed with <see cref="ListFilesOptions.TrunkStored"/> (and only then). A stock storage
/// answers EINVAL and closes.
/// </summary>
public static class ListFiles
{
    /// <summary>Command byte 244: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)244;

    public const int MaxEntries = 10_000;
    private const byte CrcFollows = 0x80;

    public static byte[] Request(string group, ListFilesOptions options, int maxEntries, string prefix, string cursor)
    {
        var prefixBytes = Encoding.ASCII.GetBytes(prefix);
        var cursorBytes = Encoding.ASCII.GetBytes(cursor);
        if (prefixBytes.Length > 255 || cursorBytes.Length > 255)
        {
            throw new ArgumentException("prefix and cursor are at most 255 characters");
        }

        var body = new byte[ProtocolConstants.GroupNameMaxLen + 1 + 2 + 1 + prefixBytes.Length + 1 + cursorBytes.Length];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), group);
        int o = ProtocolConstants.GroupNameMaxLen;
        body[o++] = (byte)options;
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(o), (ushort)Math.Clamp(maxEntries, 1, MaxEntries));
        o += 2;
        body[o++] = (byte)prefixBytes.Length;
        prefixBytes.CopyTo(body, o);
        o += prefixBytes.Length;
        body[o++] = (byte)cursorBytes.Length;
        cursorBytes.CopyTo(body, o);
        return body;
    }

    public static (string Group, ListFilesOptions Options, int MaxEntries, string Prefix, string Cursor) ParseRequest(ReadOnlySpan<byte> body)
    {
        const int Fixed = ProtocolConstants.GroupNameMaxLen + 1 + 2 + 1;
        if (body.Length < Fixed + 1)
        {
            throw new ProtocolException($"LIST_FILES request of {body.Length} bytes");
        }

        string group = FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]);
        int o = ProtocolConstants.GroupNameMaxLen;
        var options = (ListFilesOptions)body[o++];
        int max = BinaryPrimitives.ReadUInt16BigEndian(body[o..]);
        o += 2;
        int prefixLength = body[o++];
        if (body.Length < o + prefixLength + 1)
        {
            throw new ProtocolException("LIST_FILES prefix is cut");
        }

        string prefix = Encoding.ASCII.GetString(body.Slice(o, prefixLength));
        o += prefixLength;
        int cursorLength = body[o++];
        if (body.Length != o + cursorLength)
        {
            throw new ProtocolException("LIST_FILES cursor does not match the body length");
        }

        string cursor = Encoding.ASCII.GetString(body.Slice(o, cursorLength));
        if (max is < 1 or > MaxEntries)
        {
            throw new ProtocolException($"LIST_FILES of {max} entries");
        }

        return (group, options, max, prefix, cursor);
    }

    public static byte[] Response(IReadOnlyList<ListedFile> files, string nextCursor)
    {
        int size = 2 + 1 + Encoding.ASCII.GetByteCount(nextCursor);
        foreach (var file in files)
        {
            size += 1 + Encoding.ASCII.GetByteCount(file.LogicName) + 8 + 8 + 1 + 4;
        }

        var body = new byte[size];
        var span = body.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)files.Count);
        int o = 2;
        foreach (var file in files)
        {
            int n = Encoding.ASCII.GetBytes(file.LogicName, span[(o + 1)..]);
            span[o] = (byte)n;
            o += 1 + n;
            BinaryPrimitives.WriteInt64BigEndian(span[o..], file.Size);
            BinaryPrimitives.WriteInt64BigEndian(span[(o + 8)..], file.Mtime);
            span[o + 16] = (byte)((byte)file.Kind | (file.HasCrc32 ? CrcFollows : 0));
            BinaryPrimitives.WriteUInt32BigEndian(span[(o + 17)..], file.Crc32);
            o += 21;
        }

        int c = Encoding.ASCII.GetBytes(nextCursor, span[(o + 1)..]);
        span[o] = (byte)c;
        return body;
    }

    public static (List<ListedFile> Files, string NextCursor) ParseResponse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 3)
        {
            throw new ProtocolException($"LIST_FILES response of {body.Length} bytes");
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(body);
        // Capacity from what the body can hold, not from the count it claims.
        var files = new List<ListedFile>(Math.Min(count, (body.Length - 2) / 22));
        int o = 2;
        for (int i = 0; i < count; i++)
        {
            if (body.Length < o + 1 || body.Length < o + 1 + body[o] + 21)
            {
                throw new ProtocolException("LIST_FILES response: an entry is cut");
            }

            int n = body[o];
            string name = Encoding.ASCII.GetString(body.Slice(o + 1, n));
            o += 1 + n;
            byte kind = body[o + 16];
            files.Add(new ListedFile(name, BinaryPrimitives.ReadInt64BigEndian(body[o..]), BinaryPrimitives.ReadInt64BigEndian(body[(o + 8)..]),
                (ListedFileKind)(kind & ~CrcFollows), (kind & CrcFollows) != 0, BinaryPrimitives.ReadUInt32BigEndian(body[(o + 17)..])));
            o += 21;
        }

        if (body.Length < o + 1 || body.Length != o + 1 + body[o])
        {
            throw new ProtocolException("LIST_FILES response: the cursor does not match the body length");
        }

        return (files, Encoding.ASCII.GetString(body.Slice(o + 1, body[o])));
    }
}
