using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;

namespace FastDfs.Tracker.Persistence;

/// <summary>
/// The stock tracker data files (spec 14.3): storage_groups_new.dat, storage_servers_new.dat and
/// storage_sync_timestamp.dat, written and read in stock's format so that a stock tracker can load ours
/// (and copy them with GET_SYS_FILES) and the other way round.
/// </summary>
internal static class TrackerStateFormat
{
    public const string GroupsFile = "storage_groups_new.dat";
    public const string ServersFile = "storage_servers_new.dat";
    public const string SyncTimestampFile = "storage_sync_timestamp.dat";
    public const string ChangelogFile = "storage_changelog.dat";
    public const string StatusFile = ".tracker_status";

    /// <summary>The sys files in GET_ONE_SYS_FILE index order (spec 8).</summary>
    public static readonly string[] SysFiles = [GroupsFile, ServersFile, SyncTimestampFile, ChangelogFile];

    /// <summary>
    /// GET_ONE_SYS_FILE index of moved_files.dat, after stock's files: FastDFS.NET trackers serve it, and an empty one asks
    /// for it apart (a stock tracker refuses the index), so that a tracker added later knows the moved files too.
    /// </summary>
    public const int MovedFilesIndex = 4;

    // Stock's keys in stock's order; the counters stock does not persist (modify/truncate) follow them.
    private static readonly (string Key, StorageStatCounters.Counter Counter)[] StockCounters =
    [
        ("total_upload_count", StorageStatCounters.Counter.TotalUploadCount),
        ("success_upload_count", StorageStatCounters.Counter.SuccessUploadCount),
        ("total_append_count", StorageStatCounters.Counter.TotalAppendCount),
        ("success_append_count", StorageStatCounters.Counter.SuccessAppendCount),
        ("total_set_meta_count", StorageStatCounters.Counter.TotalSetMetaCount),
        ("success_set_meta_count", StorageStatCounters.Counter.SuccessSetMetaCount),
        ("total_delete_count", StorageStatCounters.Counter.TotalDeleteCount),
        ("success_delete_count", StorageStatCounters.Counter.SuccessDeleteCount),
        ("total_download_count", StorageStatCounters.Counter.TotalDownloadCount),
        ("success_download_count", StorageStatCounters.Counter.SuccessDownloadCount),
        ("total_get_meta_count", StorageStatCounters.Counter.TotalGetMetaCount),
        ("success_get_meta_count", StorageStatCounters.Counter.SuccessGetMetaCount),
        ("total_create_link_count", StorageStatCounters.Counter.TotalCreateLinkCount),
        ("success_create_link_count", StorageStatCounters.Counter.SuccessCreateLinkCount),
        ("total_delete_link_count", StorageStatCounters.Counter.TotalDeleteLinkCount),
        ("success_delete_link_count", StorageStatCounters.Counter.SuccessDeleteLinkCount),
        ("total_upload_bytes", StorageStatCounters.Counter.TotalUploadBytes),
        ("success_upload_bytes", StorageStatCounters.Counter.SuccessUploadBytes),
        ("total_append_bytes", StorageStatCounters.Counter.TotalAppendBytes),
        ("success_append_bytes", StorageStatCounters.Counter.SuccessAppendBytes),
        ("total_download_bytes", StorageStatCounters.Counter.TotalDownloadBytes),
        ("success_download_bytes", StorageStatCounters.Counter.SuccessDownloadBytes),
        ("total_sync_in_bytes", StorageStatCounters.Counter.TotalSyncInBytes),
        ("success_sync_in_bytes", StorageStatCounters.Counter.SuccessSyncInBytes),
        ("total_sync_out_bytes", StorageStatCounters.Counter.TotalSyncOutBytes),
        ("success_sync_out_bytes", StorageStatCounters.Counter.SuccessSyncOutBytes),
        ("total_file_open_count", StorageStatCounters.Counter.TotalFileOpenCount),
        ("success_file_open_count", StorageStatCounters.Counter.SuccessFileOpenCount),
        ("total_file_read_count", StorageStatCounters.Counter.TotalFileReadCount),
        ("success_file_read_count", StorageStatCounters.Counter.SuccessFileReadCount),
        ("total_file_write_count", StorageStatCounters.Counter.TotalFileWriteCount),
        ("success_file_write_count", StorageStatCounters.Counter.SuccessFileWriteCount),
        ("last_source_update", StorageStatCounters.Counter.LastSourceUpdate),
        ("last_sync_update", StorageStatCounters.Counter.LastSyncUpdate),
    ];

