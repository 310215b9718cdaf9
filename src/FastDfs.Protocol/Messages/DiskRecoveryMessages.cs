using System.Globalization;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>
/// FETCH_ONE_PATH_BINLOG (26) request: <c>group[16]</c> + <c>store_path_index u8</c>. A storage recovering a lost disk
/// asks a group peer for the records of the files that exist in one store path (spec 7.8).
/// </summary>
public readonly record struct FetchPathBinlogRequest(string Group, int StorePathIndex)
{
    public const FdfsCommand Command = FdfsCommand.FetchOnePathBinlog;

    public const int Size = ProtocolConstants.GroupNameMaxLen + 1;

    /// <summary>
    /// The reply length stock declares for its streamed form (2^58): the records follow until the server closes, their
    /// byte count as a trailing i64be. A reply with an ordinary length is the records alone (stock reads both).
    /// </summary>
    public const long StreamedReplyLength = 1L << 58;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination[..Size]);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteByte(checked((byte)StorePathIndex));
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    public static FetchPathBinlogRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"FETCH_ONE_PATH_BINLOG body of {body.Length} bytes, expected {Size}");
        }

        return new FetchPathBinlogRequest(FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]), body[ProtocolConstants.GroupNameMaxLen]);
    }
}

/// <summary>
/// STORAGE_GET_STATUS (71) request of 6.16: <c>group[16]</c> + <c>ip:port</c> (no NUL; an IPv6 address in brackets).
/// The reply is one <see cref="StorageBrief"/>, or ENOENT for a storage the tracker does not know.
/// </summary>
public readonly record struct StorageStatusQuery(string Group, string Ip, int Port)
{
    public const FdfsCommand Command = FdfsCommand.StorageGetStatus;

    public byte[] ToArray()
    {
        string host = Ip.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{Ip}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Ip}:{Port}");
        var bytes = new byte[ProtocolConstants.GroupNameMaxLen + Encoding.ASCII.GetByteCount(host)];
        FixedString.Write(bytes.AsSpan(0, ProtocolConstants.GroupNameMaxLen), Group);
        Encoding.ASCII.GetBytes(host, bytes.AsSpan(ProtocolConstants.GroupNameMaxLen));
        return bytes;
    }
}

/// <summary>How far a disk recovery has come: files and bytes placed out of the path's file list, and its running time.</summary>
public readonly record struct RecoveryProgress(int StorePathIndex, long FilesDone, long FilesTotal, long BytesDone, long ElapsedMillis)
{
    /// <summary>Bytes per second so far (0 before the first second).</summary>
    public long BytesPerSecond => ElapsedMillis >= 1000 ? BytesDone * 1000 / ElapsedMillis : 0;

    /// <summary>Seconds left at the pace so far, or -1 when it cannot be told yet.</summary>
    public long EtaSeconds => FilesDone > 0 && FilesTotal >= FilesDone ? (FilesTotal - FilesDone) * ElapsedMillis / FilesDone / 1000 : -1;

    /// <summary>For people: <c>M01: 120 of 400 files, 3.1 MB at 1.0 MB/s, about 9 s left</c>.</summary>
    public string Describe()
    {
        string left = EtaSeconds >= 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"about {EtaSeconds} s left")
            : "time left unknown yet";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"M{StorePathIndex:X2}: {FilesDone} of {FilesTotal} files, {Mb(BytesDone)} at {Mb(BytesPerSecond)}/s, {left}");
    }

    private static string Mb(long bytes) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MB");
}

