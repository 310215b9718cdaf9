using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>What a QUERY_STORE answers: the group, the storage(s) and the store path index.</summary>
internal sealed record StoreTarget(string Group, IReadOnlyList<StorageEndpoint> Storages, byte StorePathIndex);

internal enum FetchKind
{
    FetchOne,
    FetchAll,
    Update,
}

/// <summary>Client queries: upload target and download/update server selection (spec 11.4).</summary>
internal sealed partial class ClusterState
{
    /// <summary>QUERY_STORE_* (4.1-4.3); <paramref name="requestedGroup"/> null = let store_lookup choose.</summary>
    public StoreTarget QueryStore(string? requestedGroup, bool all)
    {
        lock (_lock)
        {
            StorageGroup group;
            if (requestedGroup is not null)
            {
                group = CheckUploadGroup(requestedGroup);
            }
            else if (Config.StoreLookup == StoreLookup.SpecifiedGroup)
            {
                group = CheckUploadGroup(Config.StoreGroup);
            }
            else if (Config.StoreLookup == StoreLookup.Weighted)
            {
                group = SelectWeightedGroup();
            }
            else
            {
                group = SelectUploadGroup();
            }

            var server = all ? group.Writable[0] : SelectStoreServer(group);
            byte path = SelectStorePath(server);
            IReadOnlyList<StorageEndpoint> storages = all
                ? group.Writable.Select(s => new StorageEndpoint(s.Ip, s.Port)).ToList()
                : [new StorageEndpoint(server.Ip, server.Port)];
            return new StoreTarget(group.Name, storages, path);
        }
    }

    private StorageGroup CheckUploadGroup(string name)
    {
        var group = FindGroup(name) ?? throw new ProtocolException($"unknown group {name}", Errno.ENOENT);
        if (group.Writable.Count == 0)
        {
            throw new ProtocolException($"group {name} has no writable storage", Errno.ENOENT);
        }

        if (!Config.ReservedStorageSpace.GroupHasSpace(group.FreeMb, group.TotalMb))
        {
            throw new ProtocolException($"group {name} is full", Errno.ENOSPC);
        }

        return group;
    }

    /// <summary>store_lookup 0/2: start at the current write group, then the following ones, wrapping.</summary>
    private StorageGroup SelectUploadGroup()
    {
        int count = _groups.Count;
        if (count == 0)
        {
            throw new ProtocolException("no group", Errno.ENOENT);
        }

        int start = _currentWriteGroup % count;
        bool anyWritable = false;
        for (int i = 0; i < count; i++)
        {
            int index = (start + i) % count;
            var group = _groups[index];
            if (group.Writable.Count == 0)
            {
                continue;
            }

            anyWritable = true;
            if (Config.ReservedStorageSpace.GroupHasSpace(group.FreeMb, group.TotalMb))
            {
                if (Config.StoreLookup == StoreLookup.RoundRobin)
                {
                    _currentWriteGroup = (index + 1) % count;
                }

                return group;
            }
        }

        throw anyWritable
            ? new ProtocolException("every group is full", Errno.ENOSPC)
            : new ProtocolException("no group has a writable storage", Errno.ENOENT);
    }

    /// <summary>
    /// store_lookup 3: smooth weighted round robin over the groups that can take the upload (writable, with space). A
    /// group's weight is its available MB (free above the reserved space) divided by 1 + its storages' mean current
    /// connections over the groups' mean: the emptier a group the more uploads it gets, a busier one fewer, and every group gets its
    /// share at an even pace. Each pick adds every weight to its group's credit and takes the total from the winner's.
    /// </summary>
    private List<StorageGroup> _weightedCandidates = [];

    private StorageGroup SelectWeightedGroup()
    {
        var candidates = _groups.Where(g => g.Writable.Count > 0 && Config.ReservedStorageSpace.GroupHasSpace(g.FreeMb, g.TotalMb)).ToList();
        if (candidates.Count == 0)
        {
            throw _groups.Any(g => g.Writable.Count > 0)
                ? new ProtocolException("every group is full", Errno.ENOSPC)
                : new ProtocolException(_groups.Count == 0 ? "no group" : "no group has a writable storage", Errno.ENOENT);
        }

        // Connections per storage (a group of four is not four times busier), as the storages last reported them.
        var connections = candidates.Select(g => g.Writable.Average(s => (double)s.Counters.ConnectionCurrentCount)).ToList();
        double mean = Math.Max(1, connections.Average());
        var weights = candidates.Select((g, i) =>
            Math.Max(1, g.FreeMb - Config.ReservedStorageSpace.ReservedMb(g.TotalMb)) / (1 + connections[i] / mean)).ToList();
        double total = weights.Sum();
        if (!candidates.SequenceEqual(_weightedCandidates))
        {
            // Another set of groups (one full, one back): credits start again, so a returning group gets no burst.
            foreach (var g in _groups)
            {
                g.UploadCredit = 0;
            }

            _weightedCandidates = candidates;
        }

        StorageGroup? best = null;
        for (int i = 0; i < candidates.Count; i++)
        {
            var g = candidates[i];
            // Within one round of the current weights: a weight that changed a lot (a disk report) cannot leave a group
            // with a credit worth many picks.
            g.UploadCredit = Math.Clamp(g.UploadCredit + weights[i], -total, total);
            if (best is null || g.UploadCredit > best.UploadCredit)
            {
                best = g;
            }
        }

        best!.UploadCredit -= total;
        return best;
    }