    private static readonly (string Key, StorageStatCounters.Counter Counter)[] ExtraCounters =
    [
        ("total_modify_count", StorageStatCounters.Counter.TotalModifyCount),
        ("success_modify_count", StorageStatCounters.Counter.SuccessModifyCount),
        ("total_truncate_count", StorageStatCounters.Counter.TotalTruncateCount),
        ("success_truncate_count", StorageStatCounters.Counter.SuccessTruncateCount),
        ("total_modify_bytes", StorageStatCounters.Counter.TotalModifyBytes),
        ("success_modify_bytes", StorageStatCounters.Counter.SuccessModifyBytes),
    ];

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string FormatGroups(IReadOnlyList<StorageGroup> groups)
    {
        var text = new StringBuilder();
        text.Append("[Global]\n\tgroup_count=").Append(N(groups.Count)).Append("\n\n");
        for (int i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            text.Append("# group: ").Append(g.Name).Append('\n');
            text.Append("[Group").Append((i + 1).ToString("D3", CultureInfo.InvariantCulture)).Append("]\n");
            Key(text, "group_name", g.Name);
            Key(text, "storage_port", N(g.StoragePort));
            Key(text, "store_path_count", N(g.StorePathCount));
            Key(text, "subdir_count_per_path", N(g.SubdirCount));
            Key(text, "current_trunk_file_id", N(g.CurrentTrunkFileId));
            Key(text, "trunk_server", g.TrunkServerId);
            Key(text, "last_trunk_server", g.LastTrunkServerId);
            text.Append('\n');
        }

        return text.ToString();
    }

    public static string FormatServers(IReadOnlyList<StorageGroup> groups, bool useStorageId)
    {
        var text = new StringBuilder();
        int count = 0;
        foreach (var g in groups)
        {
            foreach (var s in g.Storages)
            {
                if (s.Status is StorageStatus.Deleted or StorageStatus.IpChanged)
                {
                    continue;
                }

                count++;
                text.Append("# storage: ").Append(s.Ip.Contains(':') ? $"[{s.Ip}]" : s.Ip).Append(':').Append(N(s.Port)).Append('\n');
                text.Append("[Storage").Append(count.ToString("D3", CultureInfo.InvariantCulture)).Append("]\n");
                // Stock writes the id only with storage ids; we also write it for a second storage on one host
                // ("ip:port" ids, which stock cannot represent), so that it survives a restart.
                if (useStorageId || s.Id != s.Ip)
                {
                    Key(text, "id", s.Id);
                }

                Key(text, "group_name", g.Name);
                Key(text, "ip_addr", s.Ip);
                Key(text, "status", N((byte)s.Status));
                Key(text, "version", s.Version);
                Key(text, "join_time", N(s.JoinTime));
                Key(text, "storage_port", N(s.Port));
                Key(text, "sync_src_server", s.SrcId);
                Key(text, "sync_until_timestamp", N(s.SyncUntil));
                Key(text, "total_mb", N(s.TotalMb));
                Key(text, "free_mb", N(s.FreeMb));
                Key(text, "changelog_offset", N(s.ChangelogOffset));
                Key(text, "store_path_count", N(s.StorePathCount));
                Key(text, "subdir_count_per_path", N(s.SubdirCount));
                Key(text, "upload_priority", N(s.UploadPriority));
                foreach (var (key, counter) in StockCounters)
                {
                    Key(text, key, N(s.Counters[counter]));
                }

                Key(text, "last_synced_timestamp", N(s.LastSyncedTimestamp));
                Key(text, "last_heart_beat_time", N(s.LastHeartbeat));
                if (s.DrainingSince > 0)
                {
                    // FastDFS.NET only, and only while draining: a stock tracker's file otherwise, key for key.
                    Key(text, "draining_since", N(s.DrainingSince));
                }
                foreach (var (key, counter) in ExtraCounters)
                {
                    Key(text, key, N(s.Counters[counter]));
                }

                text.Append('\n');
            }
        }

        text.Append("\n[Global]\n\tstorage_count=").Append(N(count)).Append('\n');
        return text.ToString();
    }

    /// <summary>One line per storage: <c>group,src_id,ts_to_dest0,...</c>, columns in the group's storage order.</summary>
    public static string FormatSyncTimestamps(IReadOnlyList<StorageGroup> groups)
    {
        var text = new StringBuilder();
        foreach (var g in groups)
        {
            var members = g.Storages.Where(s => s.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged)).ToList();
            foreach (var src in members)
            {
                text.Append(g.Name).Append(',').Append(src.Id);
                foreach (var dest in members)
                {
                    int ts = dest != src && dest.SyncedFrom.TryGetValue(src.Id, out int value) ? value : 0;
                    text.Append(',').Append(N(ts));
                }

                text.Append('\n');
            }
        }

