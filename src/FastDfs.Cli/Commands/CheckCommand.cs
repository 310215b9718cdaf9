using System.CommandLine;
using System.Globalization;
using System.Text;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>fdfs check GROUP [--quick] [--json]</c>: compares every member of a group file by file (names, sizes, CRC32 of the
/// content, metadata files) from their LIST_FILES listings, merged in name order with one page per member in memory,
/// and prints each difference. A difference is looked at again after a pause (it may have been a change on its way to
/// the peers) and printed only if it is still there. Exit code 1 when there is any difference, or a member could not
/// be compared.
/// </summary>
internal static class CheckCommand
{
    private const int MaxRechecked = 1000;
    private static readonly TimeSpan RecheckDelay = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("check",
            "Compare every member of a group file by file (names, sizes, CRC32, metadata) and print each difference; exit code 1 if any");
        var group = new Argument<string>("group") { Description = "the group to check" };
        var quick = new Option<bool>("--quick")
        {
            Description = "compare names and sizes only (CRC32 of appender and metadata files still), without reading every file",
        };
        var json = JsonOutput.NewOption();
        command.Add(group);
        command.Add(quick);
        command.Add(json);
        connection.Handle((parse, client, output, ct) =>
            RunAsync(client, parse.GetValue(group)!, parse.GetValue(quick), output, ct, parse.GetValue(json)))(command);
        return command;
    }

    internal sealed record Member(string Name, StorageEndpoint Endpoint);

    /// <summary>Compares the group; with <paramref name="json"/> the report is one <see cref="CheckJson"/> document instead of lines.</summary>
    internal static async Task<int> RunAsync(FastDfsClient client, string group, bool quick, TextWriter output, CancellationToken ct, bool json = false)
    {
        var report = new CheckJson(group, quick, [], [], 0, [], null);
        var text = json ? TextWriter.Null : output;
        int exit = await CompareAsync(client, group, quick, text, report, ct);
        if (json)
        {
            await JsonOutput.WriteAsync(output, report, CliJsonContext.Default.CheckJson);
        }

        return exit;
    }

    private static async Task<int> CompareAsync(FastDfsClient client, string group, bool quick, TextWriter output, CheckJson report, CancellationToken ct)
    {
        var storages = await client.Tracker.ListStoragesAsync(group, ct: ct);
        var members = storages.Where(s => s.Status is StorageStatus.Active or StorageStatus.Online)
            .Select(s => new Member($"{s.IpAddr}:{s.StoragePort}", new StorageEndpoint(s.IpAddr, (int)s.StoragePort))).ToList();
        var absent = storages.Where(s => s.Status is not (StorageStatus.Active or StorageStatus.Online or StorageStatus.Deleted or StorageStatus.IpChanged)).ToList();
        var options = quick ? ListFilesOptions.Crc32OfMutable : ListFilesOptions.Crc32;
        string what = quick ? "names and sizes" : "names, sizes and CRC32 of every file";
        await output.WriteLineAsync($"group {group}: comparing {members.Count} members ({string.Join(", ", members.Select(m => m.Name))}), {what}");
        report.Members.AddRange(members.Select(m => m.Name));
        foreach (var s in absent)
        {
            await output.WriteLineAsync($"{s.IpAddr}:{s.StoragePort} is {s.Status.ToMonitorName()}: not compared");
            report.NotCompared.Add(new NotComparedJson($"{s.IpAddr}:{s.StoragePort}", s.Status.ToMonitorName()));
        }

        if (members.Count == 0)
        {
            return 1;
        }

        // Every member must answer LIST_FILES (a FastDFS.NET command): a stock storage cannot be compared.
        foreach (var member in members)
        {
            try
            {
                await client.GetStorage(member.Endpoint).ListFilesAsync(group, maxEntries: 1, ct: ct);
            }
            catch (FastDfsException e)
            {
                string error = $"{member.Name} does not list its files ({e.Message}): a stock storage cannot be compared";
                await output.WriteLineAsync(error);
                report.Error = error;
                return 1;
            }
        }

        var suspects = new List<string>();
        long compared = 0;
        int shown = 0;
        await foreach (var (name, entries) in MergeAsync(client, group, members, "", options, ct))
        {
            compared++;
            if (Describe(name, members, entries) is not null)
            {
                if (suspects.Count < MaxRechecked)
                {
                    suspects.Add(name);
                }
                else
                {
                    // Too many to look at again: print them as they are.
                    await output.WriteLineAsync(Describe(name, members, entries));
                    report.Differences.Add(new DifferenceJson(name, Problems(name, members, entries)));
                    shown++;
                }
            }
        }

        if (suspects.Count > 0)
        {
            await Task.Delay(RecheckDelay, ct);
            foreach (string name in suspects)
            {
                var entries = await LookAgainAsync(client, group, members, name, options, ct);
                if (Describe(name, members, entries) is { } difference)
                {
                    await output.WriteLineAsync(difference);
                    report.Differences.Add(new DifferenceJson(name, Problems(name, members, entries)));
                    shown++;
                }
            }
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{compared} files compared, {shown} difference{(shown == 1 ? "" : "s")}"));
        report.FilesCompared = compared;
        return shown > 0 || absent.Count > 0 ? 1 : 0;
    }

    /// <summary>The members' listings merged by name: each name once, with each member's entry (null where it is missing).</summary>
    internal static IAsyncEnumerable<(string Name, ListedFile?[] Entries)> MergeAsync(FastDfsClient client, string group, IReadOnlyList<Member> members,
        string prefix, ListFilesOptions options, CancellationToken ct) =>
        FastDfsClient.MergeListingsAsync(members.Select(m => client.GetStorage(m.Endpoint).ListAllFilesAsync(group, prefix, options, ct)).ToList(), ct);

    /// <summary>One name on every member again (its sub-directory's listing, which holds it).</summary>
    private static async Task<ListedFile?[]> LookAgainAsync(FastDfsClient client, string group, IReadOnlyList<Member> members, string name,
        ListFilesOptions options, CancellationToken ct)
    {
        var entries = new ListedFile?[members.Count];
        string directory = name[..9];
        await foreach (var (listed, found) in MergeAsync(client, group, members, directory, options, ct))
        {
            if (listed == name)
            {
                return found;
            }
        }

        return entries;
    }

    /// <summary>The difference for one name, or null when every member holds the same thing (and it keeps its name's promise).</summary>
    internal static string? Describe(string name, IReadOnlyList<Member> members, ListedFile?[] entries) =>
        Problems(name, members, entries) is { Count: > 0 } problems
            ? new StringBuilder(name).Append(": ").Append(string.Join("; ", problems)).ToString()
            : null;

    /// <summary>Each difference for one name (empty when every member holds the same thing and it keeps its name's promise).</summary>
    internal static List<string> Problems(string name, IReadOnlyList<Member> members, ListedFile?[] entries)
    {
        var problems = new List<string>();
        var missing = members.Where((_, i) => entries[i] is null).Select(m => m.Name).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"missing on {string.Join(", ", missing)}");
        }

        var present = members.Select((m, i) => (m, e: entries[i])).Where(p => p.e is not null).Select(p => (p.m, e: p.e!.Value)).ToList();
        if (present.Select(p => p.e.Size).Distinct().Count() > 1)
        {
            problems.Add("sizes differ: " + string.Join(", ", present.Select(p => $"{p.e.Size} on {p.m.Name}")));
        }
        else if (present.Where(p => p.e.HasCrc32).Select(p => p.e.Crc32).Distinct().Count() > 1)
        {
            problems.Add("content differs: " + string.Join(", ", present.Where(p => p.e.HasCrc32).Select(p => $"crc32 {p.e.Crc32:x8} on {p.m.Name}")));
        }

        if (present.Select(p => p.e.Kind).Distinct().Count() > 1)
        {
            problems.Add("kinds differ: " + string.Join(", ", present.Select(p => $"{p.e.Kind} on {p.m.Name}")));
        }

        var unreadable = present.Where(p => p.e.Kind.HasFlag(ListedFileKind.Unreadable)).Select(p => p.m.Name).ToList();
        if (unreadable.Count > 0)
        {
            problems.Add($"unreadable on {string.Join(", ", unreadable)}");
        }

        if (!name.EndsWith("-m", StringComparison.Ordinal) && FileNameCodec.TryGetContentPromise(name, out long promisedSize, out uint promisedCrc))
        {
            var broken = present.Where(p => (p.e.Kind & (ListedFileKind.Link | ListedFileKind.Unreadable)) == 0 &&
                (p.e.Size != promisedSize || (p.e.HasCrc32 && p.e.Crc32 != promisedCrc))).Select(p => p.m.Name).ToList();
            if (broken.Count > 0)
            {
                problems.Add($"does not match the size and CRC32 of its name on {string.Join(", ", broken)}");
            }
        }

        return problems;
    }
}
