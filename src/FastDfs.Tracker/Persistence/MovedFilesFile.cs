using System.Text;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Persistence;

/// <summary>
/// base_path/data/moved_files.dat: the moved-files map (ADD_MOVED_FILES, <c>fdfs rebalance</c>), FastDFS.NET only. The
/// trackers get the entries from the mover; an empty tracker also copies the file from the peer it copies the state
/// files from (GET_ONE_SYS_FILE index <see cref="TrackerStateFormat.MovedFilesIndex"/>, beyond stock's fixed list). Format: one ASCII line per entry added, <c>source_group logic_name target_group added_at\n</c> (unix seconds)
/// (single spaces; the names hold no whitespace, ADD_MOVED_FILES refuses such names), e.g.
/// <c>group1 M00/3A/0C/X.jpg group2 1796612345</c>; a line whose target is its source removes the mapping. Lines are appended and
/// flushed to the disk (fsync) before the command's reply, so an acknowledged entry survives a crash. Loaded at start
/// in order, later lines winning; a torn last line (a crash mid-append: no reply was sent for it) is dropped with a
/// warning and cut off the file. When the file holds many more lines than live entries (overwritten and removed ones),
/// the start rewrites it with the live entries only, whole to a temporary file, flushed, then renamed over it, as the
/// state files are (<see cref="TrackerDataStore.WriteAtomic"/>).
/// </summary>
internal sealed class MovedFilesFile(string path, ILogger logger)
{
    public const string FileName = "moved_files.dat";

    /// <summary>Compaction at start once lines exceed twice the live entries plus this (a few overwrites are not worth a rewrite).</summary>
    private const int CompactionSlack = 1000;

    public string Path { get; } = path;

    /// <summary>Appends the entries' lines and flushes them to the disk.</summary>
    public void Append(IReadOnlyList<MovedFilesMap.Entry> entries)
    {
        var text = new StringBuilder(entries.Count * 64);
        foreach (var entry in entries)
        {
            AppendLine(text, entry);
        }

        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>An empty tracker's copy of a peer's file: written whole (temporary file, rename), then loaded.</summary>
    public void InstallFromPeer(byte[] content, MovedFilesMap map)
    {
        if (content.Length == 0)
        {
            return;
        }

        string temp = Path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path, overwrite: true);
        Load(map);
    }

    /// <summary>Loads the file into <paramref name="map"/> (nothing when absent), then compacts it if worth it.</summary>
    public void Load(MovedFilesMap map)
    {
        if (!File.Exists(Path))
        {
            return;
        }

        var entries = new List<MovedFilesMap.Entry>();
        int lineNumber = 0;
        using (var stream = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            long complete = CompleteLength(stream);
            if (complete < stream.Length)
            {
                // A crash during an append (never acknowledged). The next append must start on a line of its own.
                logger.LogWarning("{Path}: the last line is cut ({Bytes} bytes): ignored", Path, stream.Length - complete);
                stream.SetLength(complete);
                stream.Flush(flushToDisk: true);
            }

            stream.Position = 0;
            using var reader = new StreamReader(stream, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, 1 << 16, leaveOpen: true);
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (TryParse(line, out var entry))
                {
                    entries.Add(entry);
                }
                else
                {
                    logger.LogWarning("{Path} line {Line}: not 'source_group logic_name target_group [added_at]': ignored", Path, lineNumber);
                }
            }
        }

        map.Load(entries);
        logger.LogInformation("loaded {Count} moved files from {Path} ({Lines} lines)", map.Count, Path, lineNumber);
        if (lineNumber > 2L * map.Count + CompactionSlack)
        {
            Compact(map);
        }
    }

    /// <summary>Rewrites the file with the live entries only (temporary file, fsync, rename: a crash leaves the old or the new one).</summary>
    public void Compact(MovedFilesMap map)
    {
        string temp = Path + ".tmp";
        var entries = map.Snapshot();
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new StreamWriter(stream, Encoding.ASCII, bufferSize: 1 << 16, leaveOpen: true))
            {
                var line = new StringBuilder(64);
                foreach (var entry in entries)
                {
                    line.Clear();
                    AppendLine(line, entry);
                    writer.Write(line);
                }
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path, overwrite: true);
        logger.LogInformation("compacted {Path} to its {Count} live entries", Path, entries.Count);
    }

    /// <summary>The length up to and with the last newline: what precedes a torn last line.</summary>
    private static long CompleteLength(FileStream stream)
    {
        var buffer = new byte[4096];
        long end = stream.Length;
        while (end > 0)
        {
            int size = (int)Math.Min(buffer.Length, end);
            stream.Position = end - size;
            stream.ReadExactly(buffer, 0, size);
            int newline = buffer.AsSpan(0, size).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                return end - size + newline + 1;
            }

            end -= size;
        }

        return 0;
    }

    private static void AppendLine(StringBuilder text, MovedFilesMap.Entry entry) =>
        text.Append(entry.Move.SourceGroup).Append(' ').Append(entry.Move.LogicName).Append(' ').Append(entry.Move.TargetGroup)
            .Append(' ').Append(entry.AddedAt.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');

    /// <summary><c>source name target added_at</c> (a line without <c>added_at</c> reads as added long ago).</summary>
    private static bool TryParse(string line, out MovedFilesMap.Entry entry)
    {
        entry = default;
        var fields = line.Split(' ');
        long addedAt = 0;
        if (fields.Length is not (3 or 4) || fields.Any(f => f.Length == 0) ||
            (fields.Length == 4 && !long.TryParse(fields[3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out addedAt)))
        {
            return false;
        }

        entry = new MovedFilesMap.Entry(new MovedFile(fields[0], fields[1], fields[2]), addedAt);
        return true;
    }
}
