using System.CommandLine;
using System.Globalization;
using FastDfs.Client;
using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>monitor [list [group]]</c>, <c>monitor delete &lt;group&gt; [&lt;storage_id&gt;]</c> and
/// <c>monitor set_trunk_server &lt;group&gt; [&lt;storage_id&gt;]</c>: fdfs_monitor's commands with its output text (see
/// <see cref="MonitorFormat"/>). Unlike stock, a failed delete or set_trunk_server exits with the errno.
/// </summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("monitor",
            "Cluster view and admin like fdfs_monitor: [list [group]] | delete <group> [<storage_id>] | set_trunk_server <group> [<storage_id>] | drain|undrain <group> <storage>");
        var operation = new Argument<string?>("operation") { Description = "list (default), delete, set_trunk_server, drain or undrain", Arity = ArgumentArity.ZeroOrOne };
        var group = new Argument<string?>("group") { Description = "group name (list: only this group; delete, set_trunk_server: the group)", Arity = ArgumentArity.ZeroOrOne };
        var storageId = new Argument<string?>("storage_id") { Description = "delete: the storage to remove (without it the whole group is removed); set_trunk_server: the new trunk server (without it the leader keeps or elects one); drain, undrain: the storage (id, ip or ip:port)", Arity = ArgumentArity.ZeroOrOne };
        var wait = new Option<bool>("--wait") { Description = "drain: wait until every file the storage is the source of is on the other members" };
        command.Add(operation);
        command.Add(group);
        var json = JsonOutput.NewOption();
        command.Add(storageId);
        command.Add(json);
        command.Add(wait);
        connection.Handle((parse, client, output, ct) => parse.GetValue(operation) is "drain" or "undrain"
            ? DrainAsync(client, parse.GetValue(operation) == "drain", parse.GetValue(group), parse.GetValue(storageId), parse.GetValue(wait), output,
                TimeZoneInfo.Local, ct)
            : RunAsync(client, parse.GetValue(operation) ?? "list", parse.GetValue(group), parse.GetValue(storageId), output, TimeZoneInfo.Local, ct,
                parse.GetValue(json)))(command);
        return command;
    }

    /// <summary>
    /// Runs one monitor operation; times print in <paramref name="zone"/> (stock prints local time). With
    /// <paramref name="json"/> one JSON document instead of the text (<see cref="MonitorJson"/>, <see cref="MonitorResultJson"/>).
    /// </summary>
    internal static async Task<int> RunAsync(
        FastDfsClient client, string op, string? groupName, string? storageId, TextWriter output, TimeZoneInfo zone, CancellationToken ct,
        bool json = false)
    {
        if (op is not ("list" or "delete" or "set_trunk_server"))
        {
            throw new ArgumentException($"invalid monitor command '{op}': expected list, delete or set_trunk_server");
        }

        if (op != "list" && groupName == null)
        {
            throw new ArgumentException($"monitor {op} needs a group name");
        }

        var (index, tracker) = await ReachableTrackerAsync(client.Options, ct);
        if (json)
        {
            return op == "list"
                ? await ListJsonAsync(client, index, tracker, groupName, output, ct)
                : await AdministerJsonAsync(client, op, groupName!, storageId, output, ct);
        }

        await output.WriteAsync(MonitorFormat.Preamble(client.Options.Trackers.Count, index, tracker.ToString()));
        return op switch
        {
            "list" => await ListAsync(client, tracker, groupName, output, zone, ct),
            "delete" => await DeleteAsync(client, groupName!, storageId, output, ct),
            _ => await SetTrunkServerAsync(client, groupName!, storageId ?? "", output, ct),
        };
    }

    /// <summary>The first tracker (in configuration order) that accepts a TCP connection.</summary>
    private static async Task<(int Index, FastDfsEndpoint Tracker)> ReachableTrackerAsync(FastDfsClientOptions options, CancellationToken ct)
    {
        FastDfsException? last = null;
        for (int i = 0; i < options.Trackers.Count; i++)
        {
            try
            {
                using var probe = await FastDfsConnection.ConnectAsync(options.Trackers[i], options, ct);
                return (i, options.Trackers[i]);
            }
            catch (FastDfsConnectionException ex)
            {
                last = ex;
            }
        }

        throw last ?? new FastDfsException(Errno.ENOENT, "no tracker server configured");
    }

    private static async Task<int> ListAsync(FastDfsClient client, FastDfsEndpoint tracker, string? only, TextWriter output, TimeZoneInfo zone, CancellationToken ct)
    {
        var groups = await client.Tracker.ListGroupsOnAsync(tracker, ct);
        if (only == null)
        {
            await output.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"group count: {groups.Count}\n"));
        }

        int number = 0;
        IReadOnlyList<SpareStorageEntry> spares = [];
        foreach (var g in groups)
        {
            number++;
            if (only != null && g.GroupName != only)
            {
                continue;
            }

            var storages = await client.Tracker.ListStoragesOnAsync(tracker, g.GroupName, ct: ct);
            var sync = await TryGetSyncStatusAsync(client, g.GroupName, ct);
            spares = sync?.Spares ?? spares;
            var trunkSpace = g.CurrentTrunkFileId >= 0 ? await TryGetTrunkSpaceAsync(client, storages, ct) : null;
            var integrity = await TryGetIntegrityAsync(client, storages, ct);
            string header = only == null ? string.Create(CultureInfo.InvariantCulture, $"\nGroup {number}:\n") : string.Empty;
            await output.WriteAsync(header + MonitorFormat.Group(g, storages, zone, sync, trunkSpace, integrity));
        }

        if (only == null && spares.Count > 0)
        {
            await output.WriteAsync(MonitorFormat.Spares(spares, zone));
        }

        // Beyond stock: with several trackers, which one leads and why the others do not. Appended after the
        // stock text (which stays line for line identical), and only then, so single-tracker output is stock's.
        if (only == null && client.Options.Trackers.Count > 1)
        {
            await output.WriteLineAsync();
            await TrackerClusterSection.WriteAsync(client.Options, output, ct);
        }

        return 0;
    }

    /// <summary>State reasons and sync lags: FastDFS.NET trackers only (a stock tracker refuses the command).</summary>
    private static async Task<StorageSyncStatus?> TryGetSyncStatusAsync(FastDfsClient client, string group, CancellationToken ct)
    {
        try
        {
            return await client.Tracker.GetSyncStatusAsync(group, ct);
        }
        catch (FastDfsException)
        {
            return null;
        }
    }

    /// <summary>
    /// Trunk space of each storage that is up: FastDFS.NET storages only (a stock storage refuses the command, one
    /// without trunk files answers ENOENT); a storage that does not answer is left out.
    /// </summary>
    private static async Task<Dictionary<string, TrunkSpace>> TryGetTrunkSpaceAsync(FastDfsClient client, IReadOnlyList<StorageStat> storages, CancellationToken ct)
    {
        var spaces = new Dictionary<string, TrunkSpace>(StringComparer.Ordinal);
        foreach (var storage in storages.Where(st => st.Status is StorageStatus.Active or StorageStatus.Online))
        {
            try
            {
                var endpoint = new StorageEndpoint(storage.IpAddr, (int)storage.StoragePort);
                spaces[storage.Id] = await client.GetStorage(endpoint).QueryTrunkSpaceAsync(ct);
            }
            catch (FastDfsException)
            {
            }
        }

        return spaces;
    }

    /// <summary>Integrity reports (scrub, anti-entropy, refused replicas) of the FastDFS.NET storages that are up.</summary>
    private static async Task<Dictionary<string, IntegrityStatus>> TryGetIntegrityAsync(FastDfsClient client, IReadOnlyList<StorageStat> storages, CancellationToken ct)
    {
        var reports = new Dictionary<string, IntegrityStatus>(StringComparer.Ordinal);
        foreach (var storage in storages.Where(st => st.Status is StorageStatus.Active or StorageStatus.Online))
        {
            try
            {
                var endpoint = new StorageEndpoint(storage.IpAddr, (int)storage.StoragePort);
                reports[storage.Id] = await client.GetStorage(endpoint).QueryIntegrityAsync(ct);
            }
            catch (FastDfsException)
            {
            }
        }

        return reports;
    }

    /// <summary>
    /// <c>monitor drain|undrain GROUP STORAGE [--wait]</c> (FastDFS.NET trackers): sets the drain on every tracker, then says
    /// where it stands; with <c>--wait</c> until every file the storage is the source of is on the other serving members,
    /// when it can be stopped and deleted (<c>monitor delete</c>) with nothing lost.
    /// </summary>
    internal static async Task<int> DrainAsync(FastDfsClient client, bool drain, string? group, string? storage, bool wait, TextWriter output,
        TimeZoneInfo zone, CancellationToken ct)
    {
        string op = drain ? "drain" : "undrain";
        if (group is null || storage is null)
        {
            throw new ArgumentException($"monitor {op} needs a group name and a storage (id, ip or ip:port)");
        }

        string id = await ResolveStorageIdAsync(client, group, storage, ct);
        try
        {
            await client.Tracker.SetDrainingEverywhereAsync(group, id, drain, ct);
        }
        catch (FastDfsException ex)
        {
            // Server refusals and unreachable trackers alike: the trackers before the failing one already took it.
            await output.WriteLineAsync($"{op} storage server {group}::{id} fail, {ex.Message} (the trackers listed before it took it: " +
                                        $"run {(drain ? "undrain" : "drain")} to go back, or again once they all answer)");
            return ex.ErrorCode is > 0 and < 256 ? ex.ErrorCode : 1;
        }

        await output.WriteLineAsync($"{op} storage server {group}::{id} success ({client.Options.Trackers.Count} tracker(s))");
        if (!drain)
        {
            return 0;
        }

        var groupStat = (await client.Tracker.ListGroupsAsync(ct)).FirstOrDefault(g => g.GroupName == group);
        if (groupStat is { WritableServerCount: 0 })
        {
            await output.WriteLineAsync($"warning: no member of {group} takes uploads now (undrain one, or uploads to {group} fail)");
        }

        string? said = null;
        while (true)
        {
            var state = (await client.Tracker.GetSyncStatusAsync(group, ct)).Draining.GetValueOrDefault(id);
            if (state is null)
            {
                await output.WriteLineAsync($"{group}::{id} no longer drains");
                return 1;
            }

            if (!wait)
            {
                await output.WriteLineAsync($"draining {MonitorFormat.DrainText(state, zone)} (--wait checks it file by file)");
                return 0;
            }

            // The trackers judge from the timestamps the storages report (whole seconds, every heartbeat): once they say
            // complete, the members' listings are compared, so that "drained" means every file is there.
            string progress = state.Complete ? await MissingOnPeersAsync(client, group, id, ct) : MonitorFormat.DrainText(state, zone);
            if (progress.Length == 0)
            {
                await output.WriteLineAsync(
                    $"drained: every file {id} holds is on every other ACTIVE member (compared file by file); stop it, then: fdfs monitor delete {group} {id}");
                return 0;
            }

            if (progress != said)
            {
                await output.WriteLineAsync($"draining: {progress}");
                said = progress;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>
    /// The files the draining storage holds that another ACTIVE member lacks (or holds with another size), as one line,
    /// or empty when there are none: the members' listings merged by name.
    /// </summary>
    private static async Task<string> MissingOnPeersAsync(FastDfsClient client, string group, string id, CancellationToken ct)
    {
        var members = (await client.Tracker.ListStoragesAsync(group, ct: ct)).Where(m => m.Status == StorageStatus.Active).ToList();
        var drained = members.FirstOrDefault(m => m.Id == id);
        var others = members.Where(m => m.Id != id).ToList();
        if (drained is null || others.Count == 0)
        {
            return drained is null ? $"{id} is not ACTIVE: its files cannot be compared" : "no other ACTIVE member to hold its files";
        }

        var listings = new[] { drained }.Concat(others)
            .Select(m => client.GetStorage(new StorageEndpoint(m.IpAddr, (int)m.StoragePort)).ListAllFilesAsync(group, "", ListFilesOptions.None, ct))
            .ToList();
        long missing = 0;
        string? example = null;
        await foreach (var (name, entries) in FastDfsClient.MergeListingsAsync(listings, ct))
        {
            if (entries[0] is { } mine && entries.Skip(1).Any(e => e is not { } theirs || theirs.Size != mine.Size))
            {
                missing++;
                example ??= name;
            }
        }

        return missing == 0 ? "" : $"{missing} of its files not yet on every other member (e.g. {example})";
    }

    /// <summary>A storage named by id, ip or ip:port, as the trackers list it.</summary>
    private static async Task<string> ResolveStorageIdAsync(FastDfsClient client, string group, string storage, CancellationToken ct)
    {
        var members = await client.Tracker.ListStoragesAsync(group, ct: ct);
        var found = members.FirstOrDefault(m => m.Id == storage)
                    ?? members.FirstOrDefault(m => $"{m.IpAddr}:{m.StoragePort}" == storage)
                    ?? (members.Count(m => m.IpAddr == storage) == 1 ? members.First(m => m.IpAddr == storage) : null);
        return found?.Id ?? throw new FastDfsException(Errno.ENOENT, $"no storage {storage} in group {group}");
    }

    private static async Task<int> DeleteAsync(FastDfsClient client, string group, string? storageId, TextWriter output, CancellationToken ct)
    {
        string what = storageId == null ? $"delete group: {group}" : $"delete storage server {group}::{storageId}";
        try
        {
            if (storageId == null)
            {
                await client.Tracker.DeleteGroupEverywhereAsync(group, ct);
            }
            else
            {
                await client.Tracker.DeleteStorageEverywhereAsync(group, storageId, ct);
            }
        }
        catch (FastDfsException ex) when (ex.IsServerError)
        {
            await output.WriteLineAsync($"{what} fail, {FastDfsException.FormatErrno(ex.ErrorCode)}");
            return ex.ErrorCode;
        }

        await output.WriteLineAsync($"{what} success");
        return 0;
    }

    /// <summary>
    /// fdfs_monitor's set_trunk_server: sent to each tracker in turn until the leader answers; prints the new trunk server
    /// (stock's line: the group and the id asked for, empty when none was given).
    /// </summary>
    private static async Task<int> SetTrunkServerAsync(FastDfsClient client, string group, string storageId, TextWriter output, CancellationToken ct)
    {
        string what = $"set trunk server {group}::{storageId}";
        string trunkServer;
        try
        {
            trunkServer = await client.Tracker.SetTrunkServerAsync(group, storageId, ct);
        }
        catch (FastDfsException ex) when (ex.IsServerError)
        {
            await output.WriteLineAsync($"{what} fail, {FastDfsException.FormatErrno(ex.ErrorCode)}");
            return ex.ErrorCode;
        }

        await output.WriteLineAsync($"{what} success, new trunk server: {trunkServer}");
        return 0;
    }

    /// <summary>The listing as one <see cref="MonitorJson"/> document: the groups (or the one asked for) and their storages.</summary>
    private static async Task<int> ListJsonAsync(FastDfsClient client, int index, FastDfsEndpoint tracker, string? only, TextWriter output, CancellationToken ct)
    {
        var groups = new List<GroupJson>();
        foreach (var g in await client.Tracker.ListGroupsOnAsync(tracker, ct))
        {
            if (only != null && g.GroupName != only)
            {
                continue;
            }

            var storages = await client.Tracker.ListStoragesOnAsync(tracker, g.GroupName, ct: ct);
            var sync = await TryGetSyncStatusAsync(client, g.GroupName, ct);
            var reasons = sync?.Reasons;
            string? trunkServer = g.CurrentTrunkFileId >= 0 ? storages.FirstOrDefault(st => st.IsTrunkServer)?.Id : null;
            groups.Add(new GroupJson(
                g.GroupName, g.TotalMb, g.FreeMb, g.ReservedMb, Math.Max(0, g.FreeMb - g.ReservedMb), g.TrunkFreeMb, g.StorageCount,
                g.ReadableServerCount, g.WritableServerCount, g.StoragePort, g.StorePathCount, g.SubdirCountPerPath, g.CurrentWriteServer,
                g.CurrentTrunkFileId, trunkServer,
                storages.Select(st => StorageToJson(st, reasons != null && reasons.TryGetValue(st.Id, out string? reason) ? reason : null,
                    sync?.Draining.GetValueOrDefault(st.Id) is { } drain ? DrainToJson(drain) : null)).ToList()));
        }

        var trackers = (await TrackerClusterSection.QueryAsync(client.Options, ct))
            .Select(t => new TrackerJson(t.Tracker.ToString(), t.Role, t.Detail)).ToList();
        await JsonOutput.WriteAsync(output, new MonitorJson(tracker.ToString(), index, client.Options.Trackers.Count, trackers, groups),
            CliJsonContext.Default.MonitorJson);
        return 0;
    }

    private static DrainJson DrainToJson(DrainState drain) =>
        new(drain.Since, drain.Complete, drain.WaitingFor.Select(w => new DrainWaitJson(w.Id, w.BehindSeconds)).ToList());

    internal static StorageJson StorageToJson(StorageStat st, string? stateReason, DrainJson? draining = null)
    {
        var c = st.Counters;
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var counter = StorageStatCounters.Counter.TotalUploadCount; counter <= StorageStatCounters.Counter.LastHeartBeatTime; counter++)
        {
            counters[System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(counter.ToString())] = c[counter];
        }

        string mode = st.RwMode switch { 6 => "both", 4 => "readonly", 2 => "writeonly", 0 => "none", _ => "unknown" };
        return new StorageJson(
            st.Id, st.IpAddr, st.StoragePort, MonitorFormat.StatusCaption(st.Status), mode, st.Version, st.JoinTime, st.UpTime,
            st.TotalMb, st.FreeMb, st.ReservedMb, st.UploadPriority, st.StorePathCount, st.SubdirCountPerPath, st.CurrentWritePath,
            st.SrcId, st.IsTrunkServer, new ConnectionJson(c.ConnectionAllocCount, c.ConnectionCurrentCount, c.ConnectionMaxCount), counters,
            stateReason, draining);
    }

    /// <summary>delete / set_trunk_server as one <see cref="MonitorResultJson"/> document; the exit code is the errno, as in text.</summary>
    private static async Task<int> AdministerJsonAsync(FastDfsClient client, string op, string group, string? storageId, TextWriter output, CancellationToken ct)
    {
        string? trunkServer = null;
        int errno = 0;
        try
        {
            if (op == "set_trunk_server")
            {
                trunkServer = await client.Tracker.SetTrunkServerAsync(group, storageId, ct);
            }
            else if (storageId == null)
            {
                await client.Tracker.DeleteGroupEverywhereAsync(group, ct);
            }
            else
            {
                await client.Tracker.DeleteStorageEverywhereAsync(group, storageId, ct);
            }
        }
        catch (FastDfsException ex) when (ex.IsServerError)
        {
            errno = ex.ErrorCode;
        }

        await JsonOutput.WriteAsync(output, new MonitorResultJson(op, group, storageId, errno == 0, errno,
            errno == 0 ? null : Errno.Describe(errno), trunkServer), CliJsonContext.Default.MonitorResultJson);
        return errno;
    }
}
