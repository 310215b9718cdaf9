using System.CommandLine;
using System.Globalization;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Counter = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Cli.Commands;

/// <summary><c>monitor [--group g]</c>: the cluster view, laid out like fdfs_monitor's list output.</summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("monitor", "Show groups and storages with their stats (like fdfs_monitor)");
        var group = new Option<string?>("--group", "-g") { Description = "Only this group" };
        command.Add(group);
        connection.Handle(async (parse, client, output, ct) =>
        {
            string? only = parse.GetValue(group);
            var groups = only != null ? [await client.Tracker.ListGroupAsync(only, ct)] : await client.ListGroupsAsync(ct);
            var trackers = client.Options.Trackers;
            await output.WriteLineAsync($"server_count={trackers.Count}, server_index=0\n");
            await output.WriteLineAsync($"tracker server is {trackers[0]}\n");
            await output.WriteLineAsync($"group count: {groups.Count}\n");
            int groupNumber = 0;
            foreach (var g in groups)
            {
                var storages = await client.ListStoragesAsync(g.GroupName, ct: ct);
                await output.WriteAsync(Format(++groupNumber, g, storages, await TryGetSyncStatusAsync(client, g.GroupName, ct)));
            }

            return 0;
        })(command);
        return command;
    }

    /// <summary>State reasons and sync lags (FastDFS.NET trackers only; null from a stock tracker).</summary>
    private static async Task<StorageSyncStatus?> TryGetSyncStatusAsync(Client.FastDfsClient client, string group, CancellationToken ct)
    {
        try
        {
            return await client.Tracker.GetSyncStatusAsync(group, ct);
        }
        catch (Client.FastDfsException)
        {
            return null;
        }
    }

    internal static string Format(int number, GroupStat g, IReadOnlyList<StorageStat> storages, StorageSyncStatus? sync = null)
    {
        var s = new StringWriter(CultureInfo.InvariantCulture);
        s.WriteLine($"Group {number}:");
        s.WriteLine($"group name = {g.GroupName}");
        s.WriteLine($"disk total space = {Mb(g.TotalMb)}");
        s.WriteLine($"disk free space = {Mb(g.FreeMb)}");
        s.WriteLine($"disk reserved space = {Mb(g.ReservedMb)}");
        s.WriteLine($"trunk free space = {Mb(g.TrunkFreeMb)}");
        s.WriteLine($"storage server count = {g.StorageCount}");
        s.WriteLine($"readable server count = {g.ReadableServerCount}");
        s.WriteLine($"writable server count = {g.WritableServerCount}");
        s.WriteLine($"storage server port = {g.StoragePort}");
        s.WriteLine($"current write server index = {g.CurrentWriteServer}");
        s.WriteLine($"store path count = {g.StorePathCount}");
        s.WriteLine($"subdir count per path = {g.SubdirCountPerPath}");
        s.WriteLine($"current trunk file id = {g.CurrentTrunkFileId}");
        s.WriteLine();
        int index = 0;
        foreach (var st in storages)
        {
            var c = st.Counters;
            s.WriteLine($"\tStorage {++index}:");
            s.WriteLine($"\t\tid = {st.Id}");
            s.WriteLine($"\t\tip_addr = {st.IpAddr}  {st.Status.ToMonitorName()}");
            s.WriteLine($"\t\tversion = {st.Version}");
            s.WriteLine($"\t\tjoin time = {Time(st.JoinTime)}");
            s.WriteLine($"\t\tup time = {Time(st.UpTime)}");
            s.WriteLine($"\t\ttotal storage = {Mb(st.TotalMb)}");
            s.WriteLine($"\t\tfree storage = {Mb(st.FreeMb)}");
            s.WriteLine($"\t\treserved storage = {Mb(st.ReservedMb)}");
            s.WriteLine($"\t\tupload priority = {st.UploadPriority}");
            s.WriteLine($"\t\tstore_path_count = {st.StorePathCount}");
            s.WriteLine($"\t\tsubdir_count_per_path = {st.SubdirCountPerPath}");
            s.WriteLine($"\t\tstorage_port = {st.StoragePort}");
            s.WriteLine($"\t\tcurrent_write_path = {st.CurrentWritePath}");
            s.WriteLine($"\t\tsource storage id = {st.SrcId}");
            s.WriteLine($"\t\tif_trunk_server = {(st.IsTrunkServer ? 1 : 0)}");
            s.WriteLine($"\t\tconnection.alloc_count = {c.ConnectionAllocCount}");
            s.WriteLine($"\t\tconnection.current_count = {c.ConnectionCurrentCount}");
            s.WriteLine($"\t\tconnection.max_count = {c.ConnectionMaxCount}");
            for (var counter = Counter.TotalUploadCount; counter <= Counter.SuccessFileWriteCount; counter++)
            {
                s.WriteLine($"\t\t{Label(counter)} = {c[counter]}");
            }

            s.WriteLine($"\t\tlast_heart_beat_time = {Time(c[Counter.LastHeartBeatTime])}");
            s.WriteLine($"\t\tlast_source_update = {Time(c[Counter.LastSourceUpdate])}");
            s.WriteLine($"\t\tlast_sync_update = {Time(c[Counter.LastSyncUpdate])}");
            s.WriteLine($"\t\tlast_synced_timestamp = {Time(c[Counter.LastSyncedTimestamp])}");
            WriteSyncStatus(s, st.Id, sync);
            s.WriteLine();
        }

        return s.ToString();
    }

    /// <summary>FastDFS.NET additions after the stock block: why the state, and the lag behind each source.</summary>
    private static void WriteSyncStatus(StringWriter s, string id, StorageSyncStatus? sync)
    {
        if (sync is null)
        {
            return;
        }

        if (sync.Reasons.TryGetValue(id, out string? reason))
        {
            s.WriteLine($"\t\tstate_reason = {reason}");
        }

        foreach (var lag in sync.Lags.Where(l => l.DestId == id))
        {
            string synced = lag.LastSyncedTimestamp > 0 ? Time(lag.LastSyncedTimestamp) : "never";
            s.WriteLine($"\t\tsynced_from {lag.SrcId} = {synced} ({lag.DelaySeconds}s delay)");
        }
    }

    /// <summary>Stock label of a counter: TotalUploadCount -> total_upload_count.</summary>
    internal static string Label(Counter counter)
    {
        string name = counter.ToString();
        var label = new System.Text.StringBuilder(name.Length + 8);
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

    private static string Mb(long mb) => $"{mb.ToString("N0", CultureInfo.InvariantCulture)} MB";

    private static string Time(long unixSeconds) => unixSeconds <= 0
        ? string.Empty
        : DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
