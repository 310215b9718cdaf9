using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>
/// Administration applied to every configured tracker in turn, as stock's tracker_delete_storage /
/// tracker_delete_group do (each tracker keeps its own copy of the cluster state).
/// </summary>
public sealed partial class TrackerClient
{
    /// <summary>
    /// Removes a storage from a group on every tracker. First asks each tracker for the storage: EBUSY when one sees
    /// it ONLINE or ACTIVE, ENOENT when none knows it; then sends SERVER_DELETE_STORAGE to each (ENOENT from some
    /// trackers is fine, from all it is the result; EALREADY is skipped but reported if it is the last answer).
    /// A tracker that cannot be reached fails the call (stock stops at the first unreachable tracker too).
    /// </summary>
    public async Task DeleteStorageEverywhereAsync(string group, string storageId, CancellationToken ct = default)
    {
        var trackers = Options.Trackers;
        int unknownCount = 0;
        foreach (var tracker in trackers)
        {
            IReadOnlyList<StorageStat> found;
            try
            {
                found = await ListStoragesOnAsync(tracker, group, storageId, ct).ConfigureAwait(false);
            }
            catch (FastDfsException ex) when (ex.IsServerError && ex.ErrorCode == Errno.ENOENT)
            {
                found = [];
            }

            if (found.Count == 0)
            {
                unknownCount++;
            }
            else if (found[0].Status is StorageStatus.Online or StorageStatus.Active)
            {
                throw new FastDfsException(Errno.EBUSY);
            }
        }

        if (unknownCount == trackers.Count)
        {
            throw new FastDfsException(Errno.ENOENT);
        }

        byte[] body = GroupAndIdBody(group, storageId);
        unknownCount = 0;
        int lastError = 0;
        foreach (var tracker in trackers)
        {
            lastError = 0;
            try
            {
                await ExchangeOnAsync(tracker, FdfsCommand.ServerDeleteStorage, body, ct).ConfigureAwait(false);
            }
            catch (FastDfsException ex) when (ex.IsServerError && ex.ErrorCode is Errno.ENOENT or Errno.EALREADY)
            {
                lastError = ex.ErrorCode;
                unknownCount += ex.ErrorCode == Errno.ENOENT ? 1 : 0;
            }
        }

        if (unknownCount == trackers.Count || lastError == Errno.EALREADY)
        {
            throw new FastDfsException(lastError == Errno.EALREADY ? Errno.EALREADY : Errno.ENOENT);
        }
    }

    /// <summary>
    /// Marks a storage as draining (or no longer) on every tracker in turn, stopping at the first failure (DRAIN_STORAGE,
    /// FastDFS.NET trackers: a stock tracker answers EINVAL): no upload goes to it any more, reads and the changes of its
    /// files still do. <see cref="GetSyncStatusAsync"/> says when every file it is the source of is on the other members.
    /// </summary>
    public async Task SetDrainingEverywhereAsync(string group, string storageId, bool draining, CancellationToken ct = default)
    {
        byte[] body = DrainStorage.Request(group, storageId, draining);
        foreach (var tracker in Options.Trackers)
        {
            await ExchangeOnAsync(tracker, DrainStorage.Command, body, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds entries to the moved-files map of every tracker in turn (ADD_MOVED_FILES, FastDFS.NET trackers: a stock tracker
    /// answers EINVAL), stopping at the first failure: a moved file's ID then reaches its new group through any tracker.
    /// Each tracker has the entries on disk when it answers. The entries go in requests under the trackers' package size;
    /// sending them again is harmless. Throws <see cref="FastDfsException"/> for a refusal (ENOENT: a target group the
    /// tracker does not know, EPERM: this host is not in its <c>admin_hosts</c>).
    /// </summary>
    public async Task AddMovedFilesAsync(IReadOnlyList<MovedFile> entries, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var requests = new List<byte[]>();
        int start = 0, size = 2;
        for (int i = 0; i < entries.Count; i++)
        {
            int entrySize = AddMovedFiles.EntrySize(entries[i]);
            if (i > start && (size + entrySize > AddMovedFiles.MaxRequestBody || i - start == AddMovedFiles.MaxEntries))
            {
                requests.Add(AddMovedFiles.Request(Slice(entries, start, i)));
                start = i;
                size = 2;
            }

            size += entrySize;
        }

        if (entries.Count > start)
        {
            requests.Add(AddMovedFiles.Request(Slice(entries, start, entries.Count)));
        }

        foreach (var tracker in Options.Trackers)
        {
            foreach (byte[] body in requests)
            {
                await ExchangeOnAsync(tracker, AddMovedFiles.Command, body, ct).ConfigureAwait(false);
            }
        }

        static List<MovedFile> Slice(IReadOnlyList<MovedFile> all, int from, int to) => [.. Enumerable.Range(from, to - from).Select(i => all[i])];
    }

    /// <summary>Removes an empty group on every tracker in turn, stopping at the first failure.</summary>
    public async Task DeleteGroupEverywhereAsync(string group, CancellationToken ct = default)
    {
        byte[] body = GroupBody(group);
        foreach (var tracker in Options.Trackers)
        {
            await ExchangeOnAsync(tracker, FdfsCommand.ServerDeleteGroup, body, ct).ConfigureAwait(false);
        }
    }

    /// <summary>SERVER_LIST_ALL_GROUPS on one given tracker (no failover).</summary>
    public async Task<IReadOnlyList<GroupStat>> ListGroupsOnAsync(FastDfsEndpoint tracker, CancellationToken ct = default)
    {
        byte[] body = await ExchangeOnAsync(tracker, FdfsCommand.ServerListAllGroups, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        return Parse(body, static b => GroupStat.ParseList(b));
    }

    /// <summary>SERVER_LIST_STORAGE on one given tracker (no failover).</summary>
    public async Task<IReadOnlyList<StorageStat>> ListStoragesOnAsync(FastDfsEndpoint tracker, string group, string? storageId = null, CancellationToken ct = default)
    {
        byte[] body = await ExchangeOnAsync(tracker, FdfsCommand.ServerListStorage, GroupAndIdBody(group, storageId), ct).ConfigureAwait(false);
        return Parse(body, static b => StorageStat.ParseList(b));
    }

    /// <summary>Sends one request to the given tracker (no failover; a stale pooled connection is retried once).</summary>
    public Task<byte[]> ExchangeOnAsync(FastDfsEndpoint tracker, FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct = default) =>
        _pools.GetPool(tracker).ExecuteAsync((c, token) => c.ExchangeAsync(command, body, SmallReplyLimit, token), RetryPolicyOf(command), ct).AsTask();
}
