using System.Buffers;
using System.IO.Pipelines;

namespace FastDfs.Protocol.Framing;

/// <summary>
/// Frame reading and writing over System.IO.Pipelines, shared by the tracker and storage servers
/// (and usable by clients). Bodies larger than a bound are never buffered here: callers stream them.
/// </summary>
public static class FrameIO
{
    /// <summary>Reads the next header; null at a clean end of stream.</summary>
    public static async ValueTask<PacketHeader?> ReadHeaderAsync(this PipeReader reader, CancellationToken ct = default)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (PacketHeader.TryRead(ref buffer, out var header))
            {
                reader.AdvanceTo(buffer.Start);
                return header;
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (buffer.Length == 0)
                {
                    return null;
                }

                throw new EndOfStreamException("connection closed inside a frame header");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Waits until <paramref name="length"/> bytes are buffered and returns them WITHOUT consuming;
    /// the caller must call <c>reader.AdvanceTo(result.End)</c> (or <see cref="Consume"/>) when done.
    /// </summary>
    public static async ValueTask<ReadOnlySequence<byte>> ReadExactlyAsync(this PipeReader reader, long length, CancellationToken ct = default)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= length)
            {
                return buffer.Slice(0, length);
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new EndOfStreamException($"connection closed: expected {length} bytes, got {buffer.Length}");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Consumes a sequence previously returned by <see cref="ReadExactlyAsync"/>.</summary>
    public static void Consume(this PipeReader reader, in ReadOnlySequence<byte> consumed) => reader.AdvanceTo(consumed.End);

    /// <summary>Fills <paramref name="destination"/> from the reader.</summary>
    public static async ValueTask ReadIntoAsync(this PipeReader reader, Memory<byte> destination, CancellationToken ct = default)
    {
        var seq = await reader.ReadExactlyAsync(destination.Length, ct).ConfigureAwait(false);
        seq.CopyTo(destination.Span);
        reader.AdvanceTo(seq.End);
    }

    /// <summary>Reads and discards <paramref name="length"/> bytes (e.g. the rest of a rejected body).</summary>
    public static async ValueTask SkipAsync(this PipeReader reader, long length, CancellationToken ct = default)
    {
        while (length > 0)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            long take = Math.Min(length, buffer.Length);
            reader.AdvanceTo(buffer.GetPosition(take));
            length -= take;
            if (length > 0 && result.IsCompleted)
            {
                throw new EndOfStreamException("connection closed while skipping a body");
            }
        }
    }

    /// <summary>Streams exactly <paramref name="length"/> body bytes to <paramref name="sink"/> segment by segment.</summary>
    public static async ValueTask CopyToAsync(this PipeReader reader, long length, Func<ReadOnlyMemory<byte>, ValueTask> sink, CancellationToken ct = default)
    {
        while (length > 0)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.IsEmpty && result.IsCompleted)
            {
                throw new EndOfStreamException($"connection closed with {length} body bytes outstanding");
            }

            var slice = buffer.Slice(0, Math.Min(length, buffer.Length));
            foreach (var segment in slice)
            {
                await sink(segment).ConfigureAwait(false);
            }

            length -= slice.Length;
            reader.AdvanceTo(slice.End);
        }
    }

    /// <summary>Writes a header-only response with <paramref name="status"/> (no body, as stock requires on errors).</summary>
    public static void WriteStatus(this PipeWriter writer, byte status)
    {
        var span = writer.GetSpan(ProtocolConstants.HeaderSize);
        PacketHeader.Response(0, status).WriteTo(span);
        writer.Advance(ProtocolConstants.HeaderSize);
    }

    /// <summary>Writes a success response header announcing <paramref name="bodyLength"/> bytes.</summary>
    public static void WriteResponseHeader(this PipeWriter writer, long bodyLength)
    {
        var span = writer.GetSpan(ProtocolConstants.HeaderSize);
        PacketHeader.Response(bodyLength).WriteTo(span);
        writer.Advance(ProtocolConstants.HeaderSize);
    }

    /// <summary>Writes a complete success response (header + body).</summary>
    public static void WriteResponse(this PipeWriter writer, ReadOnlySpan<byte> body)
    {
        var span = writer.GetSpan(ProtocolConstants.HeaderSize + body.Length);
        PacketHeader.Response(body.Length).WriteTo(span);
        body.CopyTo(span[ProtocolConstants.HeaderSize..]);
        writer.Advance(ProtocolConstants.HeaderSize + body.Length);
    }

    /// <summary>Writes a request frame (header + body) for clients.</summary>
    public static void WriteRequest(this PipeWriter writer, FdfsCommand command, ReadOnlySpan<byte> body, long totalBodyLength = -1, byte status = 0)
    {
        long len = totalBodyLength < 0 ? body.Length : totalBodyLength;
        var span = writer.GetSpan(ProtocolConstants.HeaderSize + body.Length);
        new PacketHeader(len, command, status).WriteTo(span);
        body.CopyTo(span[ProtocolConstants.HeaderSize..]);
        writer.Advance(ProtocolConstants.HeaderSize + body.Length);
    }
}
