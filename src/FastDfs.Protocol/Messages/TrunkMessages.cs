using System.Text;

namespace FastDfs.Protocol.Messages;

// The trunk frames (spec 7.9, 6.9, 4.10, 13). Only the trunk server of a group hands out slots, so the other members
// ask it over TRUNK_ALLOC_SPACE / TRUNK_ALLOC_CONFIRM / TRUNK_FREE_SPACE, all carrying the slot as FDFSTrunkInfoBuff;
// the trunk server reserves trunk file ids and reports its free space to the tracker leader; the leader elects it by
// trunk binlog size, or an admin names it. The frames without a body to type are TRUNK_SYNC_BINLOG (30, raw binlog
// lines, empty reply), TRUNK_DELETE_BINLOG_MARKS (32) and TRUNK_TRUNCATE_BINLOG_FILE (33) (both empty both ways).

/// <summary>
/// FDFSTrunkInfoBuff (spec 2.4), 15 bytes: where a slot lives (store path, the two sub-directories, trunk file id) and
/// which bytes of that trunk file it covers. It is the whole TRUNK_ALLOC_SPACE (27) reply and the tail of
/// <see cref="TrunkSlotRequest"/>. Path and sub-directories are single bytes on the wire, hence <c>byte</c> here.
/// </summary>
/// <param name="StorePathIndex">the store path of the trunk file</param>
/// <param name="SubPathHigh">the first-level sub-directory of the trunk file</param>
/// <param name="SubPathLow">the second-level sub-directory of the trunk file</param>
/// <param name="TrunkFileId">the trunk file's number</param>
/// <param name="Offset">where the slot starts in the trunk file</param>
/// <param name="AllocSize">the slot's allocated size, header included (at least the size asked for)</param>
public readonly record struct TrunkSlotInfo(
    byte StorePathIndex, byte SubPathHigh, byte SubPathLow, int TrunkFileId, int Offset, int AllocSize)
{
    public const int Size = 1 + 1 + 1 + 4 + 4 + 4;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteByte(StorePathIndex);
        w.WriteByte(SubPathHigh);
        w.WriteByte(SubPathLow);
        w.WriteInt32(TrunkFileId);
        w.WriteInt32(Offset);
        w.WriteInt32(AllocSize);
    }

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static TrunkSlotInfo Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"trunk slot info of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        return new TrunkSlotInfo(r.ReadByte(), r.ReadByte(), r.ReadByte(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
    }
}

/// <summary>
/// TRUNK_ALLOC_SPACE (27) request, 21 bytes: group[16], size i32be, store_path_index u8. The size is the whole slot
/// wanted (file size + the 24-byte slot header); the reply is a <see cref="TrunkSlotInfo"/> on that store path.
/// </summary>
public readonly record struct TrunkAllocRequest(string Group, int SlotSize, byte StorePathIndex)
{
    public const FdfsCommand Command = FdfsCommand.TrunkAllocSpace;

    public const int Size = ProtocolConstants.GroupNameMaxLen + 4 + 1;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteInt32(SlotSize);
        w.WriteByte(StorePathIndex);
    }

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static TrunkAllocRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE body of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        return new TrunkAllocRequest(r.ReadFixed(ProtocolConstants.GroupNameMaxLen), r.ReadInt32(), r.ReadByte());
    }
}

/// <summary>
/// TRUNK_ALLOC_CONFIRM (28) and TRUNK_FREE_SPACE (29) request, 31 bytes: group[16] + <see cref="TrunkSlotInfo"/>;
/// both replies are empty. A confirm carries the upload's result in the request header's status, not in the body
/// (0 or EEXIST keep the slot as used, anything else gives it back), so one body serves both commands.
/// </summary>
public readonly record struct TrunkSlotRequest(string Group, TrunkSlotInfo Slot)
{
    public const FdfsCommand ConfirmCommand = FdfsCommand.TrunkAllocConfirm;
    public const FdfsCommand FreeCommand = FdfsCommand.TrunkFreeSpace;

    public const int Size = ProtocolConstants.GroupNameMaxLen + TrunkSlotInfo.Size;

    public void Write(Span<byte> destination)
    {
        FixedString.Write(destination[..ProtocolConstants.GroupNameMaxLen], Group);
        Slot.Write(destination.Slice(ProtocolConstants.GroupNameMaxLen, TrunkSlotInfo.Size));
    }

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static TrunkSlotRequest Parse(ReadOnlySpan<byte> body) => body.Length != Size
        ? throw new ProtocolException($"trunk slot request of {body.Length} bytes")
        : new(FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]), TrunkSlotInfo.Parse(body[ProtocolConstants.GroupNameMaxLen..]));
}

