using System.Globalization;
using System.Text;

namespace FastDfs.Storage.Store;

/// <summary>
/// The storage's own <c>key=value</c> state files (<c>.data_init_flag</c>, <c>storage_stat.dat</c>,
/// <c>binlog_index.dat</c>, sync marks): written whole, fsynced and renamed into place (<see cref="DurableFiles"/>),
/// so a crash leaves the old or the new file. These are state files, not configuration, so they do not go through
/// the stock .conf parser.
/// </summary>
internal static class StateFile
{
    /// <summary>The values of <paramref name="path"/>; null when the file does not exist.</summary>
    /// <param name="path">The state file.</param>
    /// <param name="remedy">What an operator should do when the file is damaged (ends the error message).</param>
    /// <exception cref="InvalidDataException">The file exists but holds no <c>key=value</c> line (empty or torn).</exception>
    public static Dictionary<string, string>? TryRead(string path, string remedy)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int eq = line.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }

            values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }

        if (values.Count == 0)
        {
            throw new InvalidDataException($"{path} is empty or damaged (no key=value line): {remedy}");
        }

        return values;
    }

    public static void WriteAtomic(string path, IEnumerable<KeyValuePair<string, string>> entries)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in entries)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        DurableFiles.WriteAtomic(path, Encoding.ASCII.GetBytes(text.ToString()));
    }

    /// <summary>The value of <paramref name="key"/>, or <paramref name="fallback"/> when it is absent or not a number.</summary>
    public static long GetLong(this Dictionary<string, string> values, string key, long fallback = 0) =>
        values.TryGetValue(key, out var text) &&
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : fallback;

    /// <summary>The value of <paramref name="key"/>; null when it is absent or not a number.</summary>
    public static long? GetLongOrNull(this Dictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var text) &&
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;

    public static string GetString(this Dictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var text) ? text : string.Empty;

    public static KeyValuePair<string, string> Entry(string key, long value) =>
        new(key, value.ToString(CultureInfo.InvariantCulture));

    public static KeyValuePair<string, string> Entry(string key, string value) => new(key, value);
}
