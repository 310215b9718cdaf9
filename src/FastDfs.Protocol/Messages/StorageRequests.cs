using System.Text;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Protocol.Messages;

/// <summary>
/// Fixed parts of the client -> storage requests of spec section 5. Content bytes that follow a fixed
/// part are streamed by the caller; <c>FixedSize</c>/<c>HeaderSize</c> give where the content starts.
/// </summary>
public readonly record struct UploadFileRequest(sbyte StorePathIndex, long FileSize, string Ext)
{
    public const int FixedSize = 1 + 8 + ProtocolConstants.FileExtNameMaxLen;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)StorePathIndex);
        w.WriteInt64(FileSize);
        w.WriteFixed(Ext, ProtocolConstants.FileExtNameMaxLen);
    }

    public static UploadFileRequest Parse(ReadOnlySpan<byte> fixedPart)
    {
        var r = new SpanReader(fixedPart);
        return new UploadFileRequest((sbyte)r.ReadByte(), r.ReadInt64(), r.ReadFixed(ProtocolConstants.FileExtNameMaxLen));
    }
}

/// <summary>UPLOAD_SLAVE_FILE (21): master_len, size, prefix[16], ext[6], master name, content.</summary>
public readonly record struct UploadSlaveFileRequest(string MasterLogicName, long FileSize, string Prefix, string Ext)
{
    public const int FixedSize = 8 + 8 + ProtocolConstants.FilePrefixMaxLen + ProtocolConstants.FileExtNameMaxLen;

    public int HeaderSize => FixedSize + Encoding.ASCII.GetByteCount(MasterLogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Encoding.ASCII.GetByteCount(MasterLogicName));
        w.WriteInt64(FileSize);
        w.WriteFixed(Prefix, ProtocolConstants.FilePrefixMaxLen);
        w.WriteFixed(Ext, ProtocolConstants.FileExtNameMaxLen);
        w.WriteAscii(MasterLogicName);
        return w.Position;
    }

    /// <summary>Reads the lengths from the first 16 bytes so a server knows how much header to buffer.</summary>
    public static (long MasterLength, long FileSize) PeekLengths(ReadOnlySpan<byte> first16)
    {
        var r = new SpanReader(first16);
        return (r.ReadInt64(), r.ReadInt64());
    }

    public static UploadSlaveFileRequest Parse(ReadOnlySpan<byte> header)
    {
        var r = new SpanReader(header);
        long masterLen = r.ReadInt64();
        long size = r.ReadInt64();
        string prefix = r.ReadFixed(ProtocolConstants.FilePrefixMaxLen);
        string ext = r.ReadFixed(ProtocolConstants.FileExtNameMaxLen);
        if (masterLen < 0 || masterLen > header.Length)
        {
            throw new ProtocolException($"UPLOAD_SLAVE_FILE master name length {masterLen}");
        }

        string master = FixedString.ReadCString(r.ReadBytes((int)masterLen));
        return new UploadSlaveFileRequest(master, size, prefix, ext);
    }
}

/// <summary>DOWNLOAD_FILE (14): offset, bytes (0 = to the end), group, name.</summary>
public readonly record struct DownloadFileRequest(long Offset, long Length, string Group, string LogicName)
{
    public const int FixedSize = 8 + 8 + ProtocolConstants.GroupNameMaxLen;

    public int Size => FixedSize + Encoding.ASCII.GetByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Offset);
        w.WriteInt64(Length);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteAscii(LogicName);
        return w.Position;
    }

    public static DownloadFileRequest Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        long offset = r.ReadInt64();
        long length = r.ReadInt64();
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        return new DownloadFileRequest(offset, length, group, r.ReadRestAsCString());
    }
}

