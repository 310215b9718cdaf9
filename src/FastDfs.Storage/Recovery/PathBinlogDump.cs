using System.Globalization;
using System.Text;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using FastDfs.Storage.Sync;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// What FETCH_ONE_PATH_BINLOG (26) answers, as stock builds it: one pass over the whole binlog, keeping the create, link
/// and rename records of one store path whose file is still on disk (a rename becomes a create of the new name, a name
/// that is a symbolic link becomes a link record, a link whose target is gone is dropped), as
/// <c>"&lt;ts&gt; &lt;op&gt; &lt;name&gt;[ M&lt;ii&gt;/&lt;target&gt;]\n"</c> lines in binlog order. Unlike stock, an update record
/// counts as a create too (a replica that arrived whole by SYNC_UPDATE, as convergent replication and anti-entropy send
/// it, has no create record), and each name is listed once (the set of names listed costs ~100 bytes per file).
/// Trunk-stored files are listed by name without a look at the disk (as stock): the recovering side fetches their trunk
/// containers whole.
/// </summary>
internal static class PathBinlogDump
{
    private const int RecordsPerRead = 4096;

    /// <summary>Writes the records of store path <paramref name="pathIndex"/> to <paramref name="destination"/>; returns how many.</summary>
    /// <param name="progress">called between binlog chunks (a long dump keeps the connection's deadline alive)</param>
    public static long Write(BinlogWriter binlog, StorePathSet paths, int pathIndex, Func<string, bool> isTrunkName, Stream destination,
        Action progress, ILogger logger)
    {
        string prefix = "M" + pathIndex.ToString("X2", CultureInfo.InvariantCulture) + "/";
        var reader = new BinlogReader(binlog, logger);
        var position = default(BinlogPosition);
        var end = binlog.End;
        long records = 0;
        var line = new StringBuilder(BinlogRecord.MaxLineLength);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        using var writer = new StreamWriter(destination, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" };
        while (position < end)
        {
            var entries = reader.Read(position, RecordsPerRead);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                position = entry.Next;
                if (entry.Record is { } record && !listed.Contains(record.FileName) && Describe(record, paths, prefix, isTrunkName, line))
                {
                    listed.Add(record.FileName);
                    writer.Write(line);
                    writer.Write('\n');
                    records++;
                }
            }

            progress();
        }

        writer.Flush();
        return records;
    }

    /// <summary>The dump line for <paramref name="record"/> (in <paramref name="line"/>), or false when it is left out.</summary>
    private static bool Describe(BinlogRecord record, StorePathSet paths, string prefix, Func<string, bool> isTrunkName, StringBuilder line)
    {
        char op = record.UpperOp;
        if (op is not ('C' or 'U' or 'L' or 'R') || !record.FileName.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        bool lowerCase = !record.IsSource;
        string? linkTarget = null;
        FileInfo? file = null;
        // A file inside a trunk container has no file of its own to look at (its container is what gets copied): listed as is.
        if (!isTrunkName(record.FileName))
        {
            if (!StoredFilePath.TryParse(record.FileName, paths.Count, out var stored))
            {
                return false;
            }

            file = new FileInfo(paths.FullPath(stored));
            linkTarget = file.LinkTarget;
            if (linkTarget is null && !file.Exists)
            {
                return false; // deleted, or renamed away since
            }
        }

        line.Clear().Append(record.Timestamp.ToString(CultureInfo.InvariantCulture)).Append(' ');
        if (linkTarget is null)
        {
            line.Append(lowerCase ? 'c' : 'C').Append(' ').Append(record.FileName);
            return true;
        }

        // A link: its target as a name under a store path, with the requested path's prefix (as stock writes it).
        string? targetName = TargetName(paths, Path.GetFullPath(linkTarget, Path.GetDirectoryName(file!.FullName)!));
        if (targetName is null || !File.Exists(file.FullName))
        {
            return false; // a dangling link, or one that points outside the store paths
        }

        line.Append(lowerCase ? 'l' : 'L').Append(' ').Append(record.FileName).Append(' ').Append(prefix).Append(targetName);
        return true;
    }

    /// <summary><c>HH/LL/name</c> of <paramref name="fullPath"/> under one of the store paths' data directories, or null.</summary>
    private static string? TargetName(StorePathSet paths, string fullPath)
    {
        foreach (var path in paths.All)
        {
            string data = path.DataDirectory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if (fullPath.StartsWith(data, StringComparison.Ordinal))
            {
                return fullPath[data.Length..].Replace(Path.DirectorySeparatorChar, '/');
            }
        }

        return null;
    }
}
