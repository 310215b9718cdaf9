using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Counter = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The text fdfs_monitor (stock 6.16.1) prints for a group and its storages, line for line, so that scripts
/// written against the stock tool parse ours. Checked against the stock tool's output for the same frames
/// (tests/FastDfs.Client.Tests/Golden/monitor).
/// </summary>
internal static class MonitorFormat
{
    private const long OneKb = 1L << 10;
    private const long OneMb = 1L << 20;
    private const long OneGb = 1L << 30;
    private const long OneTb = 1L << 40;
    private const long OnePb = 1L << 50;
    private const long OneEb = 1L << 60;

    /// <summary>Stock's storage status names (99 and other unknown values print UNKNOWN).</summary>
    public static string StatusCaption(StorageStatus status) => status switch
    {
        StorageStatus.Init => "INIT",
        StorageStatus.WaitSync => "WAIT_SYNC",
        StorageStatus.Syncing => "SYNCING",
        StorageStatus.Offline => "OFFLINE",
        StorageStatus.Online => "ONLINE",
        StorageStatus.Deleted => "DELETED",
        StorageStatus.IpChanged => "IP_CHANGED",
        StorageStatus.Active => "ACTIVE",
        StorageStatus.Recovery => "RECOVERY",
        _ => "UNKNOWN",
    };

    /// <summary>The read/write mode byte is an access(2) mask: R_OK = 4, W_OK = 2.</summary>
    public static string ReadWriteCaption(byte mode) => mode switch
    {
        0 => "none (disabled)",
        4 => "readonly",
        2 => "writeonly",
        6 => "both (normal)",
        _ => "unknown",
    };

    /// <summary>
    /// A size in MB as stock's human text: below 10 units one decimal ("1.0 GB"), from 10 units a rounded integer
    /// ("252 GB"), below 1 KB the byte count and two spaces ("0  B").
    /// </summary>
    public static string HumanMb(long mb) => HumanBytes(unchecked(mb * OneMb));

    /// <summary>A size in bytes as <see cref="HumanMb"/> prints it.</summary>
    public static string HumanBytes(long bytes) =>
        bytes switch
        {
            < OneKb => string.Create(CultureInfo.InvariantCulture, $"{bytes}  B"),
            < OneMb => Scaled(bytes, OneKb, 'K'),
            < OneGb => Scaled(bytes, OneMb, 'M'),
            < OneTb => Scaled(bytes, OneGb, 'G'),
            < OnePb => Scaled(bytes, OneTb, 'T'),
            < OneEb => Scaled(bytes, OnePb, 'P'),
            _ => Scaled(bytes, OneEb, 'E'),
        };

