using System.Globalization;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>How far storage <see cref="DestId"/> has applied the records of <see cref="SrcId"/>.</summary>
public readonly record struct SyncLag(string DestId, string SrcId, long LastSyncedTimestamp, long DelaySeconds);

/// <summary>
/// FastDFS.NET extension command <see cref="FdfsCommand.ServerStorageSyncStatus"/> (tracker, request
/// <c>group_name[16]</c>): why each storage is in its state and each peer's sync lag. Stock trackers do
/// not know the command (they answer EINVAL or close); the stock StorageStat bytes are unchanged.
/// Body: text lines, tab separated: <c>R id reason</c>, <c>S dest src last_synced_timestamp delay_seconds</c>,
/// <c>P id store_path files_done files_total bytes_done elapsed_ms</c> (a disk recovery under way) and
/// <c>F id index,index...</c> (store paths out of service) and <c>W address wanted_group store_paths total_mb free_mb first_seen last_seen
/// assigned_group replaced_id</c> (spare storages the tracker heard from, the same in every group's reply; empty fields are
/// <c>-</c>). A reader skips the kinds of lines it does not know.
/// </summary>
public sealed record StorageSyncStatus(IReadOnlyDictionary<string, string> Reasons, IReadOnlyList<SyncLag> Lags)
{
    /// <summary>Disk recoveries under way, by storage id.</summary>
    public IReadOnlyDictionary<string, RecoveryProgress> Recoveries { get; init; } = new Dictionary<string, RecoveryProgress>();

    /// <summary>Store paths out of service, by storage id.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> FailedPaths { get; init; } = new Dictionary<string, IReadOnlyList<int>>();

    /// <summary>Draining storages (<see cref="DrainStorage"/>), by storage id.</summary>
    public IReadOnlyDictionary<string, DrainState> Draining { get; init; } = new Dictionary<string, DrainState>();

    /// <summary>Spare storages (storage.conf <c>spare_storage = true</c>) the tracker heard from.</summary>
    public IReadOnlyList<SpareStorageEntry> Spares { get; init; } = [];

    private static string Field(string value) => value.Length == 0 ? "-" : value;

    private static string Unfield(string value) => value == "-" ? "" : value;

    public byte[] ToArray()
    {
        var text = new StringBuilder();
        foreach (var (id, reason) in Reasons)
        {
            text.Append("R\t").Append(id).Append('\t').Append(reason.Replace('\t', ' ').Replace('\n', ' ')).Append('\n');
        }

        foreach (var lag in Lags)
        {
            text.Append(CultureInfo.InvariantCulture, $"S\t{lag.DestId}\t{lag.SrcId}\t{lag.LastSyncedTimestamp}\t{lag.DelaySeconds}\n");
        }

        foreach (var (id, p) in Recoveries)
        {
            text.Append(CultureInfo.InvariantCulture, $"P\t{id}\t{p.StorePathIndex}\t{p.FilesDone}\t{p.FilesTotal}\t{p.BytesDone}\t{p.ElapsedMillis}\n");
        }

        foreach (var (id, paths) in FailedPaths)
        {
            text.Append(CultureInfo.InvariantCulture, $"F\t{id}\t{string.Join(',', paths)}\n");
        }

        foreach (var w in Spares)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"W\t{w.Address}\t{Field(w.WantedGroup)}\t{w.StorePathCount}\t{w.TotalMb}\t{w.FreeMb}\t{w.FirstSeen}\t{w.LastSeen}\t{Field(w.AssignedGroup)}\t{Field(w.ReplacedId)}\n");
        }

        foreach (var (id, drain) in Draining)
        {
            string waiting = drain.Complete ? "-" : string.Join(',', drain.WaitingFor.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Id}={w.BehindSeconds}")));
            text.Append(CultureInfo.InvariantCulture, $"D\t{id}\t{drain.Since}\t{waiting}\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static StorageSyncStatus Parse(ReadOnlySpan<byte> body)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var lags = new List<SyncLag>();
        var recoveries = new Dictionary<string, RecoveryProgress>(StringComparer.Ordinal);
        var failed = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        var spares = new List<SpareStorageEntry>();
        var draining = new Dictionary<string, DrainState>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            if (fields is ["R", var id, var reason])
            {
                reasons[id] = reason;
            }
            else if (fields is ["S", var dest, var src, var synced, var delay] &&
                     long.TryParse(synced, NumberStyles.Integer, CultureInfo.InvariantCulture, out long syncedTs) &&
                     long.TryParse(delay, NumberStyles.Integer, CultureInfo.InvariantCulture, out long delaySeconds))
            {
                lags.Add(new SyncLag(dest, src, syncedTs, delaySeconds));
            }
            else if (fields is ["P", var rid, var path, var done, var total, var bytes, var elapsed] &&
                     int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int pathIndex) &&
                     long.TryParse(done, NumberStyles.None, CultureInfo.InvariantCulture, out long filesDone) &&
                     long.TryParse(total, NumberStyles.None, CultureInfo.InvariantCulture, out long filesTotal) &&
                     long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out long bytesDone) &&
                     long.TryParse(elapsed, NumberStyles.None, CultureInfo.InvariantCulture, out long elapsedMs))
            {
                recoveries[rid] = new RecoveryProgress(pathIndex, filesDone, filesTotal, bytesDone, elapsedMs);
            }
            else if (fields is ["F", var fid, var list])
            {
                failed[fid] = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Select(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1).Where(i => i >= 0)];
            }
            else if (fields is ["W", var address, var wanted, var paths, var size, var free, var first, var last, var assigned, var replaced] &&
                     int.TryParse(paths, NumberStyles.None, CultureInfo.InvariantCulture, out int pathCount) &&
                     long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out long totalMb) &&
                     long.TryParse(free, NumberStyles.None, CultureInfo.InvariantCulture, out long freeMb) &&
                     long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out long firstSeen) &&
                     long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out long lastSeen))
            {
                spares.Add(new SpareStorageEntry(address, Unfield(wanted), pathCount, totalMb, freeMb, firstSeen, lastSeen, Unfield(assigned), Unfield(replaced)));
            }
            else if (fields is ["D", var did, var since, var waiting] &&
                     long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out long sinceTs))
            {
                var behind = new List<(string, long)>();
                foreach (string entry in Unfield(waiting).Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = entry.LastIndexOf('=');
                    if (eq > 0 && long.TryParse(entry.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
                    {
                        behind.Add((entry[..eq], seconds));
                    }
                }

                draining[did] = new DrainState(sinceTs, behind);
            }
        }

        return new StorageSyncStatus(reasons, lags) { Recoveries = recoveries, FailedPaths = failed, Spares = spares, Draining = draining };
    }
}
