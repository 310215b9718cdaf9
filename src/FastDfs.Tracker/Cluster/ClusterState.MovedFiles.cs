using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// Files moved between groups (<c>fdfs rebalance</c>, docs/rebalancing.md): the map ADD_MOVED_FILES fills, and the answers
/// QUERY_FETCH_ONE/ALL and QUERY_UPDATE give for the IDs in it.
/// </summary>
internal sealed partial class ClusterState
{
    /// <summary><c>source group + logic name → target group</c>, loaded from moved_files.dat at start.</summary>
    public MovedFilesMap MovedFiles { get; } = new();

    /// <summary>
    /// ADD_MOVED_FILES: every target group must be known (else ENOENT and nothing applied), names must fit the file's line
    /// format (else EINVAL); the entries are on disk before this returns (EIO when they cannot be written, nothing applied).
    /// </summary>
    public void AddMovedFiles(IReadOnlyList<MovedFile> entries)
    {
        foreach (var entry in entries)
        {
            if (!IsPlainName(entry.SourceGroup) || !IsPlainName(entry.LogicName) || !IsPlainName(entry.TargetGroup))
            {
                throw new ProtocolException("ADD_MOVED_FILES: a group or logic name with a space or a control character");
            }
        }

        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (FindGroup(entry.TargetGroup) is null)
                {
                    throw new ProtocolException($"ADD_MOVED_FILES: unknown target group {entry.TargetGroup}", Errno.ENOENT);
                }
            }
        }

        try
        {
            long now = Now;
            MovedFiles.Add(entries.Select(e => new MovedFilesMap.Entry(e, now)).ToList(), DataStore is { } store ? store.MovedFiles.Append : null);
        }
        catch (IOException e)
        {
            logger.LogError("cannot write {Count} moved files to {Path}: {Message}", entries.Count, DataStore?.MovedFiles.Path, e.Message);
            throw new ProtocolException("ADD_MOVED_FILES: the map cannot be written", Errno.EIO);
        }
    }

    private static bool IsPlainName(string text)
    {
        foreach (char c in text)
        {
            if (c <= ' ' || c >= '\x7f')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// QUERY_FETCH_ONE/ALL and QUERY_UPDATE for an ID of the map: answered as for <paramref name="targetGroup"/>'s copy,
    /// except that the name's source storage (a member of the old group) and timestamp mean nothing there. Every member
    /// had the file before the entry was added, so no "too new for this replica" rule applies, and the changes go to one
    /// member chosen the same way by every tracker (<see cref="MovedFileUpdateServer"/>).
    /// </summary>
    private QueryFetchResponse QueryMovedFile(MovedFilesMap.Target target, string logicName, FetchKind kind)
    {
        var file = DescribeFile(logicName);
        int storePath = file.StorePath;
        bool isNormal = file.IsNormal;
        lock (_lock)
        {
            var group = FindGroup(target.Group)
                ?? throw new ProtocolException($"{logicName} moved to group {target.Group}, which is unknown", Errno.ENOENT);
            List<StorageNode> chosen = kind switch
            {
                FetchKind.Update => [MovedFileUpdateServer(group)],
                FetchKind.FetchOne => [SelectMovedFetchServer(group, storePath, isNormal, target.AddedAt)],
                _ => SelectMovedFetchServers(group, storePath, isNormal, target.AddedAt),
            };
            // The reply names the target group: the truthful answer, and harmless to the clients that read it. Stock's C
            // client (tracker_query_storage_fetch/update, storage_do_download_file) and the npm fdfs client ignore the
            // field and send the storage the group of the ID they hold, which the target storages accept for the files
            // they imported; stock's tracker_query_storage_list copies it into the caller's group name, and a caller
            // using it sends the target group with the same logic name, which is the file's ID in the target group too.
            return new QueryFetchResponse(group.Name, chosen.Select(s => new StorageEndpoint(s.Ip, s.Port)).ToList());
        }
    }

    /// <summary>
    /// The member the changes of the group's moved files go to: the first in id order taking uploads (a draining one only
    /// when all drain), the same for every change and on every tracker while the membership holds (an appender's appends
    /// must reach one storage, whose binlog replicates them in order).
    /// </summary>
    private static StorageNode MovedFileUpdateServer(StorageGroup group) =>
        MovedFileUpdateServerOrNull(group) ?? throw new ProtocolException($"group {group.Name} has no writable storage", Errno.ENOENT);

    private static StorageNode? MovedFileUpdateServerOrNull(StorageGroup group) =>
        group.Writable.Count > 0 ? group.Writable[0] : group.Storages.Find(s => s.Status == StorageStatus.Active && s.CanWrite);

    /// <summary>
    /// Whether a member may serve a file moved into its group at <paramref name="addedAt"/>. The mover added the entry
    /// once every ACTIVE member held the file; a member that started after that (it was down during the move) gets it by
    /// replication, so it serves the file once its sync timestamp passes the move, or once stock's
    /// <c>storage_sync_file_max_delay</c> has gone by (as for an upload).
    /// </summary>
    private bool MayServeMoved(StorageNode node, long addedAt, long now) =>
        node.UpTime < addedAt || node.LastSyncedTimestamp > addedAt || now - addedAt > Config.StorageSyncFileMaxDelay;

    /// <summary>Round robin over the readable members that may serve it (<see cref="MayServeMoved"/>, else any); an appender
    /// (or slave) file is read from the member its changes go to while it can serve (stock reads such files from their source).</summary>
    private StorageNode SelectMovedFetchServer(StorageGroup group, int storePath, bool isNormal, long addedAt)
    {
        var readable = ReadableOrThrow(group, storePath);
        if (!isNormal && MovedFileUpdateServerOrNull(group) is { } writer && readable.Contains(writer))
        {
            return writer;
        }

        long now = Now;
        for (int tries = 0; tries < readable.Count; tries++)
        {
            int index = group.CurrentReadServer % readable.Count;
            group.CurrentReadServer = (index + 1) % readable.Count;
            if (MayServeMoved(readable[index], addedAt, now))
            {
                return readable[index];
            }
        }

        return readable[group.CurrentReadServer % readable.Count];
    }

    private List<StorageNode> SelectMovedFetchServers(StorageGroup group, int storePath, bool isNormal, long addedAt)
    {
        var readable = ReadableOrThrow(group, storePath);
        if (!isNormal && MovedFileUpdateServerOrNull(group) is { } writer && readable.Contains(writer))
        {
            return [writer];
        }

        long now = Now;
        var serving = readable.Where(s => MayServeMoved(s, addedAt, now)).ToList();
        return serving.Count > 0 ? serving : [.. readable];
    }

    private static List<StorageNode> ReadableOrThrow(StorageGroup group, int storePath)
    {
        var readable = ReadableFor(group, storePath);
        return readable.Count > 0 ? readable : throw new ProtocolException($"group {group.Name} has no readable storage", Errno.ENOENT);
    }
}