        return text.ToString();
    }

    private static void Key(StringBuilder text, string key, string value) =>
        text.Append('\t').Append(key).Append('=').Append(value).Append('\n');

    /// <summary>A group as read from storage_groups_new.dat.</summary>
    public sealed record GroupRecord(string Name, int StoragePort, int StorePathCount, int SubdirCount, int CurrentTrunkFileId,
        string TrunkServer, string LastTrunkServer);

    /// <summary>A storage as read from storage_servers_new.dat.</summary>
    public sealed record StorageRecord(string Group, string Id, string Ip, StorageStatus Status, IniSection Section);

    public static List<GroupRecord> ParseGroups(string text)
    {
        var ini = IniFile.Parse(text);
        var groups = new List<GroupRecord>();
        foreach (string name in ini.SectionNames.Where(n => n.StartsWith("Group", StringComparison.Ordinal)))
        {
            var s = ini.GetSection(name)!;
            string group = s.GetString("group_name") ?? "";
            if (group.Length == 0)
            {
                continue;
            }

            groups.Add(new GroupRecord(group, s.GetInt("storage_port", 23000), s.GetInt("store_path_count", 1),
                s.GetInt("subdir_count_per_path", 256), s.GetInt("current_trunk_file_id", 0),
                s.GetString("trunk_server") ?? "", s.GetString("last_trunk_server") ?? ""));
        }

        return groups;
    }

    public static List<StorageRecord> ParseServers(string text)
    {
        var ini = IniFile.Parse(text);
        var storages = new List<StorageRecord>();
        foreach (string name in ini.SectionNames.Where(n => n.StartsWith("Storage", StringComparison.Ordinal)))
        {
            var s = ini.GetSection(name)!;
            string group = s.GetString("group_name") ?? "";
            string ip = s.GetString("ip_addr") ?? "";
            string id = s.GetString("id") is { Length: > 0 } configured ? configured : ip;
            if (group.Length == 0 || id.Length == 0)
            {
                continue;
            }

            storages.Add(new StorageRecord(group, id, ip, (StorageStatus)s.GetInt("status", (int)StorageStatus.Offline), s));
        }

        return storages;
    }

    /// <summary>Copies the persisted fields of <paramref name="record"/> into <paramref name="node"/>.</summary>
    public static void Apply(StorageRecord record, StorageNode node)
    {
        var s = record.Section;
        long L(string key, long fallback = 0) =>
            long.TryParse(s.GetString(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : fallback;
        node.Ip = record.Ip;
        node.Version = s.GetString("version") ?? "";
        node.JoinTime = L("join_time", 0);
        node.Port = s.GetInt("storage_port", 0);
        node.SrcId = s.GetString("sync_src_server") ?? "";
        node.SyncUntil = L("sync_until_timestamp", 0);
        node.TotalMb = L("total_mb", 0);
        node.FreeMb = L("free_mb", 0);
        node.ChangelogOffset = L("changelog_offset", 0);
        node.StorePathCount = Math.Max(1, s.GetInt("store_path_count", 1));
        node.PathTotalMb = new long[node.StorePathCount];
        node.PathFreeMb = new long[node.StorePathCount];
        node.SubdirCount = s.GetInt("subdir_count_per_path", 256);
        node.UploadPriority = L("upload_priority", 10);
        foreach (var (key, counter) in StockCounters.Concat(ExtraCounters))
        {
            node.Counters[counter] = L(key);
        }

        node.LastSyncedTimestamp = L("last_synced_timestamp", 0);
        node.LastHeartbeat = L("last_heart_beat_time", 0);
        node.DrainingSince = L("draining_since", 0);
    }

    /// <summary>(group, src id) → timestamps in the group's storage order.</summary>
    public static Dictionary<(string Group, string Src), long[]> ParseSyncTimestamps(string text)
    {
        var rows = new Dictionary<(string, string), long[]>();
        foreach (string line in text.Split('\n'))
        {
            var parts = line.Trim().Split(',');
            if (parts.Length < 2)
            {
                continue;
            }

            rows[(parts[0], parts[1])] = parts.Skip(2)
                .Select(p => long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : 0).ToArray();
        }

        return rows;
    }
}
