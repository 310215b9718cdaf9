using System.Globalization;
using System.Text;
using FastDfs.Cli.Commands;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.StockTools;

/// <summary>
/// The stat tools of stock 6.16 (<c>fdfs_tracker_stat</c>, <c>fdfs_storage_stat</c>, <c>fdfs_volumn_stat</c>): their
/// getopt options (<c>-c config</c>, filters, <c>-d</c>, <c>-h</c>) and their listings, from the tracker commands
/// TRACKER_CLUSTER_STAT (96, asked from the leader), STORAGE_CLUSTER_STAT (97) and STORAGE_VOLUMN_STAT (98). An empty
/// listing prints nothing, as stock. Unlike stock (which logs the error and exits 0), a failed call prints
/// <c>... fail, error no: N, error info: ...</c> on stderr and exits with the errno.
/// </summary>
internal static class StatTools
{
    public static async Task<int> TrackerStatAsync(StockToolRun run)
    {
        string usage = UsageOf(run, "ACTIVE trackers", "None ACTIVE trackers",
            "\t[-L] list leader tracker\n\t[-F] list follower trackers\n\t[-d] show detail / more info\n");
        if (!Getopt.TryParse(run, "hc:ANLFd", usage, out var options, out int exit))
        {
            return exit;
        }

        bool? active = null, leader = null;
        bool detail = false;
        foreach (var (option, _) in options)
        {
            switch (option)
            {
                case 'A' or 'N':
                    active = option == 'A';
                    break;
                case 'L' or 'F':
                    leader = option == 'L';
                    break;
                case 'd':
                    detail = true;
                    break;
            }
        }

        return await WithClientAsync(run, options, "tracker_cluster_stat", async client =>
        {
            var trackers = await client.Tracker.GetTrackerClusterStatAsync(active, leader, run.Ct);
            return trackers.Count == 0 ? "" : FormatTrackers(trackers, detail);
        });
    }

    public static async Task<int> StorageStatAsync(StockToolRun run)
    {
        string usage = UsageOf(run, "ACTIVE storages", "None ACTIVE storages",
            "\t[-d] show detail / more info\n\nWhen use_trunk_file is true, including options:\n" +
            "\t[-T] list trunk servers / storages\n\t[-t] list None trunk servers / storages\n");
        if (!Getopt.TryParse(run, "hc:ANTtd", usage, out var options, out int exit))
        {
            return exit;
        }

        var filter = new StorageClusterStatRequest();
        bool detail = false;
        foreach (var (option, _) in options)
        {
            switch (option)
            {
                case 'A' or 'N':
                    filter = filter with { Status = StorageStatus.Active, StatusEquals = option == 'A' };
                    break;
                case 'T' or 't':
                    filter = filter with { IsTrunkServer = option == 'T' };
                    break;
                case 'd':
                    detail = true;
                    break;
            }
        }

        return await WithClientAsync(run, options, "storage_cluster_stat", async client =>
        {
            var stat = await client.Tracker.GetStorageClusterStatAsync(filter, run.Ct);
            return stat.Storages.Count == 0 ? "" : FormatStorages(stat, detail);
        });
    }

    public static async Task<int> VolumeStatAsync(StockToolRun run)
    {
        string usage = UsageOf(run, "space available groups / volumns", "None space available groups / volumns",
            "\t[-D] list disk space available groups / volumns\n\t[-d] list None disk space available groups / volumns\n\n" +
            "When use_trunk_file is true, including options:\n\t[-T] list trunk space available groups / volumns\n" +
            "\t[-t] list None trunk space available groups / volumns\n\nNote: space available when disk space available or trunk space available\n",
            notFlag: "-N | -F");
        if (!Getopt.TryParse(run, "hc:ANFDdTt", usage, out var options, out int exit))
        {
            return exit;
        }

        var filter = new VolumeStatRequest();
        foreach (var (option, _) in options)
        {
            filter = option switch
            {
                'A' or 'N' or 'F' => filter with { SpaceAvailable = option == 'A' },
                'D' or 'd' => filter with { DiskAvailable = option == 'D' },
                'T' or 't' => filter with { TrunkAvailable = option == 'T' },
                _ => filter,
            };
        }

        return await WithClientAsync(run, options, "storage_volumn_stat", async client =>
        {
            var stat = await client.Tracker.GetVolumeStatAsync(filter, run.Ct);
            return stat.Groups.Count == 0 ? "" : FormatVolumes(stat);
        });
    }

