using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>A writable storage that may become its group's trunk server: where to ask its trunk binlog size.</summary>
internal sealed record TrunkCandidate(string Id, string Ip, int Port);

/// <summary>
/// Trunk bookkeeping of the leader (spec 4.10, 6.9, 13): which groups need a trunk server, the candidates of an
/// election, SET_TRUNK_SERVER (94), the trunk file id sequence (72/73) and the reported trunk free space (74).
/// </summary>
internal sealed partial class ClusterState
{
    /// <summary>Groups whose trunk server is missing or no longer ACTIVE, with their writable storages in id order.</summary>
    public List<(string Group, List<TrunkCandidate> Candidates)> GroupsNeedingTrunkServer()
    {
        lock (_lock)
        {
            var result = new List<(string, List<TrunkCandidate>)>();
            foreach (var group in _groups)
            {
                var current = group.TrunkServerId.Length > 0 ? group.Find(group.TrunkServerId) : null;
                if (current is { Status: StorageStatus.Active })
                {
                    continue;
                }

                var candidates = group.Writable.Select(s => new TrunkCandidate(s.Id, s.Ip, s.Port)).ToList();
                if (candidates.Count > 0 || group.TrunkServerId.Length > 0)
                {
                    result.Add((group.Name, candidates));
                }
            }

            return result;
        }
    }

    /// <summary>
    /// Ends an election: <paramref name="storageId"/> (empty = nobody) becomes the trunk server unless an ACTIVE
    /// one appeared meanwhile (SET_TRUNK_SERVER from an admin). Logged to trunk_server_change.log by the data store.
    /// </summary>
    public bool ElectTrunkServer(string groupName, string storageId)
    {
        lock (_lock)
        {
            if (FindGroup(groupName) is not { } group)
            {
                return false;
            }

            var current = group.TrunkServerId.Length > 0 ? group.Find(group.TrunkServerId) : null;
            if (current is { Status: StorageStatus.Active } || group.TrunkServerId == storageId)
            {
                return false;
            }

            if (storageId.Length > 0 && group.Find(storageId) is not { Status: StorageStatus.Active })
            {
                return false;
            }

            logger.LogTrunkServerChange(groupName, group.TrunkServerId, storageId);
            ApplyTrunkServer(group, storageId);
            return true;
        }
    }

    /// <summary>
    /// SET_TRUNK_SERVER (4.10) with an explicit id; returns the trunk server id, or throws with the stock codes.
    /// An empty id is resolved by the caller (current ACTIVE server, else an election).
    /// </summary>
    public string? ActiveTrunkServer(string groupName)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            return group.TrunkServerId.Length > 0 && group.Find(group.TrunkServerId) is { Status: StorageStatus.Active }
                ? group.TrunkServerId
                : null;
        }
    }

    public string SetTrunkServerById(string groupName, string storageId)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            if (group.TrunkServerId.Length > 0 && group.Find(group.TrunkServerId) is { Status: StorageStatus.Active })
            {
                throw new ProtocolException($"trunk server of {groupName} is already {group.TrunkServerId}",
                    group.TrunkServerId == storageId ? Errno.EALREADY : Errno.EEXIST);
            }

            var node = group.Find(storageId) ?? throw new ProtocolException($"unknown storage {groupName}/{storageId}", Errno.ENOENT);
            if (node.Status != StorageStatus.Active)
            {
                throw new ProtocolException($"storage {storageId} is not ACTIVE", Errno.ENONET);
            }

            if (!node.CanWrite)
            {
                throw new ProtocolException($"storage {storageId} has no write permission", Errno.EACCES);
            }

            logger.LogTrunkServerChange(groupName, group.TrunkServerId, storageId);
            ApplyTrunkServer(group, storageId);
            return storageId;
        }
    }

    /// <summary>FETCH_TRUNK_FID (72): the group's current trunk file id.</summary>
    public int CurrentTrunkFileId(StorageNode node)
    {
        lock (_lock)
        {
            return node.Group.CurrentTrunkFileId;
        }
    }

    /// <summary>REPORT_TRUNK_FID (73): only the trunk server moves the sequence, and only forward.</summary>
    public void ReportTrunkFileId(StorageNode node, int trunkFileId)
    {
        lock (_lock)
        {
            RequireTrunkServer(node, "REPORT_TRUNK_FID");
            if (trunkFileId > node.Group.CurrentTrunkFileId)
            {
                node.Group.CurrentTrunkFileId = trunkFileId;
                StateChanged();
            }
        }
    }

    /// <summary>REPORT_TRUNK_FREE (74): the trunk server's free trunk space in MB.</summary>
    public void ReportTrunkFree(StorageNode node, long freeMb)
    {
        lock (_lock)
        {
            RequireTrunkServer(node, "REPORT_TRUNK_FREE");
            node.Group.TrunkFreeMb = Math.Max(0, freeMb);
            StatsChanged();
        }
    }

    /// <summary>Flag 2 (spec 6.10): the group's trunk server, once per change and per storage record.</summary>
    private StorageBrief? TakeTrunkServerNotification(StorageNode node)
    {
        var group = node.Group;
        if (!Config.UseTrunkFile || node.NotifiedTrunkServer == group.TrunkServerId)
        {
            return null;
        }

        node.NotifiedTrunkServer = group.TrunkServerId;
        return group.TrunkServerId.Length > 0 && group.Find(group.TrunkServerId) is { } trunk
            ? trunk.ToBrief()
            : new StorageBrief(0, 0, "", "");
    }

    private static void RequireTrunkServer(StorageNode node, string what)
    {
        if (!node.IsTrunkServer)
        {
            throw new ProtocolException($"{what} from {node.Id}, which is not the trunk server", Errno.EINVAL);
        }
    }
}

internal static partial class TrunkLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information,
        Message = "group {Group}: trunk server {Old} -> {New}")]
    public static partial void LogTrunkServerChange(this Microsoft.Extensions.Logging.ILogger logger, string group, string old, string @new);
}
