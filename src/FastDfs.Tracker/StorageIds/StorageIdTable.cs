using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;

namespace FastDfs.Tracker.StorageIds;

/// <summary>One line of storage_ids.conf: <c>&lt;id&gt; &lt;group&gt; &lt;ip|ip,ip|[ipv6]&gt;[:port] [rw=mode]</c>.</summary>
internal sealed record StorageIdEntry(string Id, string Group, IReadOnlyList<string> Ips, int Port, byte RwMode)
{
    /// <summary>The line FETCH_STORAGE_IDS sends (spec 4.16): the port only when given, rw only when not both.</summary>
    public string ToLine()
    {
        var text = new StringBuilder();
        text.Append(Id).Append(' ').Append(Group).Append(' ');
        text.Append(string.Join(",", Ips.Select(ip => ip.Contains(':') ? $"[{ip}]" : ip)));
        if (Port > 0)
        {
            text.Append(':').Append(Port.ToString(CultureInfo.InvariantCulture));
        }

        if (RwMode != StorageIdTable.RwBoth)
        {
            text.Append(" rw=").Append(RwMode switch { 0 => "none", StorageIdTable.RwRead => "read", _ => "write" });
        }

        return text.Append('\n').ToString();
    }

    public bool Matches(string ip, int port) => Ips.Contains(ip) && (Port == 0 || port == 0 || Port == port);
}

/// <summary>
/// storage_ids.conf (use_storage_id = true): the fixed identity of every storage. A storage keeps its id
/// (and so its file names and its records on the trackers) when its address changes.
/// </summary>
internal sealed class StorageIdTable
{
    public const byte RwRead = 4;
    public const byte RwWrite = 2;
    public const byte RwBoth = RwRead | RwWrite;

    private readonly List<StorageIdEntry> _entries;

    private StorageIdTable(List<StorageIdEntry> entries) => _entries = entries;

    public IReadOnlyList<StorageIdEntry> Entries => _entries;

    /// <summary>true when an entry holds an IPv6 address (response_ip_addr_size auto then means 46).</summary>
    public bool HasIpv6 => _entries.Any(e => e.Ips.Any(ip => ip.Contains(':')));

    public static StorageIdTable Load(string path) => Parse(File.ReadAllText(path), path);

    /// <exception cref="ConfigException">A malformed line.</exception>
    public static StorageIdTable Parse(string text, string source)
    {
        var entries = new List<StorageIdEntry>();
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[0].Length >= ProtocolConstants.StorageIdMaxSize ||
                !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new ConfigException($"invalid storage id line \"{line}\"", source, lineNumber);
            }

            var (ips, port) = ParseAddress(parts[2], source, lineNumber);
            byte rw = RwBoth;
            if (parts.Length > 3)
            {
                string mode = parts[3].StartsWith("rw=", StringComparison.OrdinalIgnoreCase) ? parts[3][3..].ToLowerInvariant() : "";
                rw = mode switch
                {
                    "none" => 0,
                    "read" or "readonly" => RwRead,
                    "write" or "writeonly" => RwWrite,
                    "both" or "all" => RwBoth,
                    _ => throw new ConfigException($"invalid rw mode \"{parts[3]}\"", source, lineNumber),
                };
            }

            if (entries.Any(e => e.Id == parts[0]))
            {
                throw new ConfigException($"duplicate storage id {parts[0]}", source, lineNumber);
            }

            entries.Add(new StorageIdEntry(parts[0], parts[1], ips, port, rw));
        }

        return new StorageIdTable(entries);
    }

    private static (IReadOnlyList<string> Ips, int Port) ParseAddress(string text, string source, int line)
    {
        try
        {
            if (!text.Contains(':') || text.StartsWith('[') && text.EndsWith(']'))
            {
                return (text.Split(',').Select(h => h.Trim('[', ']')).ToArray(), 0);
            }

            var address = TrackerAddress.Parse(text);
            return (address.Hosts, address.Port);
        }
        catch (FormatException e)
        {
            throw new ConfigException(e.Message, source, line);
        }
    }

    public StorageIdEntry? FindById(string id) => _entries.Find(e => e.Id == id);

    /// <summary>The entry of the storage at ip[:port], in the given group when one is given.</summary>
    public StorageIdEntry? Find(string? group, string ip, int port) =>
        _entries.Find(e => (group is null || e.Group == group) && e.Matches(ip, port));
}
