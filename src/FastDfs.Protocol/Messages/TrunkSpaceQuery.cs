using System.Buffers.Binary;

namespace FastDfs.Protocol.Messages;

/// <summary>A storage's trunk space, as <see cref="TrunkSpaceQuery"/> answers it (all bytes).</summary>
/// <param name="TrunkFileCount">trunk files this storage knows of</param>
/// <param name="TotalBytes">their total size</param>
/// <param name="UsedBytes">held by live slots</param>
/// <param name="FreeBytes">free for new slots</param>
/// <param name="ReclaimableBytes">free bytes that still hold disk blocks (not punched yet)</param>
/// <param name="ReclaimedBytes">bytes handed back to the file system since the storage started</param>
public readonly record struct TrunkSpace(
    long TrunkFileCount, long TotalBytes, long UsedBytes, long FreeBytes, long ReclaimableBytes, long ReclaimedBytes);

/// <summary>
/// FastDFS.NET-only command to a storage: "how is your trunk space used?", for <c>fdfs monitor</c>. Request: empty
/// body. Response: 48 bytes, six i64be in the order of <see cref="TrunkSpace"/>. A storage without trunk files
/// answers ENOENT; a stock storage answers EINVAL and closes.
/// </summary>
public static class TrunkSpaceQuery
{
    /// <summary>Command byte 241: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)241;

    public const int ResponseSize = 6 * 8;

    public static void WriteResponse(Span<byte> destination, in TrunkSpace space)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, space.TrunkFileCount);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], space.TotalBytes);
        BinaryPrimitives.WriteInt64BigEndian(destination[16..], space.UsedBytes);
        BinaryPrimitives.WriteInt64BigEndian(destination[24..], space.FreeBytes);
        BinaryPrimitives.WriteInt64BigEndian(destination[32..], space.ReclaimableBytes);
        BinaryPrimitives.WriteInt64BigEndian(destination[40..], space.ReclaimedBytes);
    }

    public static TrunkSpace ParseResponse(ReadOnlySpan<byte> body) => body.Length == ResponseSize
        ? new TrunkSpace(
            BinaryPrimitives.ReadInt64BigEndian(body),
            BinaryPrimitives.ReadInt64BigEndian(body[8..]),
            BinaryPrimitives.ReadInt64BigEndian(body[16..]),
            BinaryPrimitives.ReadInt64BigEndian(body[24..]),
            BinaryPrimitives.ReadInt64BigEndian(body[32..]),
            BinaryPrimitives.ReadInt64BigEndian(body[40..]))
        : throw new ProtocolException("trunk space response of " + body.Length + " bytes");
}