    /// <summary>fdfs_tracker_stat's listing: one line per tracker (with <c>-d</c> a detail line and a blank line), then the count.</summary>
    internal static string FormatTrackers(IReadOnlyList<TrackerClusterStatEntry> trackers, bool detail)
    {
        var s = new StringBuilder("\n");
        foreach (var t in trackers)
        {
            s.Append(CultureInfo.InvariantCulture,
                $"{t.Host}, is_leader: {(t.IsLeader ? 1 : 0)}, is_active: {(t.IsActive ? 1 : 0)}, connections {{alloc: {t.AllocCount}, current: {t.CurrentCount}, max: {t.MaxCount}}}\n");
            if (detail)
            {
                s.Append(CultureInfo.InvariantCulture, $"  version: {t.Version}, up_time: {StockText.Time(t.UpTime)}");
                s.Append(t.IsLeader ? "\n\n" : $", last_heartbeat_time: {StockText.Time(t.LastHeartbeatTime)}\n\n");
            }
        }

        s.Append(CultureInfo.InvariantCulture, $"\ntracker server count: {trackers.Count}\n\n");
        return s.ToString();
    }

    /// <summary>fdfs_storage_stat's listing: the id only when the tracker uses storage ids, is_trunk_server only with trunk files.</summary>
    internal static string FormatStorages(StorageClusterStat stat, bool detail)
    {
        var s = new StringBuilder("\n");
        foreach (var st in stat.Storages)
        {
            if (stat.UseStorageId)
            {
                s.Append(st.Id).Append(' ');
            }

            s.Append(st.Host).Append(' ').Append(MonitorFormat.StatusCaption(st.Status)).Append(", ");
            if (stat.UseTrunkFile)
            {
                s.Append(CultureInfo.InvariantCulture, $"is_trunk_server: {(st.IsTrunkServer ? 1 : 0)}, ");
            }

            s.Append(CultureInfo.InvariantCulture, $"connections {{alloc: {st.AllocCount}, current: {st.CurrentCount}, max: {st.MaxCount}}}\n");
            if (detail)
            {
                s.Append(CultureInfo.InvariantCulture,
                    $"  version: {st.Version}, up_time: {StockText.Time(st.UpTime)}, last_heartbeat_time: {StockText.Time(st.LastHeartbeatTime)}\n\n");
            }
        }

        s.Append(CultureInfo.InvariantCulture, $"\nstorage server count: {stat.Storages.Count}\n\n");
        return s.ToString();
    }

    /// <summary>fdfs_volumn_stat's listing: a line per group; with several groups a summary line (no group name) and the counts.</summary>
    internal static string FormatVolumes(VolumeStat stat)
    {
        var s = new StringBuilder("\n");
        foreach (var g in stat.Groups)
        {
            AppendVolume(s, g, stat.UseTrunkFile);
        }

        if (stat.Groups.Count <= 1)
        {
            s.Append(CultureInfo.InvariantCulture, $"storage volumn / group count: {stat.Groups.Count}\n\n");
            return s.ToString();
        }

        var sum = new VolumeStatEntry("", stat.Groups.Sum(g => g.TotalMb), stat.Groups.Sum(g => g.FreeMb), stat.Groups.Sum(g => g.ReservedMb),
            stat.Groups.Sum(g => g.AvailMb), stat.Groups.Sum(g => g.TrunkFreeMb), stat.Groups.Any(g => g.IsDiskAvailable),
            stat.Groups.Any(g => g.IsTrunkAvailable));
        s.Append('=', 32).Append(" VOLUMNS SUMMARY ").Append('=', 32).Append('\n');
        AppendVolume(s, sum, stat.UseTrunkFile);
        int available = stat.Groups.Count(g => g.IsDiskAvailable || g.IsTrunkAvailable);
        s.Append(CultureInfo.InvariantCulture, $"volumn / group counts {{total: {stat.Groups.Count}, available: {available}}}\n\n");
        return s.ToString();
    }

