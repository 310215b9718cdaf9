using System.Globalization;

namespace FastDfs.Protocol.Config;

/// <summary>One <c>key = value</c> line as read, with its origin for error messages.</summary>
/// <param name="Key">The key, trimmed.</param>
/// <param name="Value">The value, trimmed (may be empty).</param>
/// <param name="File">The file it came from (an included file for included keys); null for parsed text.</param>
/// <param name="Line">1-based line number within <paramref name="File"/>.</param>
public sealed record IniEntry(string Key, string Value, string? File, int Line);

/// <summary>
/// The items of one ini section, with typed readers that follow libfastcommon's rules.
/// Single-value readers return the <b>last</b> occurrence of a key; keys are case-sensitive.
/// A section may have a fallback section (see <see cref="IniFile.WithGlobalFallback"/>): a key
/// absent here is then looked up there, as stock does for its log keys.
/// </summary>
public sealed class IniSection
{
    private readonly List<IniEntry> _entries;
    private readonly Dictionary<string, List<IniEntry>> _byKey;
    private readonly IniSection? _fallback;

    internal IniSection(string name)
        : this(name, [], new Dictionary<string, List<IniEntry>>(StringComparer.Ordinal), null)
    {
    }

    private IniSection(string name, List<IniEntry> entries, Dictionary<string, List<IniEntry>> byKey,
        IniSection? fallback)
    {
        Name = name;
        _entries = entries;
        _byKey = byKey;
        _fallback = fallback;
    }

    /// <summary>Section name without brackets; empty for the global section.</summary>
    public string Name { get; }

    /// <summary>This section's own items in file order (without fallback items).</summary>
    public IReadOnlyList<IniEntry> Entries => _entries;

    internal void Add(IniEntry entry)
    {
        _entries.Add(entry);
        if (!_byKey.TryGetValue(entry.Key, out var list))
        {
            _byKey[entry.Key] = list = [];
        }
        list.Add(entry);
    }

    /// <summary>A view of the same items that falls back to <paramref name="fallback"/>.</summary>
    internal IniSection WithFallback(IniSection fallback) => new(Name, _entries, _byKey, fallback);

    /// <summary>The last occurrence of <paramref name="key"/>, or null when absent.</summary>
    public IniEntry? Find(string key) =>
        _byKey.TryGetValue(key, out var list) ? list[^1] : _fallback?.Find(key);

    public bool Contains(string key) => Find(key) is not null;

    /// <summary>The last value of <paramref name="key"/>, or null when absent.</summary>
    public string? GetString(string key) => Find(key)?.Value;

    /// <summary>Every value of a repeatable key (e.g. <c>tracker_server</c>) in file order.</summary>
    public IReadOnlyList<string> GetAll(string key)
    {
        if (_byKey.TryGetValue(key, out var list))
        {
            return list.ConvertAll(e => e.Value);
        }
        return _fallback?.GetAll(key) ?? [];
    }

    /// <summary>
    /// True iff the value is <c>true</c>, <c>yes</c> or <c>on</c> (case-insensitive) or exactly
    /// <c>1</c>; any other value (also <c>2</c> or empty) is false, as in stock. Absent → default.
    /// </summary>
    public bool GetBool(string key, bool defaultValue)
    {
        var value = GetString(key);
        return value is null ? defaultValue : ParseBool(value);
    }

    /// <summary>
    /// A plain decimal integer (no units). Unlike stock's <c>atoi</c>, junk such as
    /// <c>22122 # port</c> is an error instead of being silently read as a prefix.
    /// </summary>
    public int GetInt(string key, int defaultValue)
    {
        var entry = Find(key);
        if (entry is null)
        {
            return defaultValue;
        }
        if (int.TryParse(entry.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        throw ConfigException.ForEntry(entry, "is not an integer" + CommentHint(entry.Value));
    }

    /// <summary>
    /// A byte count: integer with optional unit K/M/G/T (powers of 1024, case-insensitive, optional
    /// trailing B, blanks allowed before the unit), e.g. <c>256KB</c>, <c>64 MB</c>, <c>20G</c>.
    /// Negative numbers and unknown units are errors.
    /// </summary>
    public long GetBytes(string key, long defaultValue)
    {
        var entry = Find(key);
        if (entry is null)
        {
            return defaultValue;
        }
        return TryParseBytes(entry.Value, out var bytes, out var error)
            ? bytes
            : throw ConfigException.ForEntry(entry, error + CommentHint(entry.Value));
    }

    /// <summary>A time of day <c>HH:MM</c> or <c>HH:MM:SS</c> (hour 0–23, minute and second 0–59).</summary>
    public TimeOnly GetTime(string key, TimeOnly defaultValue)
    {
        var entry = Find(key);
        if (entry is null)
        {
            return defaultValue;
        }
        return TryParseTime(entry.Value, out var time)
            ? time
            : throw ConfigException.ForEntry(entry, "is not a valid time of day (expected HH:MM)");
    }

    internal static bool ParseBool(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase)
        || value.Equals("yes", StringComparison.OrdinalIgnoreCase)
        || value.Equals("on", StringComparison.OrdinalIgnoreCase)
        || value == "1";

    /// <summary>libfastcommon <c>parse_bytes</c> with a default unit of one byte.</summary>
    internal static bool TryParseBytes(string text, out long bytes, out string error)
    {
        bytes = 0;
        var s = text.AsSpan().TrimStart();
        var i = 0;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            i++;
        }
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }
        if (!long.TryParse(s[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            error = "is not a size (expected e.g. 256KB, 64MB, 20G)";
            return false;
        }
        if (number < 0)
        {
            error = "is negative";
            return false;
        }

        var rest = s[i..].TrimStart(" \t");
        if (rest.IsEmpty)
        {
            bytes = number;
            error = "";
            return true;
        }

        long multiplier = char.ToUpperInvariant(rest[0]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            _ => 0,
        };
        var suffixOk = rest.Length == 1 || (rest.Length == 2 && (rest[1] == 'B' || rest[1] == 'b'));
        if (multiplier == 0 || !suffixOk)
        {
            error = "has an unknown unit (use K, M, G or T, optionally followed by B)";
            return false;
        }
        if (number > long.MaxValue / multiplier)
        {
            error = "is too large";
            return false;
        }
        bytes = number * multiplier;
        error = "";
        return true;
    }

    internal static bool TryParseTime(string text, out TimeOnly time)
    {
        time = default;
        var parts = text.Split(':');
        if (parts.Length is not (2 or 3))
        {
            return false;
        }
        var numbers = new int[3];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }
        if (numbers[0] > 23 || numbers[1] > 59 || numbers[2] > 59)
        {
            return false;
        }
        time = new TimeOnly(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    // A common mistake with FastDFS confs; say so instead of a bare "invalid".
    private static string CommentHint(string value) =>
        value.Contains('#') ? " (trailing comments are not supported: '#' only starts a comment line)" : "";
}
