using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Http;

/// <summary>A cursor of <c>GET /api/files</c> that names a member no longer serving (409).</summary>
internal sealed class StaleListingCursorException(string message) : Exception(message);

/// <summary>One file of <c>GET /api/files</c>.</summary>
/// <param name="Kind">normal, appender, slave, link, metadata or trunk</param>
internal sealed record ListedFileEntry(string FileId, string Kind, long Size, long Mtime);

/// <summary>A page of <c>GET /api/files</c>: the files, and the cursor of the next page (null when the listing is complete).</summary>
internal sealed record FileListingPage(string Group, string Path, IReadOnlyList<ListedFileEntry> Files, string? Next);

/// <summary>
/// <c>GET /api/files?group=G[&amp;path=M00/3A][&amp;cursor=NAME][&amp;limit=N]</c>: a page of a group's files, the group's
/// serving members' listings (LIST_FILES) merged by name. The cursor is the last name of the previous page: each member
/// is asked for at most <c>limit</c> names after it and the merge keeps what every member has covered (<see cref="Merge"/>),
/// so a page costs one request per member and no state is kept between pages; a page may hold fewer names than
/// <c>limit</c> while more follow. Then the files stored inside trunk files, in the order they were created, from one
/// member (every member holds them all; its binlog is where their names are): their cursor is
/// <c>trunk:IP:PORT/POSITION</c>, that member and its binlog position.
/// </summary>
internal static class FileListingPages
{
    public const int DefaultLimit = 1000;
    private const string TrunkCursorPrefix = "trunk:";

    public static async Task<FileListingPage> ReadAsync(FastDfsClient client, string group, IReadOnlyList<StorageEndpoint> members,
        string path, string cursor, int limit, CancellationToken ct)
    {
        if (members.Count == 0)
        {
            throw new FastDfsException(Errno.ENOENT, $"no storage of group {group} serves: nothing to list");
        }

        var files = new List<ListedFileEntry>();
        string? next;
        if (cursor.StartsWith(TrunkCursorPrefix, StringComparison.Ordinal))
        {
            next = await ReadTrunkStoredAsync(client, group, members, path, cursor, limit, files, ct).ConfigureAwait(false);
            return new FileListingPage(group, path, files, next);
        }

        var pages = await Task.WhenAll(members.Select(m => client.GetStorage(m).ListFilesAsync(group, path, cursor, ListFilesOptions.None, limit, ct)))
            .ConfigureAwait(false);
        (var kept, next) = Merge(pages, limit);
        files.AddRange(kept.Select(f => new ListedFileEntry($"{group}/{f.LogicName}", f.Kind.Word(), f.Size, f.Mtime)));
        if (next is null)
        {
            // The plain files are done: on to the trunk-stored ones, in this page if it has room.
            string start = TrunkCursorPrefix + TrunkLister(members) + "/";
            next = files.Count < limit
                ? await ReadTrunkStoredAsync(client, group, members, path, start, limit - files.Count, files, ct).ConfigureAwait(false)
                : start;
        }

        return new FileListingPage(group, path, files, next);
    }

    /// <summary>The member whose binlog lists the trunk-stored files: the same for every page while it serves.</summary>
    private static string TrunkLister(IReadOnlyList<StorageEndpoint> members) =>
        members.Select(m => $"{m.Ip}:{m.Port}").Min(StringComparer.Ordinal)!;

    /// <summary>Up to <paramref name="limit"/> trunk-stored files after <paramref name="cursor"/>; the next cursor, null at the end.</summary>
    private static async Task<string?> ReadTrunkStoredAsync(FastDfsClient client, string group, IReadOnlyList<StorageEndpoint> members, string path,
        string cursor, int limit, List<ListedFileEntry> files, CancellationToken ct)
    {
        // trunk:IP:PORT/POSITION (an IPv6 address holds colons: the port follows the last one before the slash).
        string rest = cursor[TrunkCursorPrefix.Length..];
        int positionAt = rest.IndexOf('/');
        int portAt = positionAt > 0 ? rest.LastIndexOf(':', positionAt - 1) : -1;
        if (portAt <= 0 || !int.TryParse(rest.AsSpan(portAt + 1, positionAt - portAt - 1), System.Globalization.CultureInfo.InvariantCulture, out int port))
        {
            throw new FormatException($"bad cursor '{cursor}'");
        }

        var lister = new StorageEndpoint(rest[..portAt], port);
        if (!members.Contains(lister))
        {
            throw new StaleListingCursorException($"{lister.Ip}:{lister.Port}, which listed the trunk-stored files, no longer serves: start the listing again");
        }

        var (page, next) = await client.GetStorage(lister).ListFilesAsync(group, path, rest[(positionAt + 1)..], ListFilesOptions.TrunkStored, limit, ct)
            .ConfigureAwait(false);
        files.AddRange(page.Select(f => new ListedFileEntry($"{group}/{f.LogicName}", f.Kind.Word(), f.Size, f.Mtime)));
        return next.Length == 0 ? null : $"{TrunkCursorPrefix}{rest[..positionAt]}/{next}";
    }

    /// <summary>
    /// One page of the union of the members' pages. A member that has more stopped at its cursor (its page may be short:
    /// a storage sends at most 2,000 names, and stops a slow directory walk early), so the union is complete only up to
    /// the smallest such cursor: names beyond it are left for the next page, which starts there. Then at most
    /// <paramref name="limit"/> names. The next cursor is null only when every member is done and nothing was cut.
    /// </summary>
    internal static (List<ListedFile> Files, string? Next) Merge(IReadOnlyList<(IReadOnlyList<ListedFile> Files, string NextCursor)> pages, int limit)
    {
        string? cut = pages.Where(p => p.NextCursor.Length > 0).Select(p => p.NextCursor).Min(StringComparer.Ordinal);
        var merged = new SortedDictionary<string, ListedFile>(StringComparer.Ordinal);
        foreach (var (files, _) in pages)
        {
            foreach (var file in files)
            {
                if (cut is null || string.CompareOrdinal(file.LogicName, cut) <= 0)
                {
                    merged.TryAdd(file.LogicName, file);
                }
            }
        }

        var kept = merged.Values.Take(limit).ToList();
        if (merged.Count > limit)
        {
            return (kept, kept[^1].LogicName);
        }

        return (kept, cut);
    }
}
