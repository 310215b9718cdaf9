using System.Globalization;

namespace FastDfs.Bench;

/// <summary>Byte counts as people write them: <c>4096</c>, <c>4KB</c>, <c>64K</c>, <c>1MB</c>, <c>32MiB</c> (powers of 1024).</summary>
public static class ByteSize
{
    public static long Parse(string text)
    {
        if (!TryParse(text, out long value))
        {
            throw new FormatException($"invalid size '{text}': expected e.g. 4096, 4KB, 1MB");
        }

        return value;
    }

    public static bool TryParse(string? text, out long value)
    {
        value = 0;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        int unitStart = 0;
        while (unitStart < text.Length && (char.IsAsciiDigit(text[unitStart]) || text[unitStart] == '.'))
        {
            unitStart++;
        }

        if (unitStart == 0 || !double.TryParse(text.AsSpan(0, unitStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
        {
            return false;
        }

        long multiplier = text[unitStart..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => -1,
        };
        if (multiplier < 0)
        {
            return false;
        }

        double bytes = number * multiplier;
        if (bytes is < 0 or > long.MaxValue / 2 || bytes != Math.Floor(bytes))
        {
            return false;
        }

        value = (long)bytes;
        return true;
    }

    /// <summary>Parses a fixed size (<c>4KB</c>) or an inclusive range (<c>1KB-64KB</c>).</summary>
    public static (long Min, long Max) ParseRange(string text)
    {
        int dash = text.IndexOf('-', 1);
        long min = Parse(dash < 0 ? text : text[..dash]);
        long max = dash < 0 ? min : Parse(text[(dash + 1)..]);
        if (max < min)
        {
            throw new FormatException($"invalid size range '{text}': the maximum is below the minimum");
        }

        return (min, max);
    }

    /// <summary>Short human form: 4KB, 1MB, 1.5MB, 512B.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + "GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + "MB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.##", CultureInfo.InvariantCulture) + "KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
