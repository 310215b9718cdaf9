namespace FastDfs.Protocol.Config;

/// <summary>
/// Stock keys FastDFS.NET reads (and checks as stock does) but does not act on, with the reason. A conf that sets one to
/// a value other than the one in stock's sample conf gets a warning at start: left at the sample's value it changes
/// nothing either way (docs/configuration.md, "Stock keys not acted on").
/// </summary>
public static class StockKeysNotActedOn
{
    /// <param name="Section">the conf's section: empty for the global keys</param>
    /// <param name="SampleValue">the value of stock's sample conf</param>
    public sealed record Key(string Name, string SampleValue, string Why, string Section = "");

    private const string Threads = "threads are .NET's (socket engine, thread pool), sized by the runtime";

    private static readonly Key[] Common =
    [
        new("accept_threads", "1", Threads),
        new("work_threads", "4", Threads),
        new("use_io_uring", "false", "sockets use epoll through .NET; no io_uring"),
        new("use_send_zc", "true", "no io_uring zero-copy send (downloads use sendfile)"),
        new("run_by_group", "", "the daemon keeps the user and group it was started with (use systemd's User=/Group=)"),
        new("run_by_user", "", "the daemon keeps the user and group it was started with (use systemd's User=/Group=)"),
    ];

    /// <summary>tracker.conf's keys not acted on.</summary>
    public static IReadOnlyList<Key> Tracker { get; } =
    [
        .. Common,
        new("thread_stack_size", "256KB", Threads),
        new("min_buff_size", "8KB", "receive buffers are pooled 64 KB blocks, whatever the request"),
        new("max_buff_size", "128KB", "receive buffers are pooled 64 KB blocks, whatever the request"),
    ];

    /// <summary>storage.conf's keys not acted on.</summary>
    public static IReadOnlyList<Key> Storage { get; } =
    [
        .. Common,
        new("thread_stack_size", "512KB", Threads),
        new("disk_rw_separated", "true", "disk reads and writes run on the request's thread (a slow disk is isolated per store path instead)"),
        new("disk_reader_threads", "2", "disk reads and writes run on the request's thread (a slow disk is isolated per store path instead)"),
        new("disk_writer_threads", "1", "disk reads and writes run on the request's thread (a slow disk is isolated per store path instead)"),
        new("sync_min_threads", "1", "replication runs one worker per peer storage"),
        new("sync_max_threads", "auto", "replication runs one worker per peer storage"),
        new("sync_start_time", "00:00", "replication runs at any time of day"),
        new("sync_end_time", "23:59", "replication runs at any time of day"),
        new("fsync_after_written_bytes", "0", "no fsync during a write; sync_ack_replicas and the binlog settings give durability (docs/replication.md)"),
        new("if_alias_prefix", "", "local addresses come from all interfaces"),
        new("check_file_duplicate", "0", "no FastDHT: duplicate files are stored as separate files"),
        new("file_signature_method", "hash", "no FastDHT: duplicate files are stored as separate files"),
        new("key_namespace", "FastDFS", "no FastDHT: duplicate files are stored as separate files"),
        new("keep_alive", "0", "no FastDHT: duplicate files are stored as separate files"),
        new("compress_binlog", "true", "binlog files are kept uncompressed"),
        new("compress_binlog_time", "01:30", "binlog files are kept uncompressed"),
    ];

    /// <summary>One warning for each key of <paramref name="keys"/> that <paramref name="ini"/> sets to another value than stock's sample conf.</summary>
    public static IReadOnlyList<string> WarningsFor(IniFile ini, IReadOnlyList<Key> keys)
    {
        var warnings = new List<string>();
        foreach (var key in keys)
        {
            var section = key.Section.Length == 0 ? ini.Global : ini.GetSection(key.Section);
            if (section?.Find(key.Name) is { } entry && !SameValue(entry.Value, key.SampleValue))
            {
                warnings.Add($"{(key.Section.Length == 0 ? "" : $"[{key.Section}] ")}{entry.Key} = {entry.Value} " +
                             $"({entry.File ?? "conf"}, line {entry.Line}) is not acted on by FastDFS.NET: {key.Why}");
            }
        }

        // The shared empty array when there is nothing to say: configs are records, compared by their values.
        return warnings.Count == 0 ? Array.Empty<string>() : warnings.ToArray();
    }

    private static bool SameValue(string value, string sample)
    {
        value = value.Trim();
        if (string.Equals(value, sample, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // true/yes/on/1 and false/no/off/0 are one value each.
        string lower = value.ToLowerInvariant();
        bool isBool = sample is "true" or "false" && (IniSection.ParseBool(value) || lower is "false" or "no" or "off" or "0");
        return isBool && IniSection.ParseBool(value) == IniSection.ParseBool(sample);
    }
}
