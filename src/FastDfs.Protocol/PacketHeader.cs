using System.Buffers;
using System.Buffers.Binary;

namespace FastDfs.Protocol;

/// <summary>The 10-byte header of every FastDFS frame: i64be body length, command, status.</summary>
public readonly record struct PacketHeader(long BodyLength, byte Command, byte Status)
{
    public PacketHeader(long bodyLength, FdfsCommand command, byte status = 0)
        : this(bodyLength, (byte)command, status)
    {
    }

    public FdfsCommand Cmd => (FdfsCommand)Command;

    public static PacketHeader Response(long bodyLength, byte status = 0) =>
        new(bodyLength, (byte)FdfsCommand.Response, status);

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, BodyLength);
        destination[8] = Command;
        destination[9] = Status;
    }

    public static PacketHeader Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadInt64BigEndian(source), source[8], source[9]);

    /// <summary>Reads a header from the front of a (possibly multi-segment) sequence.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out PacketHeader header)
    {
        if (buffer.Length < ProtocolConstants.HeaderSize)
        {
            header = default;
            return false;
        }

        Span<byte> bytes = stackalloc byte[ProtocolConstants.HeaderSize];
        buffer.Slice(0, ProtocolConstants.HeaderSize).CopyTo(bytes);
        header = Read(bytes);
        buffer = buffer.Slice(ProtocolConstants.HeaderSize);
        return true;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[ProtocolConstants.HeaderSize];
        WriteTo(bytes);
        return bytes;
    }
}
