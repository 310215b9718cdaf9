using System.Diagnostics;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Store;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// The files a storage holds under its store paths, in logic-name order (store path, sub-directories, name: the
/// ordinal order of the names), a page at a time from a cursor: for LIST_FILES (<c>fdfs check</c>) and anti-entropy.
/// Memory is one sub-directory's names. Temporary files, trunk files and anything that is not a FastDFS name are left
/// out; so are files stored inside trunk files (their names are only in the binlog).
/// </summary>
internal sealed class FileLister(StorePathSet paths)
{
    /// <summary>A page stops early after this long (at a file or a sub-directory), so it does not outlast a network timeout.</summary>
    private static readonly TimeSpan PageTimeBudget = TimeSpan.FromSeconds(5);

    /// <summary>Files larger than this get no CRC32 in a listing (one alone could outlast the page; the scrub checks them).</summary>
    public const long MaxChecksummedSize = 1L << 30;

    /// <summary>Where <paramref name="logicName"/> lives under the store paths; null when it is not a valid name here.</summary>
    public string? FullPathOf(string logicName) =>
        StoredFilePath.TryParse(logicName, paths.Count, out var stored) ? paths.FullPath(stored) : null;

    /// <summary>Parses a scope prefix (<c>""</c>, <c>M00</c>, <c>M00/3A</c>, <c>M00/3A/0C</c>, with or without a trailing slash).</summary>
    public bool TryParseScope(string prefix, out Scope scope)
    {
        scope = new Scope(0, paths.Count - 1, -1, -1);
        prefix = prefix.TrimEnd('/');
        if (prefix.Length == 0)
        {
            return true;
        }

        var parts = prefix.Split('/');
        if (parts.Length > 3 || parts[0].Length != 3 || parts[0][0] != 'M' || !TryHex(parts[0].AsSpan(1), out int path) || path >= paths.Count)
        {
            return false;
        }

        int high = -1, low = -1;
        if (parts.Length > 1 && (!TryHex(parts[1], out high) || high >= paths.SubdirCount))
        {
            return false;
        }

        if (parts.Length > 2 && (!TryHex(parts[2], out low) || low >= paths.SubdirCount))
        {
            return false;
        }

        scope = new Scope(path, path, high, low);
        return true;
    }

    /// <summary>Store paths <see cref="FirstPath"/>..<see cref="LastPath"/>; one sub-directory level or both fixed (-1 = all).</summary>
    public readonly record struct Scope(int FirstPath, int LastPath, int High, int Low);

    /// <summary>
    /// Up to <paramref name="max"/> files after <paramref name="cursor"/> (empty = from the start) within
    /// <paramref name="scope"/>; the next cursor is empty when nothing follows.
    /// </summary>
    public async Task<(List<ListedFile> Files, string NextCursor)> PageAsync(Scope scope, string cursor, int max, ListFilesOptions options,
        Func<int, CancellationToken, ValueTask>? throttle, CancellationToken cancellationToken)
    {
        var files = new List<ListedFile>(Math.Min(max, 1024));
        var clock = Stopwatch.StartNew();
        var (startPath, startHigh, startLow, after) = Start(scope, cursor);
        foreach (var (path, high, low) in Directories(scope, startPath, startHigh, startLow))
        {
            string prefix = $"M{path:X2}/{high:X2}/{low:X2}/";
            if (files.Count == 0 && after is null && clock.Elapsed > PageTimeBudget)
            {
                // A long walk through empty sub-directories: an empty page whose cursor resumes at this directory.
                return (files, prefix);
            }

            string directory = paths.SubdirPath(path, high, low);
            string[] names;
            try
            {
                names = [.. Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>().Where(IsListed).Order(StringComparer.Ordinal)];
            }
            catch (DirectoryNotFoundException)
            {
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A failing disk: the directory is left out of this listing (a comparison then shows its files missing).
                Unlisted?.Invoke(directory, e);
                continue;
            }

            foreach (string name in names)
            {
                string logicName = prefix + name;
                if (after is not null && string.CompareOrdinal(logicName, after) <= 0)
                {
                    continue;
                }

                if (await DescribeAsync(logicName, Path.Combine(directory, name), options, throttle, cancellationToken).ConfigureAwait(false) is { } file)
                {
                    files.Add(file);
                    if (files.Count >= max || clock.Elapsed > PageTimeBudget)
                    {
                        return (files, logicName);
                    }
                }
            }

            after = null;
        }

        return (files, string.Empty);
    }

