using System.Globalization;
using System.Text;

namespace FastDfs.Cli.Rebalance;

/// <summary>
/// The text journal of one <c>fdfs rebalance</c>: the plan (the logic names to move, fixed once written), then each
/// file's steps: <c>mapping</c> (on every target member, its map entries about to be sent; with the CRC32 of the metadata
/// it was copied with), <c>checked</c> (what reached the source copy meanwhile is carried over; its deletion follows),
/// <c>done</c>. Appended and flushed to disk at each step, so that a mover killed at any point (or stopped by a tracker
/// it cannot reach, the entries then on some trackers only) resumes where it was: a file without <c>mapping</c> is
/// imported again (a no-op when the target has it: the map never named it, so no client changed that copy); a
/// <c>mapping</c> one has its entries sent again, waits out the grace period and is checked against the source copy
/// (still there: only the mover deletes it, after <c>checked</c>); a <c>checked</c> one only has its source copy deleted.
/// <code>
/// fdfs-rebalance 2 group1 group2
/// file M00/00/00/X.jpg 1234
/// planned 1
/// mapping M00/00/00/X.jpg 1c291ca3
/// checked M00/00/00/X.jpg
/// done M00/00/00/X.jpg
/// </code>
/// </summary>
internal sealed class RebalanceJournal : IDisposable
{
    private const string Magic = "fdfs-rebalance 2";
    private readonly FileStream _file;
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    private RebalanceJournal(string path, bool append)
    {
        _file = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        _writer = new StreamWriter(_file, new UTF8Encoding(false)) { NewLine = "\n" };
    }

    /// <summary>The plan in order, with each file's size as planned (0 when unknown).</summary>
    public List<(string Name, long Size)> Planned { get; } = [];

    /// <summary>Files whose map entries were (being) sent, with the CRC32 of the metadata they were copied with.</summary>
    public Dictionary<string, uint> Mapping { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Checked { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Done { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Opens the journal at <paramref name="path"/> to resume its plan, or returns null when there is none to resume (no
    /// file, or a plan cut before its end: planning starts again). A journal of another pair of groups is an error.
    /// </summary>
    public static RebalanceJournal? Resume(string path, string sourceGroup, string targetGroup)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        // ASCII throughout (group and logic names): characters are bytes. A line cut by a crash (the last one, without its
        // newline) is dropped, from the file too, so that what is appended next starts a line: its step is done again.
        string text = File.ReadAllText(path, Encoding.ASCII);
        int end = text.LastIndexOf('\n') + 1;
        var lines = text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            return null;
        }

        if (lines[0] != $"{Magic} {sourceGroup} {targetGroup}")
        {
            throw new ArgumentException($"{path} is the journal of another move ({lines[0]}): give another --journal or delete it");
        }

        var planned = new List<(string, long)>();
        var mapping = new Dictionary<string, uint>(StringComparer.Ordinal);
        var checkedNames = new HashSet<string>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        bool complete = false;
        foreach (string line in lines.AsSpan(1))
        {
            var fields = line.Split(' ');
            switch (fields[0])
            {
                case "file" when fields.Length == 3 && !complete && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long size):
                    planned.Add((fields[1], size));
                    break;
                case "planned" when fields.Length == 2:
                    complete = true;
                    break;
                case "mapping" when fields.Length == 3 && uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint hash):
                    mapping[fields[1]] = hash;
                    break;
                case "checked" when fields.Length == 2:
                    checkedNames.Add(fields[1]);
                    break;
                case "done" when fields.Length == 2:
                    done.Add(fields[1]);
                    break;
                default:
                    throw new FormatException($"{path}: unexpected line '{line}'");
            }
        }

        if (!complete)
        {
            return null;
        }

        if (end < text.Length)
        {
            using var cut = new FileStream(path, FileMode.Open, FileAccess.Write);
            cut.SetLength(end);
        }

        var journal = new RebalanceJournal(path, append: true);
        journal.Planned.AddRange(planned);
        foreach (var (name, hash) in mapping)
        {
            journal.Mapping[name] = hash;
        }

        journal.Checked.UnionWith(checkedNames);
        journal.Done.UnionWith(done);
        return journal;
    }

    /// <summary>Writes a new plan (replacing a cut one) and returns the journal to record the moves in.</summary>
    public static async Task<RebalanceJournal> PlanAsync(string path, string sourceGroup, string targetGroup,
        IAsyncEnumerable<(string Name, long Size)> files, CancellationToken ct)
    {
        var journal = new RebalanceJournal(path, append: false);
        try
        {
            await journal._writer.WriteLineAsync($"{Magic} {sourceGroup} {targetGroup}");
            await foreach (var (name, size) in files.WithCancellation(ct))
            {
                journal.Planned.Add((name, size));
                await journal._writer.WriteLineAsync($"file {name} {size}");
            }

            await journal._writer.WriteLineAsync($"planned {journal.Planned.Count}");
            journal.Flush();
            return journal;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>Records that these files' map entries are about to be sent (on disk before it returns).</summary>
    public void MarkMapping(IEnumerable<(string Name, uint MetadataCrc32)> files)
    {
        lock (_lock)
        {
            foreach (var (name, hash) in files)
            {
                Mapping[name] = hash;
                _writer.Write(string.Create(CultureInfo.InvariantCulture, $"mapping {name} {hash:x8}\n"));
            }

            Flush();
        }
    }

    /// <summary>Records that these files' late changes are carried over (on disk before it returns).</summary>
    public void MarkChecked(IEnumerable<string> names) => Append("checked", names, Checked);

    /// <summary>Records that these files' moves are complete (on disk before it returns).</summary>
    public void MarkDone(IEnumerable<string> names) => Append("done", names, Done);

    private void Append(string word, IEnumerable<string> names, HashSet<string> set)
    {
        lock (_lock)
        {
            foreach (string name in names)
            {
                set.Add(name);
                _writer.Write(word);
                _writer.Write(' ');
                _writer.Write(name);
                _writer.Write('\n');
            }

            Flush();
        }
    }

    private void Flush()
    {
        _writer.Flush();
        _file.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        _writer.Dispose();
    }
}
