using System.Buffers.Binary;
using System.Text;

namespace FastDfs.Protocol;

/// <summary>Sequential big-endian writer over a span; used to build fixed-layout bodies without allocations.</summary>
public ref struct SpanWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;

    public int Position { get; private set; }

    public readonly Span<byte> Written => _buffer[..Position];

    public void WriteByte(byte value) => _buffer[Position++] = value;

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[Position..], value);
        Position += 4;
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], value);
        Position += 8;
    }

    public void WriteFixed(string? value, int size)
    {
        FixedString.Write(_buffer.Slice(Position, size), value);
        Position += size;
    }

    /// <summary>An IP field written stock-style: size-1 bytes of text, then the following field.</summary>
    public void WriteIp(string ip, int size)
    {
        FixedString.Write(_buffer.Slice(Position, size - 1), ip);
        Position += size - 1;
    }

    public void WriteAscii(string value)
    {
        Position += Encoding.ASCII.GetBytes(value, _buffer[Position..]);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[Position..]);
        Position += value.Length;
    }

    public void Skip(int count)
    {
        _buffer.Slice(Position, count).Clear();
        Position += count;
    }
}

/// <summary>Sequential big-endian reader over a span; throws <see cref="ProtocolException"/> on short input.</summary>
public ref struct SpanReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public int Position { get; private set; }

    public readonly int Remaining => _buffer.Length - Position;

    public readonly ReadOnlySpan<byte> Rest => _buffer[Position..];

    private readonly void Need(int count)
    {
        if (Remaining < count)
        {
            throw new ProtocolException($"body too short: need {count} more bytes at offset {Position}, have {Remaining}");
        }
    }

    public byte ReadByte()
    {
        Need(1);
        return _buffer[Position++];
    }

    public int ReadInt32()
    {
        Need(4);
        int v = BinaryPrimitives.ReadInt32BigEndian(_buffer[Position..]);
        Position += 4;
        return v;
    }

    public long ReadInt64()
    {
        Need(8);
        long v = BinaryPrimitives.ReadInt64BigEndian(_buffer[Position..]);
        Position += 8;
        return v;
    }

    public string ReadFixed(int size)
    {
        Need(size);
        string v = FixedString.Read(_buffer.Slice(Position, size));
        Position += size;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        var v = _buffer.Slice(Position, count);
        Position += count;
        return v;
    }

    /// <summary>The rest of the body as a C string (stops at an embedded NUL).</summary>
    public string ReadRestAsCString()
    {
        string v = FixedString.ReadCString(Rest);
        Position = _buffer.Length;
        return v;
    }
}
