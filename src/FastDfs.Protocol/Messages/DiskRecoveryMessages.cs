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
