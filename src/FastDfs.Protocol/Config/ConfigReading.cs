namespace FastDfs.Protocol.Config;

/// <summary>Validation rules shared by the tracker, storage and client configs.</summary>
internal static class ConfigReading
{
    public const int MaxTrackers = 16;
    public const int GroupNameMaxLength = 16;

    /// <summary>Stock treats a value ≤ 0 of most intervals and timeouts as "use the default".</summary>
    public static int PositiveOrDefault(IniSection section, string key, int defaultValue)
    {
        var value = section.GetInt(key, defaultValue);
        return value > 0 ? value : defaultValue;
    }

    /// <summary>Values where stock refuses to start when ≤ 0 (thread counts and the like).</summary>
    public static int RequirePositive(IniSection section, string key, int defaultValue)
    {
        var value = section.GetInt(key, defaultValue);
        return value > 0 ? value : throw ConfigException.ForEntry(section.Find(key)!, "must be > 0");
    }

    /// <summary>A listen or peer port: ≤ 0 → default (stock), above 65535 → error.</summary>
    public static int Port(IniSection section, string key, int defaultValue)
    {
        var value = section.GetInt(key, defaultValue);
        if (value > 65535)
        {
            throw ConfigException.ForEntry(section.Find(key)!, "is not a valid port (1..65535)");
        }
        return value > 0 ? value : defaultValue;
    }

    public static long ClampBytes(IniSection section, string key, long defaultValue, long min, long max) =>
        Math.Clamp(section.GetBytes(key, defaultValue), min, max);

    /// <summary>A size stock keeps in an int (trunk and slot sizes).</summary>
    public static int IntBytes(IniSection section, string key, long defaultValue)
    {
        var value = section.GetBytes(key, defaultValue);
        return value <= int.MaxValue ? (int)value : throw ConfigException.ForEntry(section.Find(key)!, "is too large (max 2GB - 1)");
    }

    public static string RequireNonEmpty(IniFile ini, string key)
    {
        var entry = ini.Global.Find(key) ?? throw new ConfigException("is required", ini.Path, key: key);
        return entry.Value.Length > 0 ? entry.Value : throw ConfigException.ForEntry(entry, "must not be empty");
    }

    /// <summary>Stock's chopPath: drops trailing slashes (but keeps a lone "/").</summary>
    public static string ChopPath(string path)
    {
        var chopped = path.TrimEnd('/');
        return chopped.Length == 0 && path.Length > 0 ? "/" : chopped;
    }

    /// <summary>Relative names are relative to the directory of the top-level conf file.</summary>
    public static string ResolvePath(IniFile ini, string name) =>
        Path.GetFullPath(Path.Combine(ini.BaseDirectory, name));

    /// <summary>Group names are 1..16 characters of <c>[A-Za-z0-9]</c>.</summary>
    public static string ValidateGroupName(IniEntry entry)
    {
        var name = entry.Value;
        if (name.Length == 0)
        {
            throw ConfigException.ForEntry(entry, "must not be empty");
        }
        if (!IsValidGroupName(name))
        {
            throw ConfigException.ForEntry(entry, $"is not a valid group name (1..{GroupNameMaxLength} characters of A-Z, a-z, 0-9)");
        }
        return name;
    }

    public static bool IsValidGroupName(string name) =>
        name.Length is > 0 and <= GroupNameMaxLength && name.All(char.IsAsciiLetterOrDigit);

    /// <summary>All <c>tracker_server</c> lines: required unless <paramref name="required"/> is false; duplicates dropped; the first 16 kept (stock's limit).</summary>
    public static IReadOnlyList<TrackerAddress> TrackerServers(IniFile ini, bool required = true)
    {
        const string key = "tracker_server";
        var entries = ini.Global.Entries.Where(e => e.Key == key).ToList();
        if (entries.Count == 0 && !required)
        {
            return [];
        }

        if (entries.Count == 0)
        {
            throw new ConfigException("is required (at least one host:port line)", ini.Path, key: key);
        }
        var servers = new List<TrackerAddress>();
        foreach (var entry in entries)
        {
            TrackerAddress address;
            try
            {
                address = TrackerAddress.Parse(entry.Value);
            }
            catch (FormatException e)
            {
                throw ConfigException.ForEntry(entry, "is not a valid host:port", e);
            }
            if (!servers.Contains(address))
            {
                servers.Add(address);
            }
            if (servers.Count == MaxTrackers)
            {
                break;
            }
        }
        return servers;
    }

    /// <summary><c>allow_hosts</c> values as written (CIDR and ranges are not expanded here); absent → <c>*</c>.</summary>
    public static IReadOnlyList<string> AllowHosts(IniSection global)
    {
        var hosts = global.GetAll("allow_hosts");
        return hosts.Count > 0 ? hosts : ["*"];
    }

    /// <summary>
    /// Network buffers (§1.3): max_pkg_size = buff_size (8KB..2GB). min/max_buff_size apply only when both
    /// keys are present; then max_buff_size is raised to at least max_pkg_size and max_pkg_size to
    /// max_buff_size. Otherwise both equal max_pkg_size.
    /// </summary>
    public static NetworkBuffers ReadNetworkBuffers(IniSection global)
    {
        const long maxNetworkBuff = 2L << 30;
        var buffSize = ClampBytes(global, "buff_size", NetworkBuffers.DefaultSize, 8 << 10, maxNetworkBuff);
        var maxPackage = buffSize;
        if (!global.Contains("min_buff_size") || !global.Contains("max_buff_size"))
        {
            return new NetworkBuffers(buffSize, maxPackage, maxPackage, maxPackage);
        }
        var min = ClampBytes(global, "min_buff_size", 64 << 10, 4 << 10, maxNetworkBuff);
        var max = ClampBytes(global, "max_buff_size", 256 << 10, 8 << 10, maxNetworkBuff);
        if (max < maxPackage)
        {
            max = maxPackage;
        }
        else
        {
            maxPackage = max;
        }
        max = Math.Max(max, min);
        return new NetworkBuffers(buffSize, min, max, maxPackage);
    }
}

internal readonly record struct NetworkBuffers(long BuffSize, long MinBuffSize, long MaxBuffSize, long MaxPackageSize)
{
    public const long DefaultSize = 256 << 10;
}
