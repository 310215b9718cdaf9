using System.Text;

namespace FastDfs.Protocol;

/// <summary>
/// Fixed-width NUL-padded ASCII fields. Readers stop at the first NUL (bytes after it may be
/// garbage on the wire, spec conventions); writers zero-pad.
/// </summary>
public static class FixedString
{
    public static string Read(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul >= 0 ? field[..nul] : field);
    }

    /// <summary>Reads a variable-length tail (e.g. a file name), stopping at an embedded NUL as C does.</summary>
    public static string ReadCString(ReadOnlySpan<byte> tail) => Read(tail);

    /// <summary>Writes <paramref name="value"/> into <paramref name="field"/>, truncating and zero-padding.</summary>
    public static void Write(Span<byte> field, string? value)
    {
        field.Clear();
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        int n = Math.Min(value.Length, field.Length);
        Encoding.ASCII.GetBytes(value.AsSpan(0, n), field);
    }

    /// <summary>Writes an IP into a response field of which only the first length-1 bytes are
    /// written, as stock does (the next field overwrites the terminator).</summary>
    public static void WriteIpField(Span<byte> field, string ip) => Write(field[..^1], ip);

    public static int ByteCount(string value) => Encoding.ASCII.GetByteCount(value);
}
