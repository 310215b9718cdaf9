using System.Globalization;

namespace FastDfs.Protocol.Config;

/// <summary>
/// <c>reserved_storage_space</c> (§11.6): either an absolute size in MB or a ratio of the total
/// space. The tracker's value is authoritative; storages receive it in PARAMETER_REQ (§4.15).
/// </summary>
public sealed record ReservedSpace
{
    public const string Key = "reserved_storage_space";

    private ReservedSpace(bool isRatio, long megabytes, double ratio)
    {
        IsRatio = isRatio;
        Megabytes = megabytes;
        Ratio = ratio;
    }

    /// <summary>Stock default when the key is absent: 1024 MB.</summary>
    public static ReservedSpace Default { get; } = FromMegabytes(1024);

    /// <summary>True for a ratio (<c>20%</c>), false for an absolute size.</summary>
    public bool IsRatio { get; }

    /// <summary>Absolute reserve in MB (0 in ratio mode).</summary>
    public long Megabytes { get; }

    /// <summary>Reserved fraction, 0 &lt; Ratio &lt; 1 (<c>20%</c> → 0.2); 0 in MB mode.</summary>
    public double Ratio { get; }

    public static ReservedSpace FromMegabytes(long megabytes) =>
        megabytes >= 0
            ? new ReservedSpace(false, megabytes, 0)
            : throw new ArgumentOutOfRangeException(nameof(megabytes), megabytes, "must be >= 0");

    /// <param name="ratio">A fraction, e.g. 0.2 for 20%.</param>
    public static ReservedSpace FromRatio(double ratio) =>
        ratio is > 0 and < 1
            ? new ReservedSpace(true, 0, ratio)
            : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "must be > 0 and < 1");

    /// <summary>
    /// Parses <c>20%</c>, <c>12.5%</c> (0 &lt; r &lt; 100), or a size: <c>10G</c>, <c>1024M</c>,
    /// <c>1024MB</c>, or a plain byte count, converted to MB by integer division. Also reads the
    /// PARAMETER_REQ forms <c>20.00%</c> and <c>1024MB</c>.
    /// </summary>
    /// <exception cref="ConfigException">Empty or invalid value.</exception>
    public static ReservedSpace Parse(string value) => Parse(new IniEntry(Key, value, null, 0));

    internal static ReservedSpace Parse(IniEntry entry)
    {
        var value = entry.Value;
        if (value.Length == 0)
        {
            throw ConfigException.ForEntry(entry, "is empty");
        }
        if (value[^1] == '%')
        {
            // Like strtod: leading blanks allowed, nothing between the number and '%'.
            const NumberStyles style = NumberStyles.AllowLeadingWhite | NumberStyles.AllowLeadingSign
                | NumberStyles.AllowDecimalPoint;
            if (!double.TryParse(value.AsSpan(0, value.Length - 1), style, CultureInfo.InvariantCulture, out var percent)
                || percent is <= 0 or >= 100)
            {
                throw ConfigException.ForEntry(entry, "is not a valid ratio (expected 0 < n < 100, e.g. 20%)");
            }
            return new ReservedSpace(true, 0, percent / 100);
        }
        if (!IniSection.TryParseBytes(value, out var bytes, out var error))
        {
            throw ConfigException.ForEntry(entry, error);
        }
        return new ReservedSpace(false, bytes / (1024 * 1024), 0);
    }

    /// <summary>The PARAMETER_REQ form (§4.15): <c>20.00%</c> or <c>1024MB</c>.</summary>
    public string ToParameterString() =>
        IsRatio
            ? (Ratio * 100).ToString("F2", CultureInfo.InvariantCulture) + "%"
            : Megabytes.ToString(CultureInfo.InvariantCulture) + "MB";

    public override string ToString() => ToParameterString();

    /// <summary>
    /// Group check: MB mode <c>free &gt; reserved</c>; ratio mode <c>free / total &gt; ratio</c>
    /// (false when total is 0). With trunk files, pass the group's trunk free space as well.
    /// </summary>
    public bool GroupHasSpace(long freeMb, long totalMb, long trunkFreeMb = 0)
    {
        var free = freeMb + trunkFreeMb;
        if (!IsRatio)
        {
            return free > Megabytes;
        }
        return totalMb != 0 && (double)free / totalMb > Ratio;
    }

    /// <summary>
    /// Per store path check (tracker and storage): MB mode <c>pathFree &gt; reserved / pathCount</c>
    /// (integer division); ratio mode <c>pathFree / pathTotal &gt; ratio</c>. For the storage's upload
    /// check pass <c>pathFreeMb − fileSizeMb</c>.
    /// </summary>
    public bool PathHasSpace(long pathFreeMb, long pathTotalMb, int storePathCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(storePathCount);
        if (!IsRatio)
        {
            return pathFreeMb > Megabytes / storePathCount;
        }
        return pathTotalMb != 0 && (double)pathFreeMb / pathTotalMb > Ratio;
    }

    /// <summary>The <c>reserved_mb</c> reported in stats: the MB value, or <c>total × ratio</c>.</summary>
    public long ReservedMb(long totalMb) => IsRatio ? (long)(totalMb * Ratio) : Megabytes;
}