    private static string Scaled(long bytes, long unit, char unitLetter)
    {
        long whole = bytes / unit;
        long remain = bytes - (whole * unit);
        if (whole < 10)
        {
            // One decimal, rounded half up; 9.95 rounds to "10" without a decimal.
            long tenth = ((remain * 10) + (unit / 2)) / unit;
            if (tenth == 10)
            {
                whole++;
                tenth = 0;
            }

            return whole < 10
                ? string.Create(CultureInfo.InvariantCulture, $"{whole}.{tenth} {unitLetter}B")
                : string.Create(CultureInfo.InvariantCulture, $"{whole} {unitLetter}B");
        }

        if (remain >= unit / 2)
        {
            whole++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{whole} {unitLetter}B");
    }

    /// <summary>A duration as stock words: "0 second", "8 seconds", "1 day 1 hour 1 minute 1 second" (zero parts left out).</summary>
    public static string HumanSeconds(long seconds)
    {
        long remains = Math.Max(0, seconds);
        long days = remains / 86400;
        remains %= 86400;
        long hours = remains / 3600;
        remains %= 3600;
        long minutes = remains / 60;
        long secs = remains % 60;
        var parts = new List<string>(4);
        bool started = false;
        foreach (var (value, unit) in new[] { (days, "day"), (hours, "hour"), (minutes, "minute"), (secs, "second") })
        {
            started |= value > 0;
            if (started && value > 0)
            {
                parts.Add(value == 1 ? $"1 {unit}" : string.Create(CultureInfo.InvariantCulture, $"{value} {unit}s"));
            }
        }

        return parts.Count == 0 ? "0 second" : string.Join(' ', parts);
    }

    /// <summary>A draining storage's state: since when, and done or the members still behind.</summary>
    internal static string DrainText(DrainState drain, TimeZoneInfo zone) => drain.Complete
        ? $"since {Time(drain.Since, zone)}, complete by the sync timestamps (monitor drain --wait compares the files)"
        : $"since {Time(drain.Since, zone)}, waiting for " + string.Join(", ", drain.WaitingFor.Select(w => $"{w.Id} ({w.BehindSeconds}s behind)"));

    /// <summary>Unix seconds as local "yyyy-MM-dd HH:mm:ss" (0 prints 1970-01-01 in UTC, as stock's strftime does).</summary>
    public static string Time(long unixSeconds, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), zone)
            .ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>
    /// FastDFS.NET addition after the groups (only when a tracker of ours hears from spare storages): each spare, waiting
    /// or given the place of a member.
    /// </summary>
    public static string Spares(IReadOnlyList<SpareStorageEntry> spares, TimeZoneInfo zone)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"\nSpare storages: {spares.Count}\n");
        foreach (var w in spares)
        {
            string state = w.AssignedGroup.Length > 0 ? $"takes the place of {w.AssignedGroup}/{w.ReplacedId}" : $"waiting since {Time(w.FirstSeen, zone)}";
            s.Append(CultureInfo.InvariantCulture,
                $"\t{w.Address} = {state}; for {(w.WantedGroup.Length > 0 ? w.WantedGroup : "any group")}, {w.StorePathCount} store paths, ");
            s.Append(CultureInfo.InvariantCulture, $"{w.FreeMb} MB free of {w.TotalMb} MB, last heard {Time(w.LastSeen, zone)}\n");
        }

        return s.ToString();
    }

    /// <summary>The lines stock prints before the listing: tracker count/index and the tracker used.</summary>
    public static string Preamble(int trackerCount, int trackerIndex, string tracker) =>
        string.Create(CultureInfo.InvariantCulture, $"tracker server count={trackerCount}, current server index={trackerIndex}\n\ntracker server is {tracker}\n\n");

    /// <summary>
    /// One group and its storages as <c>fdfs_monitor list</c> prints them (without the "Group N:" header,
    /// which only the all-groups listing adds).
    /// </summary>
    public static string Group(
        GroupStat g, IReadOnlyList<StorageStat> storages, TimeZoneInfo zone, StorageSyncStatus? sync = null,
        IReadOnlyDictionary<string, TrunkSpace>? trunkSpace = null, IReadOnlyDictionary<string, IntegrityStatus>? integrity = null)
    {
        var s = new StringBuilder(4096 + (storages.Count * 2048));
        s.Append(CultureInfo.InvariantCulture, $"group name = {g.GroupName}\n");
        AppendSpace(s, string.Empty, g.TotalMb, g.FreeMb, g.ReservedMb);
        bool usesTrunk = g.CurrentTrunkFileId >= 0;
        if (usesTrunk)
        {
            s.Append(CultureInfo.InvariantCulture, $"trunk free space = {HumanMb(g.TrunkFreeMb),7}\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"storage server count = {g.StorageCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"readable server count = {g.ReadableServerCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"writable server count = {g.WritableServerCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"storage server port = {g.StoragePort}\n");
        s.Append(CultureInfo.InvariantCulture, $"store path count = {g.StorePathCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"subdir count per path = {g.SubdirCountPerPath}\n");
        s.Append(CultureInfo.InvariantCulture, $"current write server index = {g.CurrentWriteServer}\n");
        var trunkServer = usesTrunk ? storages.FirstOrDefault(st => st.IsTrunkServer) : null;
        if (trunkServer != null)
        {
            s.Append(CultureInfo.InvariantCulture, $"current trunk server = {trunkServer.Id} ({trunkServer.IpAddr})\n");
            s.Append(CultureInfo.InvariantCulture, $"current trunk file id = {g.CurrentTrunkFileId}\n");
        }

        s.Append('\n');
        for (int i = 0; i < storages.Count; i++)
        {
            AppendStorage(s, i + 1, storages[i], SyncDelay(storages, i), zone);
            AppendSyncStatus(s, storages[i].Id, sync, zone);
            if (trunkSpace != null && trunkSpace.TryGetValue(storages[i].Id, out var space))
            {
                AppendTrunkSpace(s, space);
            }

            if (integrity != null && integrity.TryGetValue(storages[i].Id, out var report))
            {
                AppendIntegrity(s, report, zone);
            }
        }

        return s.ToString();
    }

    /// <summary>
    /// FastDFS.NET additions after a storage's stock block (only from our trackers, which answer command 120):
    /// why the storage is in its state, and its lag behind each source.
    /// </summary>
    private static void AppendSyncStatus(StringBuilder s, string id, StorageSyncStatus? sync, TimeZoneInfo zone)
    {
        if (sync is null)
        {
            return;
        }

        if (sync.Reasons.TryGetValue(id, out string? reason))
        {
            s.Append(CultureInfo.InvariantCulture, $"\t\tstate_reason = {reason}\n");
        }

        if (sync.Draining.TryGetValue(id, out var drain))
        {
            s.Append(CultureInfo.InvariantCulture, $"\t\tdraining = {DrainText(drain, zone)}\n");
        }

        foreach (var lag in sync.Lags.Where(l => l.DestId == id))
        {
            string synced = lag.LastSyncedTimestamp > 0 ? Time(lag.LastSyncedTimestamp, zone) : "never";
            s.Append(CultureInfo.InvariantCulture, $"\t\tsynced_from {lag.SrcId} = {synced} ({lag.DelaySeconds}s delay)\n");
        }

        if (sync.Recoveries.TryGetValue(id, out var recovery))
        {
            s.Append(CultureInfo.InvariantCulture, $"\t\tdisk_recovery = {recovery.Describe()}\n");
        }

        if (sync.FailedPaths.TryGetValue(id, out var failed) && failed.Count > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $"\t\tfailed_store_paths = {string.Join(", ", failed.Select(i => $"M{i:X2}"))}\n");
        }
    }

    /// <summary>FastDFS.NET addition (from storages that answer <see cref="TrunkSpaceQuery"/>): the storage's trunk space.</summary>
    private static void AppendTrunkSpace(StringBuilder s, in TrunkSpace space)
    {
        s.Append(CultureInfo.InvariantCulture, $"\t\ttrunk_space = {space.TrunkFileCount} files, total {HumanBytes(space.TotalBytes)}, ");
        s.Append(CultureInfo.InvariantCulture, $"used {HumanBytes(space.UsedBytes)}, free {HumanBytes(space.FreeBytes)}, ");
        s.Append(CultureInfo.InvariantCulture, $"reclaimable {HumanBytes(space.ReclaimableBytes)}, reclaimed since start {HumanBytes(space.ReclaimedBytes)}\n");
    }

    /// <summary>FastDFS.NET addition (from storages that answer <see cref="IntegrityQuery"/>): scrub, anti-entropy and damage found.</summary>
    private static void AppendIntegrity(StringBuilder s, IntegrityStatus r, TimeZoneInfo zone)
    {
        string Moment(long t) => t > 0 ? Time(t, zone) : "never";
        s.Append(CultureInfo.InvariantCulture, $"\t\tscrub = {r.ScrubPasses} passes, ");
        if (r.ScrubRunning)
        {
            s.Append(CultureInfo.InvariantCulture, $"running since {Moment(r.ScrubStarted)}, ");
        }
        else
        {
            s.Append(CultureInfo.InvariantCulture, $"last done {Moment(r.ScrubFinished)}, ");
        }

        s.Append(CultureInfo.InvariantCulture, $"{r.ScrubFilesChecked} files, {HumanBytes(r.ScrubBytesChecked)} checked, ");
        s.Append(CultureInfo.InvariantCulture, $"{r.ScrubCorrupt} damaged, {r.ScrubRepaired} repaired, {r.ScrubUnrepairable} not repairable; ");
        s.Append(CultureInfo.InvariantCulture, $"next {(r.ScrubNext > 0 ? Time(r.ScrubNext, zone) : "on demand")}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tanti_entropy = {r.AntiEntropyRounds} rounds, last done {Moment(r.AntiEntropyFinished)}, ");
        s.Append(CultureInfo.InvariantCulture, $"{r.AntiEntropyResent} copies re-sent, {r.AntiEntropyDeletesResent} deletes re-sent, {r.AntiEntropyRestored} restored\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tdamage_since_start = {r.CorruptFound} found, {r.Repaired} repaired, {r.Unrepairable} not repairable, ");
        s.Append(CultureInfo.InvariantCulture, $"{r.ReplicasRefused} replicas refused, {r.PushesRefused} pushes refused\n");
    }

    /// <summary>
    /// The suffix of the last_synced_timestamp line: empty when no other storage of the group has a source
    /// update, else "(never synced)" or "(N seconds delay)" behind the newest source update of the others.
    /// </summary>
    public static string SyncDelay(IReadOnlyList<StorageStat> storages, int index)
    {
        long newestOtherSourceUpdate = 0;
        for (int i = 0; i < storages.Count; i++)
        {
            if (i != index)
            {
                newestOtherSourceUpdate = Math.Max(newestOtherSourceUpdate, storages[i].Counters[Counter.LastSourceUpdate]);
            }
        }

        if (newestOtherSourceUpdate == 0)
        {
            return string.Empty;
        }

        long synced = storages[index].Counters[Counter.LastSyncedTimestamp];
        return synced == 0 ? "(never synced)" : $"({HumanSeconds(newestOtherSourceUpdate - synced)} delay)";
    }

    private static void AppendSpace(StringBuilder s, string indent, long totalMb, long freeMb, long reservedMb)
    {
        long available = Math.Max(0, freeMb - reservedMb);
        s.Append(CultureInfo.InvariantCulture, $"{indent}disk total space     = {HumanMb(totalMb),7}\n");
        s.Append(CultureInfo.InvariantCulture, $"{indent}disk free space      = {HumanMb(freeMb),7}\n");
        s.Append(CultureInfo.InvariantCulture, $"{indent}disk reserved space  = {HumanMb(reservedMb),7}\n");
        s.Append(CultureInfo.InvariantCulture, $"{indent}disk available space = {HumanMb(available),7}\n");
    }

    private static void AppendStorage(StringBuilder s, int number, StorageStat st, string syncDelay, TimeZoneInfo zone)
    {
        var c = st.Counters;
        s.Append(CultureInfo.InvariantCulture, $"\tStorage {number}:\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tid = {st.Id}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\thost = {FormatIp(st.IpAddr)}:{st.StoragePort}  {StatusCaption(st.Status)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tread write mode = {ReadWriteCaption(st.RwMode)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tversion = {st.Version}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tjoin time = {Time(st.JoinTime, zone)}\n");

        // Stock leaves "up time" empty for 0 but prints every other zero time as the epoch.
        s.Append(CultureInfo.InvariantCulture, $"\t\tup time = {(st.UpTime != 0 ? Time(st.UpTime, zone) : string.Empty)}\n");
        AppendSpace(s, "\t\t", st.TotalMb, st.FreeMb, st.ReservedMb);
        s.Append(CultureInfo.InvariantCulture, $"\t\tupload priority = {st.UploadPriority}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tstore_path_count = {st.StorePathCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tsubdir_count_per_path = {st.SubdirCountPerPath}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tcurrent_write_path = {st.CurrentWritePath}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tsource storage id = {st.SrcId}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tif_trunk_server = {(st.IsTrunkServer ? 1 : 0)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tconnection.alloc_count = {c.ConnectionAllocCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tconnection.current_count = {c.ConnectionCurrentCount}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tconnection.max_count = {c.ConnectionMaxCount}\n");
        for (var counter = Counter.TotalUploadCount; counter <= Counter.SuccessFileWriteCount; counter++)
        {
            s.Append(CultureInfo.InvariantCulture, $"\t\t{Label(counter)} = {c[counter]}\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"\t\tlast_heart_beat_time = {Time(c[Counter.LastHeartBeatTime], zone)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tlast_source_update = {Time(c[Counter.LastSourceUpdate], zone)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tlast_sync_update = {Time(c[Counter.LastSyncUpdate], zone)}\n");
        s.Append(CultureInfo.InvariantCulture, $"\t\tlast_synced_timestamp = {Time(c[Counter.LastSyncedTimestamp], zone)} {syncDelay}\n");
    }

    /// <summary>
    /// Stock label of a counter: TotalUploadCount -> total_upload_count. TotalDownloadBytes keeps stock's
    /// misspelling "stotal_download_bytes" so that scripts keyed on the stock label keep working (a grep for
    /// "total_download_bytes" matches both).
    /// </summary>
    internal static string Label(Counter counter)
    {
        if (counter == Counter.TotalDownloadBytes)
        {
            return "stotal_download_bytes";
        }

        string name = counter.ToString();
        var label = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                label.Append('_');
            }

            label.Append(char.ToLowerInvariant(name[i]));
        }

        return label.ToString();
    }

    /// <summary>IPv6 addresses are bracketed before ":port", as stock's format_ip_address does.</summary>
    private static string FormatIp(string ip) => ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip;
}
