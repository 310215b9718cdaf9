namespace FastDfs.Storage.Tests;

/// <summary>
/// Files this process holds open (/proc/self/fd). An upload in progress has no stored name (PendingFile): on Linux it is
/// an unnamed file, seen here as "DIR/#INODE (deleted)", elsewhere a hidden ".…tmp" file; tests find it through its handle.
/// </summary>
internal static class OpenFiles
{
    /// <summary>Open files in <paramref name="directory"/> or below that have no stored name yet, with their current length.</summary>
    public static IReadOnlyList<(string Target, long Length)> PendingUnder(string directory)
    {
        string prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + Path.DirectorySeparatorChar;
        var found = new List<(string, long)>();
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            long length;
            try
            {
                target = new FileInfo(fd).LinkTarget;
                if (target is null || !target.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                // The magic link still reaches an unlinked inode: its length is the file's.
                length = new FileInfo(fd).Length;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            string name = Path.GetFileName(target);
            if (target.EndsWith(" (deleted)", StringComparison.Ordinal) || (name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal)))
            {
                found.Add((target, length));
            }
        }

        return found;
    }
}
