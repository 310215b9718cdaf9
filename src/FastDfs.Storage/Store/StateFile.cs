using System.Globalization;
using System.Text;

namespace FastDfs.Storage.Store;

/// <summary>
/// The storage's own <c>key=value</c> state files (<c>.data_init_flag</c>, <c>storage_stat.dat</c>,
/// <c>binlog_index.dat</c>): written whole and renamed into place so a crash never leaves half a file.
/// These are state files, not configuration, so they do not go through the stock .conf parser.
/// </summary>
internal static class StateFile
{
    public static Dictionary<string, string>? TryRead(string path)
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

        return values;
    }

    public static void WriteAtomic(string path, IEnumerable<KeyValuePair<string, string>> entries)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in entries)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        string temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString(), Encoding.ASCII);
        File.Move(temp, path, overwrite: true);
    }

    public static long GetLong(this Dictionary<string, string> values, string key, long fallback = 0) =>
        values.TryGetValue(key, out var text) &&
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : fallback;

    public static string GetString(this Dictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var text) ? text : string.Empty;

    public static KeyValuePair<string, string> Entry(string key, long value) =>
        new(key, value.ToString(CultureInfo.InvariantCulture));

    public static KeyValuePair<string, string> Entry(string key, string value) => new(key, value);
}