/// <summary>
/// TRUNK_GET_BINLOG_SIZE (31) reply, 8 bytes: the storage's trunk binlog size, i64be. The request is empty; the
/// tracker leader asks every writable member and names the one with the largest binlog (it has seen the most
/// allocations) trunk server.
/// </summary>
public readonly record struct TrunkBinlogSizeReply(long BinlogSize)
{
    public const FdfsCommand Command = FdfsCommand.TrunkGetBinlogSize;

    public const int Size = 8;

    public void Write(Span<byte> destination) => new SpanWriter(destination).WriteInt64(BinlogSize);

    public static TrunkBinlogSizeReply Parse(ReadOnlySpan<byte> body) => body.Length != Size
        ? throw new ProtocolException($"TRUNK_GET_BINLOG_SIZE reply of {body.Length} bytes")
        : new(new SpanReader(body).ReadInt64());
}

/// <summary>
/// The group's trunk file id, 4 bytes i32be: the STORAGE_FETCH_TRUNK_FID (72) reply (the tracker's current id; the
/// request is empty) and the STORAGE_REPORT_TRUNK_FID (73) request (ids reserved up to this one; empty reply). The
/// sequence lives on the tracker so that a new trunk server never reuses an id its predecessor gave out.
/// </summary>
public readonly record struct TrunkFileIdBody(int TrunkFileId)
{
    public const FdfsCommand FetchCommand = FdfsCommand.StorageFetchTrunkFid;
    public const FdfsCommand ReportCommand = FdfsCommand.StorageReportTrunkFid;

    public const int Size = 4;

    public void Write(Span<byte> destination) => new SpanWriter(destination).WriteInt32(TrunkFileId);

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static TrunkFileIdBody Parse(ReadOnlySpan<byte> body) => body.Length != Size
        ? throw new ProtocolException($"trunk file id body of {body.Length} bytes")
        : new(new SpanReader(body).ReadInt32());
}

/// <summary>
/// STORAGE_REPORT_TRUNK_FREE (74) request, 8 bytes: the trunk server's free trunk space in MB, i64be. Only the trunk
/// server knows it (it alone allocates), so the tracker takes the group's trunk_free_mb from it. Empty reply.
/// </summary>
public readonly record struct TrunkFreeReport(long FreeMb)
{
    public const FdfsCommand Command = FdfsCommand.StorageReportTrunkFree;

    public const int Size = 8;

    public void Write(Span<byte> destination) => new SpanWriter(destination).WriteInt64(FreeMb);

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static TrunkFreeReport Parse(ReadOnlySpan<byte> body) => body.Length != Size
        ? throw new ProtocolException($"REPORT_TRUNK_FREE body of {body.Length} bytes")
        : new(new SpanReader(body).ReadInt64());
}

/// <summary>
/// SERVER_SET_TRUNK_SERVER (94) request (spec 4.10): group[16], then the storage id unpadded, or nothing to let the
/// leader keep its ACTIVE trunk server or elect one. A reader takes the id up to a NUL, so a NUL-padded id[16]
/// reads the same.
/// </summary>
public readonly record struct SetTrunkServerRequest(string Group, string StorageId)
{
    public const FdfsCommand Command = FdfsCommand.ServerSetTrunkServer;

    public const int MinSize = ProtocolConstants.GroupNameMaxLen;
    public const int MaxSize = ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize;

    /// <summary>The id is written as it is, at most <see cref="ProtocolConstants.StorageIdMaxSize"/> bytes.</summary>
    public int Size => MinSize + Math.Min(FixedString.ByteCount(StorageId), ProtocolConstants.StorageIdMaxSize);

    public void Write(Span<byte> destination)
    {
        FixedString.Write(destination[..ProtocolConstants.GroupNameMaxLen], Group);
        FixedString.Write(destination[ProtocolConstants.GroupNameMaxLen..Size], StorageId);
    }

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static SetTrunkServerRequest Parse(ReadOnlySpan<byte> body) => body.Length is < MinSize or > MaxSize
        ? throw new ProtocolException($"SET_TRUNK_SERVER body of {body.Length} bytes")
        : new(FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]), FixedString.Read(body[ProtocolConstants.GroupNameMaxLen..]));
}

/// <summary>
/// SERVER_SET_TRUNK_SERVER (94) reply: the trunk server's id and its terminating NUL (strlen + 1 bytes), as stock
/// answers; the NUL is part of the reply, so a body without it is not one.
/// </summary>
public readonly record struct SetTrunkServerReply(string StorageId)
{
    public const FdfsCommand Command = FdfsCommand.ServerSetTrunkServer;

    public const int MaxSize = ProtocolConstants.StorageIdMaxSize + 1;

    public int Size => Encoding.ASCII.GetByteCount(StorageId) + 1;

    public void Write(Span<byte> destination)
    {
        int length = Encoding.ASCII.GetBytes(StorageId, destination);
        destination[length] = 0;
    }

    public byte[] ToArray()
    {
        var body = new byte[Size];
        Write(body);
        return body;
    }

    public static SetTrunkServerReply Parse(ReadOnlySpan<byte> body) => body.Length is 0 or > MaxSize || body[^1] != 0
        ? throw new ProtocolException($"SET_TRUNK_SERVER reply of {body.Length} bytes, not an id and its NUL")
        : new(FixedString.Read(body));
}
