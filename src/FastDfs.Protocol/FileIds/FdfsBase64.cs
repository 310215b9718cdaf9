namespace FastDfs.Protocol.FileIds;

/// <summary>
/// FastDFS's base64 variant: standard bit order, alphabet A-Z a-z 0-9 '-' '_', pad '.', and
/// written without padding (20 bytes -> 27 characters, 12 -> 16, 56 -> 75).
/// </summary>
public static class FdfsBase64
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static readonly sbyte[] Reverse = BuildReverse();

    private static sbyte[] BuildReverse()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            table[Alphabet[i]] = (sbyte)i;
        }

        return table;
    }

    public static int EncodedLength(int byteCount) => (byteCount * 8 + 5) / 6;

    /// <summary>Encodes without padding into <paramref name="destination"/>; returns characters written.</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<char> destination)
    {
        int o = 0;
        int i = 0;
        for (; i + 3 <= source.Length; i += 3)
        {
            int v = (source[i] << 16) | (source[i + 1] << 8) | source[i + 2];
            destination[o++] = Alphabet[(v >> 18) & 63];
            destination[o++] = Alphabet[(v >> 12) & 63];
            destination[o++] = Alphabet[(v >> 6) & 63];
            destination[o++] = Alphabet[v & 63];
        }

        int rest = source.Length - i;
        if (rest == 1)
        {
            int v = source[i] << 16;
            destination[o++] = Alphabet[(v >> 18) & 63];
            destination[o++] = Alphabet[(v >> 12) & 63];
        }
        else if (rest == 2)
        {
            int v = (source[i] << 16) | (source[i + 1] << 8);
            destination[o++] = Alphabet[(v >> 18) & 63];
            destination[o++] = Alphabet[(v >> 12) & 63];
            destination[o++] = Alphabet[(v >> 6) & 63];
        }

        return o;
    }

    public static string Encode(ReadOnlySpan<byte> source)
    {
        Span<char> chars = stackalloc char[EncodedLength(source.Length)];
        int n = Encode(source, chars);
        return new string(chars[..n]);
    }

    /// <summary>Decodes unpadded (or '.'-padded) text; returns false on a character outside the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        while (text.Length > 0 && text[^1] == '.')
        {
            text = text[..^1];
        }

        written = 0;
        int acc = 0;
        int bits = 0;
        foreach (char c in text)
        {
            int v = c < 128 ? Reverse[c] : -1;
            if (v < 0)
            {
                return false;
            }

            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                if (written >= destination.Length)
                {
                    return false;
                }

                destination[written++] = (byte)(acc >> bits);
                acc &= (1 << bits) - 1;
            }
        }

        return true;
    }

    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        var bytes = new byte[text.Length * 6 / 8];
        if (!TryDecode(text, bytes, out int n))
        {
            throw new FormatException("invalid FastDFS base64 text");
        }

        return n == bytes.Length ? bytes : bytes[..n];
    }
}