    /// <summary>Told of a sub-directory that could not be listed (logged by the owner).</summary>
    public Action<string, Exception>? Unlisted { get; set; }

    /// <summary>All files of <paramref name="scope"/>, page by page.</summary>
    public async IAsyncEnumerable<ListedFile> ListAsync(Scope scope, ListFilesOptions options, Func<int, CancellationToken, ValueTask>? throttle,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string cursor = string.Empty;
        do
        {
            var (files, next) = await PageAsync(scope, cursor, 1000, options, throttle, cancellationToken).ConfigureAwait(false);
            foreach (var file in files)
            {
                yield return file;
            }

            cursor = next;
        }
        while (cursor.Length > 0);
    }

    private static bool IsListed(string name) =>
        !name.StartsWith('.') && !name.EndsWith(".tmp", StringComparison.Ordinal) && name.Length >= ProtocolConstants.FilenameBase64Length;

    private (int Path, int High, int Low, string? After) Start(Scope scope, string cursor)
    {
        if (cursor.Length >= ProtocolConstants.LogicFilePathLen && TryParseScope(cursor[..9], out var at) &&
            at.FirstPath >= scope.FirstPath && at.FirstPath <= scope.LastPath)
        {
            return (at.FirstPath, at.High, at.Low, cursor);
        }

        return (scope.FirstPath, Math.Max(0, scope.High), Math.Max(0, scope.Low), null);
    }

    private IEnumerable<(int Path, int High, int Low)> Directories(Scope scope, int startPath, int startHigh, int startLow)
    {
        int count = paths.SubdirCount;
        for (int path = startPath; path <= scope.LastPath; path++)
        {
            int firstHigh = path == startPath ? startHigh : Math.Max(0, scope.High);
            int lastHigh = scope.High >= 0 ? scope.High : count - 1;
            for (int high = firstHigh; high <= lastHigh; high++)
            {
                int firstLow = path == startPath && high == startHigh ? startLow : Math.Max(0, scope.Low);
                int lastLow = scope.Low >= 0 ? scope.Low : count - 1;
                for (int low = firstLow; low <= lastLow; low++)
                {
                    yield return (path, high, low);
                }
            }
        }
    }

    /// <summary>One file's entry; null when it is not a FastDFS file (a trunk file, a stray file) or vanished.</summary>
    public static async ValueTask<ListedFile?> DescribeAsync(string logicName, string fullPath, ListFilesOptions options,
        Func<int, CancellationToken, ValueTask>? throttle, CancellationToken cancellationToken)
    {
        bool metadata = logicName.EndsWith("-m", StringComparison.Ordinal);
        if (!FileNameCodec.TryDecode(metadata ? logicName[..^2] : logicName, out var info))
        {
            return null;
        }

        var kind = metadata ? ListedFileKind.Metadata
            : (info.IsAppender ? ListedFileKind.Appender : 0) | (info.IsSlave ? ListedFileKind.Slave : 0) | (info.IsTrunk ? ListedFileKind.Trunk : 0);
        try
        {
            var file = new FileInfo(fullPath);
            if (file.LinkTarget is { } target)
            {
                // A symlinked slave: its identity is its target's name.
                return new ListedFile(logicName, 0, 0, kind | ListedFileKind.Link, true, System.IO.Hashing.Crc32.HashToUInt32(
                    System.Text.Encoding.ASCII.GetBytes(Path.GetFileName(target))));
            }

            if (!file.Exists)
            {
                return null;
            }

            long mtime = new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeSeconds();
            bool mutable = metadata || info.IsAppender;
            if ((!options.HasFlag(ListFilesOptions.Crc32) && !(mutable && options.HasFlag(ListFilesOptions.Crc32OfMutable))) ||
                file.Length > MaxChecksummedSize)
            {
                return new ListedFile(logicName, file.Length, mtime, kind, false, 0);
            }

            using var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            long size = RandomAccess.GetLength(handle);
            uint? crc = await ContentChecksum.ComputeAsync(handle, 0, size, throttle, cancellationToken).ConfigureAwait(false);
            return new ListedFile(logicName, size, mtime, kind, crc.HasValue, crc ?? 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Listed all the same, as unreadable: one bad file must not stop the listing of a damaged disk.
            return new ListedFile(logicName, -1, 0, kind | ListedFileKind.Unreadable, false, 0);
        }
    }

    private static bool TryHex(ReadOnlySpan<char> text, out int value) =>
        int.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, null, out value) && text.Length == 2;
}