    private static void AppendVolume(StringBuilder s, VolumeStatEntry g, bool useTrunkFile)
    {
        s.Append(CultureInfo.InvariantCulture, $"{g.GroupName} disk_available: {(g.IsDiskAvailable ? 1 : 0)}");
        if (useTrunkFile)
        {
            s.Append(CultureInfo.InvariantCulture, $", trunk_available: {(g.IsTrunkAvailable ? 1 : 0)}");
        }

        long usable = g.TotalMb - g.ReservedMb;
        double util = usable > 0 ? (double)(usable - g.AvailMb) / usable * 100.0 : 0.0;
        s.Append(CultureInfo.InvariantCulture,
            $", disk space {{total: {MonitorFormat.HumanMb(g.TotalMb)}, free: {MonitorFormat.HumanMb(g.FreeMb)}, reserved: {MonitorFormat.HumanMb(g.ReservedMb)}, ");
        s.Append(CultureInfo.InvariantCulture, $"avail: {MonitorFormat.HumanMb(g.AvailMb)}, util: {util:F2}%}}");
        if (useTrunkFile)
        {
            long total = g.AvailMb + g.TrunkFreeMb;
            double ratio = usable > 0 ? (double)total / usable * 100.0 : 0.0;
            s.Append(CultureInfo.InvariantCulture,
                $", trunk free space: {MonitorFormat.HumanMb(g.TrunkFreeMb)}, total available {{space: {MonitorFormat.HumanMb(total)}, ratio: {ratio:F2}%}}");
        }

        s.Append("\n\n");
    }

    private static string UsageOf(StockToolRun run, string all, string none, string more, string notFlag = "-N") =>
        $"Usage: {run.InvokedPath} [-c config_filename={StockToolNames.DefaultClientConfig}]\n\t[-A] list {all}\n\t[{notFlag}] list {none}\n{more}\n" +
        $"For example:\n\t{run.InvokedPath} -A\n\t{run.InvokedPath} -N\n\n";

    private static async Task<int> WithClientAsync(StockToolRun run, List<(char Option, string? Value)> options, string call, Func<FastDfsClient, Task<string>> list)
    {
        string config = options.LastOrDefault(o => o.Option == 'c').Value ?? StockToolNames.DefaultClientConfig;
        var (client, exit) = await StockText.OpenAsync(run, config);
        if (client is null)
        {
            return exit;
        }

        await using (client)
        {
            try
            {
                await run.Output.WriteAsync(await list(client));
                return 0;
            }
            catch (FastDfsConnectionException e)
            {
                return await StockText.ConnectionFailedAsync(run, e);
            }
            catch (FastDfsException e)
            {
                await run.Error.WriteLineAsync(StockText.Fail(call, StockText.ErrnoOf(e)));
                return StockText.ErrnoOf(e);
            }
        }
    }
}

/// <summary>
/// The getopt(3) the stat tools parse with: clustered flags (<c>-Ad</c>), an option's value attached or next
/// (<c>-cFILE</c>, <c>-c FILE</c>), <c>--</c> ends the options, other arguments are ignored. <c>-h</c> prints the
/// usage on stderr and exits 0; an unknown option or a missing value prints getopt's line and the usage, exit 1.
/// </summary>
internal static class Getopt
{
    public static bool TryParse(StockToolRun run, string spec, string usage, out List<(char Option, string? Value)> options, out int exit)
    {
        options = [];
        exit = 0;
        string tool = run.InvokedPath;
        for (int i = 0; i < run.Args.Count; i++)
        {
            string arg = run.Args[i];
            if (arg == "--")
            {
                break;
            }

            if (arg.Length < 2 || arg[0] != '-')
            {
                continue;
            }

            for (int j = 1; j < arg.Length; j++)
            {
                char c = arg[j];
                int at = spec.IndexOf(c, StringComparison.Ordinal);
                string? error = null;
                if (c == ':' || at < 0)
                {
                    error = $"{tool}: invalid option -- '{c}'";
                }
                else if (at + 1 < spec.Length && spec[at + 1] == ':')
                {
                    string? value = j + 1 < arg.Length ? arg[(j + 1)..] : i + 1 < run.Args.Count ? run.Args[++i] : null;
                    if (value is null)
                    {
                        error = $"{tool}: option requires an argument -- '{c}'";
                    }
                    else
                    {
                        options.Add((c, value));
                        break;
                    }
                }
                else if (c == 'h')
                {
                    run.Error.Write(usage);
                    return false;
                }
                else
                {
                    options.Add((c, null));
                }

                if (error is not null)
                {
                    run.Error.WriteLine(error);
                    run.Error.Write(usage);
                    exit = 1;
                    return false;
                }
            }
        }

        return true;
    }
}