/// <summary>
/// FastDFS.NET's RECOVERY_PROGRESS (249), a storage recovering a disk to every tracker, every few seconds:
/// <c>group[16]</c> + <c>storage_id[16]</c> + <c>store_path_index u8</c> + files done, files total, bytes done, elapsed
/// milliseconds (i64be each). Stock trackers answer EINVAL; the storage then stops sending it to them.
/// </summary>
public readonly record struct RecoveryProgressReport(string Group, string StorageId, RecoveryProgress Progress)
{
    public const FdfsCommand Command = (FdfsCommand)249;

    public const int Size = ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize + 1 + 4 * 8;

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        var w = new SpanWriter(bytes);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteFixed(StorageId, ProtocolConstants.StorageIdMaxSize);
        w.WriteByte(checked((byte)Progress.StorePathIndex));
        w.WriteInt64(Progress.FilesDone);
        w.WriteInt64(Progress.FilesTotal);
        w.WriteInt64(Progress.BytesDone);
        w.WriteInt64(Progress.ElapsedMillis);
        return bytes;
    }

    public static RecoveryProgressReport Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"RECOVERY_PROGRESS body of {body.Length} bytes, expected {Size}");
        }

        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        string id = r.ReadFixed(ProtocolConstants.StorageIdMaxSize);
        int path = r.ReadByte();
        long done = r.ReadInt64(), total = r.ReadInt64(), bytes = r.ReadInt64(), elapsed = r.ReadInt64();
        if (done < 0 || total < 0 || bytes < 0 || elapsed < 0)
        {
            throw new ProtocolException("RECOVERY_PROGRESS with a negative count");
        }

        return new RecoveryProgressReport(group, id, new RecoveryProgress(path, done, total, bytes, elapsed));
    }
}

/// <summary>
/// FastDFS.NET's FETCH_FILES (250), between our storages during a disk recovery: many files in one round trip instead of
/// one DOWNLOAD_FILE each. Request: <c>group[16]</c> + <c>count u16</c> + per file <c>name_length u8</c> + name. Reply: for
/// each file in order, <c>status u8</c> (0, or ENOENT when the peer does not have it) + <c>size i64</c> + its bytes. Stock
/// storages answer EINVAL; the recovering storage then downloads from them file by file.
/// </summary>
public sealed record FetchFilesRequest(string Group, IReadOnlyList<string> Names)
{
    public const FdfsCommand Command = (FdfsCommand)250;

    /// <summary>The most files one request may name (each is an open file on the serving side while it is answered).</summary>
    public const int MaxFiles = 256;

    /// <summary>The per-file header of the reply: status and size.</summary>
    public const int EntryHeaderSize = 1 + 8;

    public byte[] ToArray()
    {
        if (Names.Count is < 1 or > MaxFiles)
        {
            throw new ArgumentOutOfRangeException(nameof(Names), Names.Count, $"1 to {MaxFiles} files");
        }

        var bytes = new byte[ProtocolConstants.GroupNameMaxLen + 2 + Names.Sum(n => 1 + System.Text.Encoding.ASCII.GetByteCount(n))];
        FixedString.Write(bytes.AsSpan(0, ProtocolConstants.GroupNameMaxLen), Group);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(ProtocolConstants.GroupNameMaxLen), (ushort)Names.Count);
        int at = ProtocolConstants.GroupNameMaxLen + 2;
        foreach (string name in Names)
        {
            int length = System.Text.Encoding.ASCII.GetBytes(name, bytes.AsSpan(at + 1));
            bytes[at] = checked((byte)length);
            at += 1 + length;
        }

        return bytes;
    }

    public static FetchFilesRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < ProtocolConstants.GroupNameMaxLen + 2)
        {
            throw new ProtocolException($"FETCH_FILES body of {body.Length} bytes");
        }

        string group = FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]);
        int count = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(body[ProtocolConstants.GroupNameMaxLen..]);
        if (count is < 1 or > MaxFiles)
        {
            throw new ProtocolException($"FETCH_FILES of {count} files (1 to {MaxFiles})");
        }

        var names = new List<string>(count);
        var rest = body[(ProtocolConstants.GroupNameMaxLen + 2)..];
        for (int i = 0; i < count; i++)
        {
            if (rest.IsEmpty || rest[0] == 0 || rest.Length < 1 + rest[0])
            {
                throw new ProtocolException($"FETCH_FILES name {i} runs past the body");
            }

            names.Add(System.Text.Encoding.ASCII.GetString(rest.Slice(1, rest[0])));
            rest = rest[(1 + rest[0])..];
        }

        if (!rest.IsEmpty)
        {
            throw new ProtocolException($"FETCH_FILES: {rest.Length} bytes after the last name");
        }

        return new FetchFilesRequest(group, names);
    }
}
