using System.Buffers.Binary;

namespace FastDfs.Protocol.Messages;

/// <summary>
/// FastDFS.NET-only command to a storage: "which HTTP port do you serve files on?". Stock 6.x dropped the
/// storage's HTTP port from every message, so the tracker's HTTP gateway and a storage redirecting to a
/// peer ask the peer's storage port directly. Request: empty body. Response: 8 bytes, i64be port (0 = HTTP
/// off). A stock storage answers EINVAL and closes: callers then fall back to a configured port.
/// </summary>
public static class HttpPortQuery
{
    /// <summary>Command byte 240: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)240;

    public const int ResponseSize = 8;

    public static void WriteResponse(Span<byte> destination, int port) => BinaryPrimitives.WriteInt64BigEndian(destination, port);

    public static int ParseResponse(ReadOnlySpan<byte> body) =>
        body.Length == ResponseSize ? (int)BinaryPrimitives.ReadInt64BigEndian(body) : throw new ProtocolException("HTTP port response of " + body.Length + " bytes");
}
