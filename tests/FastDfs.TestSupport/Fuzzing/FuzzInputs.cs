using CsCheck;
using FastDfs.Protocol;

namespace FastDfs.TestSupport.Fuzzing;

/// <summary>
/// Generators for the fuzz tests: random bytes, and the corpus (frames captured from stock, testdata/*.hex) mutated
/// by a few random edits. Mutated valid frames reach far deeper into a parser than random bytes do.
/// </summary>
public static class FuzzInputs
{
    /// <summary>
    /// Cases per fuzz test: <c>FASTDFS_FUZZ_ITERATIONS</c> when set (a longer local run), else <paramref name="ciDefault"/>,
    /// the fixed budget the test suite spends.
    /// </summary>
    public static long Iterations(long ciDefault) =>
        long.TryParse(Environment.GetEnvironmentVariable("FASTDFS_FUZZ_ITERATIONS"), out long n) && n > 0 ? n : ciDefault;

    /// <summary>Every request frame of every capture, header included (the corpus).</summary>
    public static IReadOnlyList<CapturedFrame> CapturedRequests { get; } = LoadRequests();

    private static List<CapturedFrame> LoadRequests() =>
        [.. System.IO.Directory.EnumerateFiles(TestData.Directory, "*.hex").Order(StringComparer.Ordinal)
            .SelectMany(path => HexCapture.Load(Path.GetFileName(path)))
            .Where(f => f.IsRequest && f.Bytes.Length >= ProtocolConstants.HeaderSize)];

    /// <summary>The captured requests sent to <paramref name="role"/> ("storage" or "tracker"), header included.</summary>
    public static byte[][] FramesTo(string role) =>
        [.. CapturedRequests.Where(f => f.Title.Contains("->" + role, StringComparison.Ordinal)).Select(f => f.Bytes)];

    /// <summary>Values that sit on boundaries parsers get wrong.</summary>
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'/', (byte)'.', (byte)'\n', (byte)'=', 0x02, 0x03];

    /// <summary>One random edit of a byte string (the input is never changed).</summary>
    private static readonly Gen<Func<byte[], byte[]>> Edit = Gen.OneOf(
        from at in Gen.Int[0, int.MaxValue]
        from value in Gen.Byte
        select (Func<byte[], byte[]>)(x => Replace(x, at, value)),
        from at in Gen.Int[0, int.MaxValue]
        from which in Gen.Int[0, Interesting.Length - 1]
        select (Func<byte[], byte[]>)(x => Replace(x, at, Interesting[which])),
        from at in Gen.Int[0, int.MaxValue]
        from bit in Gen.Int[0, 7]
        select (Func<byte[], byte[]>)(x => x.Length == 0 ? x : Replace(x, at, (byte)(x[at % x.Length] ^ (1 << bit)))),
        from at in Gen.Int[0, int.MaxValue]
        select (Func<byte[], byte[]>)(x => x[..(x.Length == 0 ? 0 : at % x.Length)]),
        from at in Gen.Int[0, int.MaxValue]
        from inserted in Gen.Byte.Array[1, 40]
        select (Func<byte[], byte[]>)(x => Insert(x, at, inserted)),
        from at in Gen.Int[0, int.MaxValue]
        from count in Gen.Int[1, 64]
        select (Func<byte[], byte[]>)(x => Remove(x, at, count)),
        from at in Gen.Int[0, int.MaxValue]
        from count in Gen.Int[1, 64]
        select (Func<byte[], byte[]>)(x => x.Length == 0 ? x : Insert(x, at, x.AsSpan(at % x.Length, Math.Min(count, x.Length - at % x.Length)).ToArray())));

    /// <summary>A seed from <paramref name="seeds"/> after up to 8 random edits, or random bytes.</summary>
    public static Gen<byte[]> Bytes(IReadOnlyList<byte[]> seeds, int maxRandomLength = 600)
    {
        var random = Gen.Byte.Array[0, maxRandomLength];
        if (seeds.Count == 0)
        {
            return random;
        }

        var mutated = from index in Gen.Int[0, seeds.Count - 1]
                      from edits in Edit.Array[0, 8]
                      select edits.Aggregate(seeds[index], (x, edit) => edit(x));
        return Gen.Frequency((3, mutated), (1, random));
    }

    /// <summary>
    /// One request frame: mostly a captured frame whose body got a few random edits, its header then saying the new
    /// length (sometimes a little off, sometimes absurd) and now and then another command; else a random command from
    /// <paramref name="commands"/> or any byte with random bytes.
    /// </summary>
    public static Gen<byte[]> Frame(byte[] commands, IReadOnlyList<byte[]> capturedFrames) =>
        from captured in Gen.Int[0, capturedFrames.Count - 1]
        from fresh in Gen.Int[0, 4]
        from otherCommand in Gen.Frequency((4, Gen.OneOfConst(commands)), (1, Gen.Byte))
        from keepCommand in Gen.Int[0, 5]
        from edits in Edit.Array[0, 6]
        from randomBody in Gen.Byte.Array[0, 300]
        from lengthMode in Gen.Int[0, 11]
        from delta in Gen.Int[-40, 40]
        from absurd in Gen.Long
        let seed = capturedFrames[captured]
        let command = fresh == 0 || keepCommand == 0 ? otherCommand : seed[8]
        let body = fresh == 0 ? randomBody : edits.Aggregate(seed[ProtocolConstants.HeaderSize..], (x, edit) => edit(x))
        select Build(command, body, lengthMode switch
        {
            < 8 => body.Length,
            8 or 9 => Math.Max(0, body.Length + delta),
            10 => absurd,
            _ => absurd & 0x7FFF_FFFF,
        });

    public static byte[] Build(byte command, ReadOnlySpan<byte> body, long declaredLength)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        new PacketHeader(declaredLength, (FdfsCommand)command).WriteTo(frame);
        body.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
        return frame;
    }

    /// <summary>Printable form of a failing case (CsCheck shows it with the seed).</summary>
    public static string Hex(byte[] bytes) => bytes.Length <= 256
        ? Convert.ToHexString(bytes)
        : Convert.ToHexString(bytes, 0, 256) + $"... ({bytes.Length} bytes)";

    private static byte[] Replace(byte[] x, int at, byte value)
    {
        if (x.Length == 0)
        {
            return [value];
        }

        var y = (byte[])x.Clone();
        y[at % y.Length] = value;
        return y;
    }

    private static byte[] Insert(byte[] x, int at, byte[] inserted)
    {
        int position = x.Length == 0 ? 0 : at % (x.Length + 1);
        return [.. x.AsSpan(0, position), .. inserted, .. x.AsSpan(position)];
    }

    private static byte[] Remove(byte[] x, int at, int count)
    {
        if (x.Length == 0)
        {
            return x;
        }

        int position = at % x.Length;
        int removed = Math.Min(count, x.Length - position);
        return [.. x.AsSpan(0, position), .. x.AsSpan(position + removed)];
    }
}