    /// <summary>store_server: 0 round robin, 1 first in id order, 2 smallest upload_priority.</summary>
    private StorageNode SelectStoreServer(StorageGroup group)
    {
        var writable = group.Writable;
        if (Config.StoreServer == StoreServerSelection.RoundRobin)
        {
            int index = group.CurrentWriteServer % writable.Count;
            group.CurrentWriteServer = (index + 1) % writable.Count;
            return writable[index];
        }

        return PreferredStoreServer(group)!;
    }

    /// <summary>Stock's pStoreServer: smallest upload_priority under store_server 2, else the first writable.</summary>
    private StorageNode? PreferredStoreServer(StorageGroup group)
    {
        if (group.Writable.Count == 0)
        {
            return null;
        }

        if (Config.StoreServer != StoreServerSelection.FirstByPriority)
        {
            return group.Writable[0];
        }

        var best = group.Writable[0];
        foreach (var s in group.Writable)
        {
            if (s.UploadPriority < best.UploadPriority)
            {
                best = s;
            }
        }

        return best;
    }

    /// <summary>The storage's current write path, or the next one passing the per-path reserve (11.4/11.6).</summary>
    private byte SelectStorePath(StorageNode node)
    {
        int count = node.StorePathCount;
        int start = count == 0 ? 0 : node.CurrentWritePath % count;
        for (int i = 0; i < count; i++)
        {
            int path = (start + i) % count;
            if (Config.ReservedStorageSpace.PathHasSpace(node.PathFreeMb[path], node.PathTotalMb[path], count))
            {
                if (Config.StorePath == StorePathSelection.RoundRobin)
                {
                    node.CurrentWritePath = (path + 1) % count;
                }

                return (byte)path;
            }
        }

        throw new ProtocolException($"no store path of {node.Id} has space", Errno.ENOSPC);
    }

