using System.Runtime.CompilerServices;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

public sealed partial class FastDfsClient
{
    /// <summary>
    /// Every file of <paramref name="group"/> within <paramref name="path"/> (empty, <c>M00</c>, <c>M00/3A</c> or
    /// <c>M00/3A/0C</c>), in name order, each name once: the listings of the group's serving members (ACTIVE or ONLINE,
    /// asked through the tracker) merged, so that a file not yet copied to every member is listed too. Paged from the
    /// storages a thousand names at a time: constant memory whatever the group holds. Metadata files (<c>NAME-m</c>) are
    /// listed as their own entries (<see cref="ListedFileKind.Metadata"/>); the files stored inside trunk files follow, in
    /// the order they were created (<see cref="ListedFileKind.Trunk"/>). FastDFS.NET storages only (LIST_FILES).
    /// </summary>
    /// <exception cref="FastDfsException">ENOENT when no member of the group serves</exception>
    public async IAsyncEnumerable<ListedFile> ListFilesAsync(string group, string path = "", ListFilesOptions options = ListFilesOptions.None,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var serving = (await Tracker.ListStoragesAsync(group, ct: ct).ConfigureAwait(false))
            .Where(s => s.Status is StorageStatus.Active or StorageStatus.Online)
            .Select(s => new StorageEndpoint(s.IpAddr, (int)s.StoragePort))
            .ToList();
        var members = serving.Select(s => GetStorage(s).ListAllFilesAsync(group, path, options, ct)).ToList();
        if (members.Count == 0)
        {
            throw new FastDfsException(Errno.ENOENT, $"no storage of group {group} serves: nothing to list");
        }

        await foreach (var (_, entries) in MergeListingsAsync(members, ct).ConfigureAwait(false))
        {
            yield return entries.First(e => e is not null)!.Value;
        }

        // Then the files stored inside trunk files, in the order they were created: every member holds them all (they
        // are replicated as any file), so one member's list is the group's.
        await foreach (var file in GetStorage(serving[0]).ListAllFilesAsync(group, path, options | ListFilesOptions.TrunkStored, ct).ConfigureAwait(false))
        {
            yield return file;
        }
    }

    /// <summary>
    /// Listings in name order (each member's <see cref="StorageClient.ListAllFilesAsync"/>) merged by name: each name once,
    /// with each listing's entry for it (null where that listing lacks it). Reads one entry ahead per listing.
    /// </summary>
    public static async IAsyncEnumerable<(string Name, ListedFile?[] Entries)> MergeListingsAsync(IReadOnlyList<IAsyncEnumerable<ListedFile>> listings,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var cursors = listings.Select(l => l.GetAsyncEnumerator(ct)).ToArray();
        try
        {
            var heads = new ListedFile?[cursors.Length];
            for (int i = 0; i < cursors.Length; i++)
            {
                heads[i] = await cursors[i].MoveNextAsync().ConfigureAwait(false) ? cursors[i].Current : null;
            }

            while (true)
            {
                string? name = null;
                foreach (var head in heads)
                {
                    if (head is { } h && (name is null || string.CompareOrdinal(h.LogicName, name) < 0))
                    {
                        name = h.LogicName;
                    }
                }

                if (name is null)
                {
                    yield break;
                }

                var entries = new ListedFile?[heads.Length];
                for (int i = 0; i < heads.Length; i++)
                {
                    if (heads[i] is { } h && h.LogicName == name)
                    {
                        entries[i] = h;
                        heads[i] = await cursors[i].MoveNextAsync().ConfigureAwait(false) ? cursors[i].Current : null;
                    }
                }

                yield return (name, entries);
            }
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                await cursor.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
