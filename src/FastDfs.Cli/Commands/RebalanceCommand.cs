using System.CommandLine;
using System.Globalization;
using FastDfs.Bench;
using FastDfs.Cli.Rebalance;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>fdfs rebalance SOURCE TARGET (--share P | --bytes SIZE | --files LIST) [--journal FILE]</c>: moves files of one
/// group to another under their logic names; the old IDs keep working through the trackers (docs/rebalancing.md). The
/// plan is written to the journal first; run the same command again after an interruption and it resumes the plan.
/// Exit code 0 when every planned file is moved (or was deleted meanwhile), 1 when some could not be (listed).
/// </summary>
internal static class RebalanceCommand
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);
    private const int FailuresShown = 20;

    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("rebalance",
            "Move a share of a group's files (or a list) to another group; their old file IDs keep working (FastDFS.NET trackers and storages)");
        var source = new Argument<string>("source") { Description = "the group to move files from" };
        var target = new Argument<string>("target") { Description = "the group to move them to" };
        var share = new Option<string?>("--share") { Description = "this share of the source group's files, spread over it: 50% or 0.5" };
        var bytes = new Option<string?>("--bytes") { Description = "about this many bytes of the source group's files, spread over it: 10G, 500M" };
        var files = new Option<string?>("--files") { Description = "the file IDs listed in this file, one per line (- = standard input)" };
        var journal = new Option<string?>("--journal")
        {
            Description = "the journal of the move, to resume it after an interruption (default: fdfs-rebalance-SOURCE-TARGET.journal here)",
        };
        var parallel = new Option<int>("--parallel") { Description = "files copied at once", DefaultValueFactory = _ => 4 };
        var grace = new Option<double>("--grace")
        {
            Description = "seconds between a file's map entry and the deletion of its source copy (changes in flight land meanwhile)",
            DefaultValueFactory = _ => 2,
        };
        command.Add(source);
        command.Add(target);
        command.Add(share);
        command.Add(bytes);
        command.Add(files);
        command.Add(journal);
        command.Add(parallel);
        command.Add(grace);
        connection.Handle(async (parse, client, output, ct) =>
        {
            string from = parse.GetRequiredValue(source), to = parse.GetRequiredValue(target);
            var selection = Selection.Parse(parse.GetValue(share), parse.GetValue(bytes), parse.GetValue(files));
            string path = parse.GetValue(journal) ?? $"fdfs-rebalance-{from}-{to}.journal";
            var settings = new MoveSettings(from, to, Math.Clamp(parse.GetValue(parallel), 1, 64), TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(grace))),
                TimeSpan.FromMinutes(5));
            return await RunAsync(client, settings, selection, path, output, ct);
        })(command);
        return command;
    }

    /// <summary>Which files to move: a share of the count, about a number of bytes, or a list.</summary>
    internal sealed record Selection(double? Share, long? Bytes, string? ListPath)
    {
        public static Selection? Parse(string? share, string? bytes, string? list)
        {
            if ((share is null ? 0 : 1) + (bytes is null ? 0 : 1) + (list is null ? 0 : 1) > 1)
            {
                throw new ArgumentException("give one of --share, --bytes and --files");
            }

            if (share is not null)
            {
                bool percent = share.EndsWith('%');
                double fraction = double.TryParse(percent ? share[..^1] : share, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                    ? (percent ? value / 100 : value)
                    : double.NaN;
                if (!(fraction is > 0 and <= 1))
                {
                    throw new ArgumentException($"--share {share}: expected a share above 0 and at most 100% (50% or 0.5)");
                }

                return new Selection(fraction, null, null);
            }

            return bytes is not null ? new Selection(null, ByteSize.Parse(bytes), null)
                : list is not null ? new Selection(null, null, list)
                : null;
        }
    }

    internal static async Task<int> RunAsync(FastDfsClient client, MoveSettings settings, Selection? selection, string journalPath, TextWriter output,
        CancellationToken ct)
    {
        if (settings.SourceGroup == settings.TargetGroup)
        {
            throw new ArgumentException("the source and target groups are the same");
        }

        // Both groups must exist (ENOENT from the tracker otherwise).
        await client.Tracker.ListGroupAsync(settings.SourceGroup, ct);
        await client.Tracker.ListGroupAsync(settings.TargetGroup, ct);
        var journal = RebalanceJournal.Resume(journalPath, settings.SourceGroup, settings.TargetGroup);
        if (journal is not null)
        {
            int left = journal.Planned.Count(f => !journal.Done.Contains(f.Name));
            await output.WriteLineAsync($"resuming {journalPath}: {left} of {journal.Planned.Count} files left to move" +
                                        (selection is null ? "" : " (its plan; --share, --bytes and --files are not used)"));
        }
        else
        {
            if (selection is null)
            {
                throw new ArgumentException("give --share, --bytes or --files (or a journal to resume with --journal)");
            }

            var skipped = new SkippedCounts();
            journal = await RebalanceJournal.PlanAsync(journalPath, settings.SourceGroup, settings.TargetGroup,
                PlanAsync(client, settings.SourceGroup, selection, skipped, ct), ct);
            await output.WriteLineAsync($"planned {journal.Planned.Count} files ({ByteSize.Format(journal.Planned.Sum(f => f.Size))}) of " +
                                        $"{settings.SourceGroup} to move to {settings.TargetGroup} (journal {journalPath})" + skipped.Text());
        }

        MoveSummary summary;
        using (journal)
        {
            var mover = new FileMover(client, settings, journal, TimeProvider.System);
            int total = journal.Planned.Count;
            using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var progress = ReportProgressAsync(mover, total, output, stopProgress.Token);
            try
            {
                summary = await mover.RunAsync(ct);
            }
            finally
            {
                await stopProgress.CancelAsync();
                await progress;
            }
        }

        double seconds = Math.Max(summary.Elapsed.TotalSeconds, 0.001);
        string vanished = summary.Vanished > 0 ? $"; {summary.Vanished} deleted meanwhile (nothing to move)" : "";
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"moved {summary.Moved} files ({ByteSize.Format(summary.Bytes)}) from {settings.SourceGroup} to {settings.TargetGroup} in {seconds:0.0} s: {summary.Moved / seconds:0} files/s, {summary.Bytes / seconds / 1e6:0.0} MB/s{vanished}"));
        if (summary.Failed.Count == 0)
        {
            File.Delete(journalPath);
            return 0;
        }

        await output.WriteLineAsync($"{summary.Failed.Count} files not moved (still in {settings.SourceGroup}; journal {journalPath} kept):");
        foreach (var (name, reason) in summary.Failed.Take(FailuresShown))
        {
            await output.WriteLineAsync($"  {settings.SourceGroup}/{name}: {reason}");
        }

        if (summary.Failed.Count > FailuresShown)
        {
            await output.WriteLineAsync($"  ... and {summary.Failed.Count - FailuresShown} more");
        }

        return 1;
    }

    private static async Task ReportProgressAsync(FileMover mover, int total, TextWriter output, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(ProgressInterval);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await output.WriteLineAsync($"moved {mover.Moved}/{total} files ({ByteSize.Format(mover.Bytes)})");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The files not planned, by why.</summary>
    private sealed class SkippedCounts
    {
        public int Appenders;
        public int TrunkStored;
        public int Unreadable;

        public string Text()
        {
            var parts = new List<string>();
            if (Appenders > 0)
            {
                parts.Add($"{Appenders} appender files (they may be written to)");
            }

            if (TrunkStored > 0)
            {
                parts.Add($"{TrunkStored} files stored in trunk files");
            }

            if (Unreadable > 0)
            {
                parts.Add($"{Unreadable} files a storage could not read");
            }

            return parts.Count == 0 ? "" : "; not moved: " + string.Join(", ", parts);
        }
    }

    /// <summary>The files the selection names, each with its size (0 from a list: not known yet).</summary>
    private static async IAsyncEnumerable<(string Name, long Size)> PlanAsync(FastDfsClient client, string group, Selection selection,
        SkippedCounts skipped, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (selection.ListPath is { } listPath)
        {
            await foreach (var name in ListedNamesAsync(listPath, group, skipped, ct))
            {
                yield return (name, 0);
            }

            yield break;
        }

        // Two passes over the listing: the first counts, the second picks the share evenly spread (every other file for
        // half), so that the plan covers every directory and time of upload alike.
        long count = 0, total = 0;
        await foreach (var file in MovableAsync(client, group, skipped, ct))
        {
            count++;
            total += file.Size;
        }

        double fraction = selection.Share ?? Math.Min(1, total == 0 ? 0 : (double)selection.Bytes!.Value / total);
        long index = 0, chosen = 0, seenBytes = 0, chosenBytes = 0;
        await foreach (var file in MovableAsync(client, group, new SkippedCounts(), ct))
        {
            seenBytes += file.Size;
            bool pick = selection.Share is not null
                ? Math.Floor((index + 1) * fraction) > chosen
                : chosenBytes < selection.Bytes!.Value && chosenBytes < fraction * seenBytes;
            index++;
            if (pick)
            {
                chosen++;
                chosenBytes += file.Size;
                yield return (file.LogicName, file.Size);
            }
        }
    }

    /// <summary>The group's files a move can take: normal and slave files (not appenders, not trunk-stored, not metadata).</summary>
    private static async IAsyncEnumerable<ListedFile> MovableAsync(FastDfsClient client, string group, SkippedCounts skipped,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var file in client.ListFilesAsync(group, ct: ct))
        {
            if (file.Kind.HasFlag(ListedFileKind.Metadata))
            {
                continue; // moved with its file
            }

            if (file.Kind.HasFlag(ListedFileKind.Trunk))
            {
                skipped.TrunkStored++;
            }
            else if (file.Kind.HasFlag(ListedFileKind.Unreadable))
            {
                skipped.Unreadable++;
            }
            else if (file.Kind.HasFlag(ListedFileKind.Appender))
            {
                skipped.Appenders++;
            }
            else
            {
                yield return file;
            }
        }
    }

    private static async IAsyncEnumerable<string> ListedNamesAsync(string path, string group, SkippedCounts skipped,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (string line in ClientConnection.ReadIdListAsync(path, ct))
        {
            var id = ClientConnection.ParseFileId(line);
            if (id.Group != group)
            {
                throw new FormatException($"{line} is not a file of {group}");
            }

            if (!FileNameCodec.TryDecode(id.LogicName, out var decoded))
            {
                throw new FormatException($"{line}: not a FastDFS file name");
            }

            if (decoded.IsAppender)
            {
                skipped.Appenders++;
            }
            else if (FileNameCodec.IsTrunkSizeField(decoded.SizeField))
            {
                skipped.TrunkStored++;
            }
            else if (seen.Add(id.LogicName))
            {
                yield return id.LogicName;
            }
        }
    }
}