    /// <summary>QUERY_FETCH_ONE / QUERY_FETCH_ALL / QUERY_UPDATE (4.4, 11.4); an ID of the moved-files map is answered
    /// with its new group's storages.</summary>
    public QueryFetchResponse QueryFetch(string groupName, string logicName, FetchKind kind)
    {
        // Every download asks: the lookup allocates nothing and, with an empty map, is one read.
        if (MovedFiles.Resolve(groupName, logicName) is { } movedTo)
        {
            return QueryMovedFile(movedTo, logicName, kind);
        }

        var file = DescribeFile(logicName);
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            List<StorageNode> chosen = kind switch
            {
                FetchKind.Update => [SelectUpdateServer(group, file)],
                FetchKind.FetchOne => [SelectFetchServer(group, file)],
                _ => SelectFetchServers(group, file),
            };
            return new QueryFetchResponse(group.Name, chosen.Select(s => new StorageEndpoint(s.Ip, s.Port)).ToList());
        }
    }

    /// <summary>What the tracker reads from a file name: source IP, timestamp and whether it is a normal file.</summary>
    private readonly record struct FileFacts(string SourceIp, long Timestamp, bool IsNormal, bool SourceIsId = false, int StorePath = -1);

    private static FileFacts DescribeFile(string logicName)
    {
        int storePath = StorePathOf(logicName);
        if (!FileNameCodec.TryDecode(logicName, out var info))
        {
            // Too short or not base64: no source, timestamp 0 ("old enough"), as if anything may serve it.
            return new FileFacts("", 0, !FileNameCodec.IsSlaveName(logicName.Length, trunk: false), StorePath: storePath);
        }

        return new FileFacts(info.Source, info.Timestamp, !info.IsAppender && !info.IsSlave, info.SourceIsStorageId, storePath);
    }

    /// <summary>The store path index of <c>Mxx/...</c>, or -1.</summary>
    private static int StorePathOf(string logicName) =>
        logicName.Length > 4 && logicName[0] == 'M' && logicName[3] == '/' &&
        int.TryParse(logicName.AsSpan(1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out int index)
            ? index
            : -1;

    /// <summary>
    /// The readable storages that can serve a file of <paramref name="storePath"/>: those whose disk for that path failed
    /// are left out while another one remains (FastDFS.NET's STORE_PATH_HEALTH; stock trackers know nothing of it).
    /// </summary>
    private static List<StorageNode> ReadableFor(StorageGroup group, int storePath)
    {
        var readable = group.Readable;
        if (storePath < 0 || !readable.Any(s => s.HasFailedPath(storePath)))
        {
            return readable;
        }

        var working = readable.Where(s => !s.HasFailedPath(storePath)).ToList();
        return working.Count > 0 ? working : readable;
    }

    // Without storage ids a file name only carries the source's IP; with several storages on one host
    // any of them with that IP counts as the source (the first in id order is offered).
    // With id_type_in_filename = id the name carries the numeric storage id, which survives an address change.
    private static bool IsSource(StorageNode node, in FileFacts file) =>
        file.SourceIsId ? node.Id == file.SourceIp : node.Ip == file.SourceIp;

    private bool MayServe(StorageNode node, in FileFacts file, long now) =>
        IsSource(node, file) ||
        file.Timestamp < now - Config.StorageSyncFileMaxDelay ||
        node.LastSyncedTimestamp > file.Timestamp ||
        (node.LastSyncedTimestamp + 1 >= file.Timestamp && now - file.Timestamp > Config.StorageSyncFileMaxTime);

    /// <summary>
    /// QUERY_UPDATE: the file's source when it is ACTIVE and writable, draining or not (a draining storage takes no new
    /// upload but still the changes of its files: another member would refuse them while it is in the group), else a
    /// storage chosen as for an upload.
    /// </summary>
    private StorageNode SelectUpdateServer(StorageGroup group, in FileFacts file)
    {
        foreach (var s in group.Storages)
        {
            if (s.Status == StorageStatus.Active && s.CanWrite && IsSource(s, file))
            {
                return s;
            }
        }

        if (group.Writable.Count == 0)
        {
            throw new ProtocolException($"group {group.Name} has no writable storage", Errno.ENOENT);
        }

        return SelectStoreServer(group);
    }

    private StorageNode SelectFetchServer(StorageGroup group, in FileFacts file)
    {
        var readable = ReadableFor(group, file.StorePath);
        if (readable.Count == 0)
        {
            throw new ProtocolException($"group {group.Name} has no readable storage", Errno.ENOENT);
        }

        if (!file.IsNormal || Config.DownloadServer == DownloadServerSelection.SourceFirst)
        {
            foreach (var s in readable)
            {
                if (IsSource(s, file))
                {
                    return s;
                }
            }
        }

        if (file.IsNormal)
        {
            long now = Now;
            int start = group.CurrentReadServer % readable.Count;
            for (int i = 0; i < readable.Count; i++)
            {
                int index = (start + i) % readable.Count;
                if (MayServe(readable[index], file, now))
                {
                    group.CurrentReadServer = (index + 1) % readable.Count;
                    return readable[index];
                }
            }
        }

        return FallbackFetchServer(group, file.StorePath);
    }

    private List<StorageNode> SelectFetchServers(StorageGroup group, in FileFacts file)
    {
        if (group.Readable.Count == 0)
        {
            throw new ProtocolException($"group {group.Name} has no readable storage", Errno.ENOENT);
        }

        long now = Now;
        var facts = file;
        var readable = ReadableFor(group, file.StorePath);
        var chosen = file.IsNormal
            ? readable.Where(s => MayServe(s, facts, now)).ToList()
            : readable.Where(s => IsSource(s, facts)).Take(1).ToList();
        return chosen.Count > 0 ? chosen : [FallbackFetchServer(group, file.StorePath)];
    }

    private StorageNode FallbackFetchServer(StorageGroup group, int storePath)
    {
        var preferred = PreferredStoreServer(group);
        if (preferred is { CanRead: true } && !preferred.HasFailedPath(storePath))
        {
            return preferred;
        }

        // The preferred storage lost that disk: any readable one that has it.
        return ReadableFor(group, storePath).FirstOrDefault(s => !s.HasFailedPath(storePath))
            ?? (preferred is { CanRead: true } ? preferred : throw new ProtocolException($"no storage of {group.Name} may serve the file yet", Errno.ENOENT));
    }
}
