using System.Buffers;
using FastDfs.Protocol;

namespace FastDfs.ServerCore.Peers;

/// <summary>
/// One request/reply exchange over a plain <see cref="Stream"/>, for the servers' own short control
/// connections (the peer handshake); clients use pipelined connections, <see cref="PeerChannel"/> the rest.
/// </summary>
public static class StreamExchange
{
    /// <summary>Sends <paramref name="command"/> with <paramref name="body"/> and reads the reply. Returns the
    /// status and the body (empty when the status is not 0). A reply that is not a response frame, or whose
    /// body is negative or over <paramref name="maxReplyBody"/>, is an <see cref="IOException"/> naming <paramref name="peer"/>.</summary>
    public static async Task<(byte Status, byte[] Body)> RequestAsync(
        Stream stream, FdfsCommand command, ReadOnlyMemory<byte> body, long maxReplyBody, string peer, CancellationToken ct)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(ProtocolConstants.HeaderSize + body.Length);
        try
        {
            new PacketHeader(body.Length, command).WriteTo(frame);
            body.Span.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
            await stream.WriteAsync(frame.AsMemory(0, ProtocolConstants.HeaderSize + body.Length), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }

        var headerBytes = new byte[ProtocolConstants.HeaderSize];
        await stream.ReadExactlyAsync(headerBytes, ct).ConfigureAwait(false);
        var header = PacketHeader.Read(headerBytes);
        if (header.Cmd != FdfsCommand.Response || header.BodyLength < 0 || header.BodyLength > maxReplyBody)
        {
            throw new IOException($"{peer} answered {command} with cmd {header.Command}, body {header.BodyLength}");
        }

        var reply = new byte[header.BodyLength];
        await stream.ReadExactlyAsync(reply, ct).ConfigureAwait(false);
        return (header.Status, header.Status == 0 ? reply : []);
    }
}
