using System.IO.Hashing;

namespace FastDfs.Bench;

/// <summary>
/// Deterministic file content: file <c>key</c> of length L is the cyclic byte pattern read from an offset
/// derived from the key, so any byte of any file can be checked without storing what was sent.
/// The pattern is 1 MiB of seeded random bytes (incompressible, shared, read-only).
/// </summary>
public static class BenchContent
{
    public const int PatternLength = 1 << 20;

    private static readonly byte[] Pattern = CreatePattern();

    /// <summary>Where file <paramref name="key"/> starts in the pattern.</summary>
    public static int StartOf(long key) => (int)(((ulong)key * 2654435761UL) % PatternLength);

    /// <summary>The file size for <paramref name="key"/> in [min, max] (fixed when min == max).</summary>
    public static long SizeOf(long key, long min, long max) =>
        min == max ? min : min + (long)(Mix((ulong)key) % (ulong)(max - min + 1));

    /// <summary>A well-spread 64-bit hash (splitmix64 finaliser) for choosing sizes, files and op kinds.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Copies the content bytes of a file starting at <paramref name="position"/> (cyclic over the pattern).</summary>
    internal static void Fill(Span<byte> destination, int patternStart, long position)
    {
        int at = (int)((patternStart + position) % PatternLength);
        while (!destination.IsEmpty)
        {
            int take = Math.Min(destination.Length, PatternLength - at);
            Pattern.AsSpan(at, take).CopyTo(destination);
            destination = destination[take..];
            at = 0;
        }
    }

    /// <summary>True when <paramref name="data"/> equals the content bytes at <paramref name="position"/>.</summary>
    internal static bool Matches(ReadOnlySpan<byte> data, int patternStart, long position)
    {
        int at = (int)((patternStart + position) % PatternLength);
        while (!data.IsEmpty)
        {
            int take = Math.Min(data.Length, PatternLength - at);
            if (!data[..take].SequenceEqual(Pattern.AsSpan(at, take)))
            {
                return false;
            }

            data = data[take..];
            at = 0;
        }

        return true;
    }

    private static byte[] CreatePattern()
    {
        var pattern = new byte[PatternLength];
        new Random(20261124).NextBytes(pattern);
        return pattern;
    }
}

/// <summary>A read-only stream producing the content of one file (reused per worker), with its CRC-32.</summary>
internal sealed class PatternStream : Stream
{
    private readonly Crc32 _crc = new();
    private int _start;
    private long _length;
    private long _position;

    public void Reset(long key, long length)
    {
        _start = BenchContent.StartOf(key);
        _length = length;
        _position = 0;
        _crc.Reset();
    }

    public uint Crc32 => _crc.GetCurrentHashAsUInt32();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int take = (int)Math.Min(buffer.Length, _length - _position);
        var chunk = buffer[..take];
        BenchContent.Fill(chunk, _start, _position);
        _crc.Append(chunk);
        _position += take;
        return take;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// A write-only sink that checks every downloaded byte: against the known content when the file's key is
/// known (files this run uploaded), else by CRC-32 against the one encoded in the file name.
/// </summary>
internal sealed class VerifyingStream : Stream
{
    private readonly Crc32 _crc = new();
    private int _start;
    private bool _knownContent;
    private long _position;

    public bool Mismatch { get; private set; }

    public long Written => _position;

    public uint Crc32 => _crc.GetCurrentHashAsUInt32();

    /// <summary>Prepares for a file whose content is known from its key (<paramref name="key"/> ≥ 0) or not (-1).</summary>
    public void Reset(long key)
    {
        _knownContent = key >= 0;
        _start = _knownContent ? BenchContent.StartOf(key) : 0;
        _position = 0;
        Mismatch = false;
        _crc.Reset();
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_knownContent)
        {
            Mismatch |= !BenchContent.Matches(buffer, _start, _position);
        }
        else
        {
            _crc.Append(buffer);
        }

        _position += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
