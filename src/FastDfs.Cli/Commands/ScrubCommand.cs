using System.CommandLine;
using System.Globalization;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>fdfs scrub [--group G] [--storage IP:PORT] [--rate MB]</c>: one scrub pass now on every chosen storage (every
/// stored file whose name promises its size and CRC32 is read and checked; a damaged copy is replaced from a peer),
/// then what each pass found and repaired. Exit code 0 when nothing damaged is left, 1 when a damaged file could not be
/// repaired, the errno when a storage could not be asked.
/// </summary>
internal static class ScrubCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(300);

    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("scrub",
            "Run one scrub pass now on the storages (all groups, one group or one storage) and print what it found and repaired");
        var group = new Option<string?>("--group", "-g") { Description = "only the storages of this group" };
        var storage = new Option<string?>("--storage", "-s") { Description = "only this storage (IP:PORT)" };
        var rate = new Option<double?>("--rate")
        {
            Description = "read limit in MB per second for this pass (default: the storage's scrub_rate; 0 = unlimited)",
        };
        command.Add(group);
        command.Add(storage);
        command.Add(rate);
        connection.Handle((parse, client, output, ct) => RunAsync(client, parse.GetValue(group), parse.GetValue(storage), parse.GetValue(rate), output, ct))(command);
        return command;
    }

    internal static async Task<int> RunAsync(FastDfsClient client, string? group, string? storage, double? rateMb, TextWriter output, CancellationToken ct)
    {
        long rate = rateMb switch { null => 0, <= 0 => -1, var mb => (long)(mb.Value * 1024 * 1024) };
        var targets = await TargetsAsync(client, group, storage, ct);
        if (targets.Count == 0)
        {
            throw new FastDfsException(Errno.ENOENT, group is null ? "no storage is up" : $"no storage of group {group} is up");
        }

        var started = DateTime.UtcNow;
        var passes = new List<(Target Target, long Pass, IntegrityStatus Before)>();
        int failed = 0;
        foreach (var target in targets)
        {
            var storageClient = client.GetStorage(target.Endpoint);
            try
            {
                var before = await storageClient.QueryIntegrityAsync(ct);
                long pass = await storageClient.StartScrubAsync(rate, ct);
                passes.Add((target, pass, before));
            }
            catch (FastDfsException e)
            {
                await output.WriteLineAsync($"storage {target}: cannot start a scrub: {e.Message}" +
                    (e.ErrorCode == Errno.EINVAL ? " (not a FastDFS.NET storage?)" : ""));
                failed = e.ErrorCode is > 0 and < 256 ? e.ErrorCode : 1;
            }
        }

        bool unrepaired = false;
        foreach (var (target, pass, before) in passes)
        {
            var status = await WaitForPassAsync(client.GetStorage(target.Endpoint), pass, ct);
            if (status is null)
            {
                await output.WriteLineAsync($"storage {target}: the pass did not run to its end (the storage restarted?)");
                failed = failed == 0 ? 1 : failed;
                continue;
            }

            await output.WriteAsync(Format(target, status, before, DateTime.UtcNow - started));
            if (status.ScrubLastFailed)
            {
                await output.WriteLineAsync($"storage {target}: the pass stopped on an error (see the storage's log)");
                failed = failed == 0 ? 1 : failed;
            }

            unrepaired |= status.ScrubUnrepairable > 0;
        }

        return failed != 0 ? failed : unrepaired ? 1 : 0;
    }

    internal readonly record struct Target(string Group, StorageEndpoint Endpoint)
    {
        public override string ToString() => $"{Endpoint.Ip}:{Endpoint.Port} ({Group})";
    }

    private static async Task<List<Target>> TargetsAsync(FastDfsClient client, string? group, string? storage, CancellationToken ct)
    {
        if (storage is not null)
        {
            var endpoint = FastDfsEndpoint.Parse(storage, 23000);
            return [new Target(group ?? "?", new StorageEndpoint(endpoint.Host, endpoint.Port))];
        }

        var targets = new List<Target>();
        foreach (var g in await client.Tracker.ListGroupsAsync(ct))
        {
            if (group is not null && g.GroupName != group)
            {
                continue;
            }

            foreach (var s in await client.Tracker.ListStoragesAsync(g.GroupName, ct: ct))
            {
                if (s.Status is StorageStatus.Active or StorageStatus.Online)
                {
                    targets.Add(new Target(g.GroupName, new StorageEndpoint(s.IpAddr, (int)s.StoragePort)));
                }
            }
        }

        return targets;
    }

    /// <summary>The report once the pass has ended; null when it never will (the storage restarted and lost it).</summary>
    private static async Task<IntegrityStatus?> WaitForPassAsync(StorageClient storage, long pass, CancellationToken ct)
    {
        int idleLooks = 0;
        while (true)
        {
            var status = await storage.QueryIntegrityAsync(ct);
            if (status.ScrubEnded >= pass && !status.ScrubRunning)
            {
                return status;
            }

            // Nothing running or waiting to run and the pass not ended: a restart lost it (a few looks to be sure).
            idleLooks = status.ScrubRunning ? 0 : idleLooks + 1;
            if (idleLooks >= 10)
            {
                return null;
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    internal static string Format(Target target, IntegrityStatus status, IntegrityStatus before, TimeSpan elapsed)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"storage {target}: {status.ScrubFilesChecked} files, {MonitorFormat.HumanBytes(status.ScrubBytesChecked)} checked in {elapsed.TotalSeconds:0.#} s: ");
        text.Append(CultureInfo.InvariantCulture,
            $"{status.ScrubCorrupt} damaged, {status.ScrubRepaired} repaired, {status.ScrubUnrepairable} not repairable\n");
        var earlier = before.Findings.ToHashSet();
        foreach (var finding in status.Findings.Where(f => !earlier.Contains(f) && f.Time >= status.ScrubStarted &&
            f.Kind is IntegrityFindingKind.Repaired or IntegrityFindingKind.Unrepairable))
        {
            string what = finding.Kind == IntegrityFindingKind.Repaired ? "repaired" : "NOT REPAIRABLE (no peer has a good copy)";
            text.Append(CultureInfo.InvariantCulture, $"  {target.Group}/{finding.LogicName}: {what}\n");
        }

        return text.ToString();
    }
}