/// <summary>SET_METADATA (13): name_len, meta_size, op, group, name, packed metadata.</summary>
public readonly record struct SetMetadataRequest(string Group, string LogicName, MetadataOp Op, byte[] PackedMetadata)
{
    public const int FixedSize = 8 + 8 + 1 + ProtocolConstants.GroupNameMaxLen;

    public int Size => FixedSize + Encoding.ASCII.GetByteCount(LogicName) + PackedMetadata.Length;

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Encoding.ASCII.GetByteCount(LogicName));
        w.WriteInt64(PackedMetadata.Length);
        w.WriteByte((byte)Op);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteAscii(LogicName);
        w.WriteBytes(PackedMetadata);
        return w.Position;
    }

    /// <summary>Parses with stock's checks: 0 &lt; name_len &lt; 128, exact length, op 'O'/'M'.</summary>
    public static SetMetadataRequest Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        long nameLen = r.ReadInt64();
        long metaSize = r.ReadInt64();
        byte op = r.ReadByte();
        if (nameLen <= 0 || nameLen >= 128 || metaSize < 0 || body.Length != FixedSize + nameLen + metaSize)
        {
            throw new ProtocolException("SET_METADATA lengths do not match the body");
        }

        if (op != (byte)MetadataOp.Overwrite && op != (byte)MetadataOp.Merge)
        {
            throw new ProtocolException($"SET_METADATA op flag 0x{op:x2} is neither 'O' nor 'M'");
        }

        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        string name = FixedString.ReadCString(r.ReadBytes((int)nameLen));
        return new SetMetadataRequest(group, name, (MetadataOp)op, r.ReadBytes((int)metaSize).ToArray());
    }
}

/// <summary>APPEND_FILE (24): name_len, size, name, data.</summary>
public readonly record struct AppendFileRequest(string LogicName, long FileSize)
{
    public const int FixedSize = 16;

    public int HeaderSize => FixedSize + Encoding.ASCII.GetByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Encoding.ASCII.GetByteCount(LogicName));
        w.WriteInt64(FileSize);
        w.WriteAscii(LogicName);
        return w.Position;
    }
}

/// <summary>MODIFY_FILE (34): name_len, offset, size, name, data.</summary>
public readonly record struct ModifyFileRequest(string LogicName, long Offset, long FileSize)
{
    public const int FixedSize = 24;

    public int HeaderSize => FixedSize + Encoding.ASCII.GetByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Encoding.ASCII.GetByteCount(LogicName));
        w.WriteInt64(Offset);
        w.WriteInt64(FileSize);
        w.WriteAscii(LogicName);
        return w.Position;
    }
}

/// <summary>TRUNCATE_FILE (36): name_len, new size, name.</summary>
public readonly record struct TruncateFileRequest(string LogicName, long NewSize)
{
    public const int FixedSize = 16;

    public int Size => FixedSize + Encoding.ASCII.GetByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(Encoding.ASCII.GetByteCount(LogicName));
        w.WriteInt64(NewSize);
        w.WriteAscii(LogicName);
        return w.Position;
    }
}

/// <summary>Response of uploads and REGENERATE_APPENDER_FILENAME: group[16] + logic name.</summary>
public readonly record struct StoredFileResponse(string Group, string LogicName)
{
    public int Size => ProtocolConstants.GroupNameMaxLen + Encoding.ASCII.GetByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteAscii(LogicName);
        return w.Position;
    }

    public static StoredFileResponse Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length <= ProtocolConstants.GroupNameMaxLen)
        {
            throw new ProtocolException($"file name response of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        return new StoredFileResponse(group, r.ReadRestAsCString());
    }
}

/// <summary>QUERY_FILE_INFO (22) response: size, create time, crc32 (sign-extended), source ip (40 / 70 bytes).</summary>
public readonly record struct FileInfoResponse(long FileSize, long CreateTimestamp, uint Crc32, string SourceIp)
{
    public static int Size(int ipSize) => 24 + ipSize;

    public int Write(Span<byte> destination, int ipSize)
    {
        var w = new SpanWriter(destination);
        w.WriteInt64(FileSize);
        w.WriteInt64(CreateTimestamp);
        w.WriteInt64((int)Crc32); // sign extension as stock does
        w.WriteFixed(SourceIp, ipSize);
        return w.Position;
    }

    public static FileInfoResponse Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size(IpFieldSize.V4) && body.Length != Size(IpFieldSize.V6))
        {
            throw new ProtocolException($"file info response of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        long size = r.ReadInt64();
        long ts = r.ReadInt64();
        uint crc = (uint)r.ReadInt64();
        return new FileInfoResponse(size, ts, crc, r.ReadFixed(body.Length - 24));
    }
}
