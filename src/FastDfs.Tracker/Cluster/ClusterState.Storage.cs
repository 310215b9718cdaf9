using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.StorageIds;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Cluster;

/// <summary>Storage -> tracker operations (spec section 6).</summary>
internal sealed partial class ClusterState
{
    private const int MaxStorageIdLength = ProtocolConstants.StorageIdMaxSize - 1;

    /// <summary>STORAGE_JOIN: validates, creates the group/record and applies the join status rules of 6.1.</summary>
    /// <param name="ip">the address the storage is known by: its announced address, else <paramref name="remoteIp"/></param>
    /// <param name="remoteIp">the address the JOIN came from</param>
    public StorageJoinResponse Join(StorageJoinRequest request, string ip, string remoteIp, object connection, out StorageNode node)
    {
        ValidateJoin(request);
        int port = (int)request.StoragePort;
        int pathCount = (int)request.StorePathCount;
        int subdirs = (int)request.SubdirCountPerPath;
        var idEntry = ResolveStorageId(request, ip, port);
        if (idEntry is not null && !idEntry.Ips.Contains(remoteIp) && !idEntry.Ips.Contains(ip))
        {
            // With storage ids the id is the identity: only its listed address (or, behind NAT, the listed address announced) may join as it.
            throw new ProtocolException($"storage id {idEntry.Id} is {string.Join(",", idEntry.Ips)}, not {remoteIp}", Errno.EPERM);
        }
        lock (_lock)
        {
            var group = FindGroup(request.GroupName);
            if (group is null)
            {
                if (_groups.Count >= ProtocolConstants.MaxGroups)
                {
                    throw new ProtocolException($"too many groups ({_groups.Count})", Errno.ENOSPC);
                }

                group = AddGroup(request.GroupName, port, pathCount, subdirs);
                logger.LogInformation("group {Group} created by storage {Ip}:{Port}", group.Name, ip, port);
            }

            // With storage ids the id is the identity: a storage that comes back from another address is the same member.
            var found = idEntry is null ? group.Storages.Find(s => s.Ip == ip && s.Port == port) : group.Find(idEntry.Id);
            if (idEntry is null && found is not null && ip != remoteIp && found.JoinedFrom.Length > 0 && found.JoinedFrom != remoteIp &&
                found.Status != StorageStatus.Deleted)
            {
                // Without storage ids a storage is its address: announcing a member's address from another host is not taking its place.
                throw new ProtocolException($"storage {ip}:{port} joins from {found.JoinedFrom}; refusing {remoteIp} announcing it", Errno.EPERM);
            }

            CheckGroupGeometry(group, found, pathCount, subdirs);
            if (found is null)
            {
                node = CreateJoiningStorage(group, request, ip, port, idEntry);
            }
            else
            {
                node = found;
                if (node.Ip.Length > 0 && node.Ip != ip)
                {
                    logger.LogInformation("storage {Group}/{Id} now joins from {Ip} (was {OldIp}): same storage id, same member",
                        group.Name, node.Id, ip, node.Ip);
                }

                ApplyKnownJoinStatus(node);
            }

            ForgetSpare(ip, port);
            node.Ip = ip;
            node.JoinedFrom = remoteIp;
            // A new connection starts with every path in service: a storage whose path is still out reports it again
            // right after joining (a replaced disk must not stay routed around), and a finished recovery is not shown.
            node.FailedPaths = null;
            node.Recovery = null;
            node.Port = port;
            node.Version = request.Version;
            node.JoinTime = request.JoinTime;
            node.UpTime = request.UpTime;
            node.UploadPriority = request.UploadPriority;
            node.SubdirCount = subdirs;
            if (node.StorePathCount != pathCount)
            {
                node.StorePathCount = pathCount;
                node.PathTotalMb = new long[pathCount];
                node.PathFreeMb = new long[pathCount];
                node.CurrentWritePath = 0;
            }

            node.Connection = connection;
            node.JoinedWithoutData = request.InitFlag;
            node.NotifiedGroupVersion = -1;
            if (group.Storages.Count(s => s.Status != StorageStatus.Deleted) <= 1)
            {
                group.StoragePort = port;
            }

            group.Changed();
            StateChanged();
            return new StorageJoinResponse(node.Status, node.SrcId);
        }
    }

    private static void ValidateJoin(StorageJoinRequest request)
    {
        string group = request.GroupName;
        if (group.Length == 0 || !group.All(char.IsAsciiLetterOrDigit))
        {
            throw new ProtocolException($"JOIN with invalid group name '{group}'");
        }

        if (request.StoragePort is <= 0 or > 65535)
        {
            throw new ProtocolException($"JOIN with invalid port {request.StoragePort}");
        }

        if (request.StorePathCount is < 1 or > 256 || request.SubdirCountPerPath is < 1 or > 256)
        {
            throw new ProtocolException(
                $"JOIN with store_path_count {request.StorePathCount}, subdir_count {request.SubdirCountPerPath}");
        }
    }

    /// <summary>
    /// Stock refuses a different sub-directory count unless every other member already has it, and a
    /// smaller store path count. Ports are not checked: this tracker keeps a port per storage.
    /// </summary>
    private static void CheckGroupGeometry(StorageGroup group, StorageNode? self, int pathCount, int subdirs)
    {
        var others = group.Storages.Where(s => s != self && s.Status != StorageStatus.Deleted).ToList();
        if (subdirs != group.SubdirCount)
        {
            if (others.Any(s => s.SubdirCount != subdirs))
            {
                throw new ProtocolException(
                    $"JOIN subdir_count {subdirs} differs from group {group.Name}'s {group.SubdirCount}");
            }

            group.SubdirCount = subdirs;
        }

        if (pathCount < group.StorePathCount && others.Count > 0)
        {
            throw new ProtocolException(
                $"JOIN store_path_count {pathCount} below group {group.Name}'s {group.StorePathCount}");
        }

        group.StorePathCount = others.Count == 0 ? pathCount : Math.Max(pathCount, group.StorePathCount);
    }

    /// <summary>
    /// use_storage_id: the id the storage sends when trust_storage_server_id is on, else the storage_ids.conf
    /// entry of its group and address; ENOENT when there is none (spec 6.1).
    /// </summary>
    private StorageIdEntry? ResolveStorageId(StorageJoinRequest request, string ip, int port)
    {
        if (StorageIds is not { } table)
        {
            return null;
        }

        var entry = Config.TrustStorageServerId && request.StorageId.Length > 0
            ? table.FindById(request.StorageId)
            : table.Find(request.GroupName, ip, port);
        if (entry is null)
        {
            throw new ProtocolException(
                $"no storage id for {request.GroupName} {ip}:{port} (id '{request.StorageId}') in storage_ids.conf", Errno.ENOENT);
        }

        if (entry.Group != request.GroupName)
        {
            throw new ProtocolException($"storage id {entry.Id} belongs to {entry.Group}, not {request.GroupName}");
        }

        return entry;
    }

    private StorageNode CreateJoiningStorage(StorageGroup group, StorageJoinRequest request, string ip, int port, StorageIdEntry? idEntry)
    {
        StorageStatus status;
        if (request.InitFlag)
        {
            status = StorageStatus.Init;
        }
        else
        {
            var claimed = (StorageStatus)(byte)request.Status;
            if (request.Status < 0 || !Enum.IsDefined(claimed) ||
                claimed is StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.None)
            {
                throw new ProtocolException($"unknown storage {ip}:{port} joins with status {request.Status}", Errno.EFAULT);
            }

            // A storage we do not know that says it is done adopts its status; it is connected, not yet active.
            status = claimed is StorageStatus.Active or StorageStatus.Offline ? StorageStatus.Online : claimed;
        }

        // Several storages on one host (beyond stock): without storage ids the id is the IP text, so a
        // second storage with the same IP but another port gets the id "ip:port" when that fits the
        // 15-character id field (e.g. 127.0.0.1:23001); otherwise it cannot be told apart: EEXIST.
        string id = idEntry?.Id ?? ip;
        if (idEntry is null && group.Find(id) is not null)
        {
            id = $"{ip}:{port}";
            if (id.Length > MaxStorageIdLength || group.Find(id) is not null)
            {
                throw new ProtocolException(
                    $"storage {ip}:{port} needs id '{id}' which does not fit or is taken", Errno.EEXIST);
            }
        }

        if (group.Storages.Count >= ProtocolConstants.MaxServersEachGroup)
        {
            throw new ProtocolException($"group {group.Name} already has {group.Storages.Count} storages", Errno.ENOSPC);
        }

        var node = group.Add(id);
        node.Status = status;
        node.RwMode = idEntry?.RwMode ?? StorageNode.RwBoth;
        logger.LogInformation("storage {Group}/{Id} ({Ip}:{Port}) joined as {Status}",
            group.Name, id, ip, port, status.ToMonitorName());
        return node;
    }

    private void ApplyKnownJoinStatus(StorageNode node)
    {
        switch (node.Status)
        {
            case StorageStatus.Deleted or StorageStatus.IpChanged:
                node.ClearForDelete();
                node.RetiredFor = null;
                node.Status = StorageStatus.Init;
                break;
            case StorageStatus.Offline or StorageStatus.Recovery:
                node.Status = StorageStatus.Online;
                break;
        }

        logger.LogInformation("storage {Group}/{Id} ({Ip}:{Port}) re-joined, status {Status}",
            node.Group.Name, node.Id, node.Ip, node.Port, node.Status.ToMonitorName());
    }

    /// <summary>BEAT and DISK_USAGE make a storage ACTIVE unless it is still syncing or superseded (11.2).</summary>
    private void Activate(StorageNode node)
    {
        if (node.Status is not (StorageStatus.Init or StorageStatus.WaitSync or StorageStatus.Syncing
            or StorageStatus.IpChanged or StorageStatus.Deleted))
        {
            SetStatus(node, StorageStatus.Active);
        }
    }

    public void Beat(StorageNode node, StorageStatCounters? counters)
    {
        lock (_lock)
        {
            if (counters is not null)
            {
                node.Counters.CopyFrom(counters);
            }

            node.LastHeartbeat = Now;
            Activate(node);
            StatsChanged();
        }
    }

    /// <summary>RECOVERY_PROGRESS from a storage recovering a disk (not joined yet: known by its group, id and address).</summary>
    public void ReportRecoveryProgress(RecoveryProgressReport report, string remoteIp)
    {
        lock (_lock)
        {
            var group = FindGroup(report.Group) ?? throw new ProtocolException($"unknown group {report.Group}", Errno.ENOENT);
            var node = group.Find(report.StorageId) ?? throw new ProtocolException($"RECOVERY_PROGRESS for unknown storage {report.StorageId}", Errno.ENOENT);
            if (node.Ip != remoteIp && node.JoinedFrom != remoteIp)
            {
                throw new ProtocolException($"RECOVERY_PROGRESS for {node.Id} from {remoteIp}", Errno.EPERM);
            }

            node.Recovery = report.Progress;
        }
    }

    /// <summary>STORE_PATH_HEALTH: which of the storage's paths are out of service (readers of their files go elsewhere).</summary>
    public void ReportFailedPaths(StorageNode node, IReadOnlyList<bool> failed)
    {
        lock (_lock)
        {
            var now = failed.Any(f => f) ? failed.ToArray() : null;
            string before = node.FailedPaths is { } old ? string.Join(",", Enumerable.Range(0, old.Length).Where(i => old[i])) : "";
            string after = now is null ? "" : string.Join(",", Enumerable.Range(0, now.Length).Where(i => now[i]));
            node.FailedPaths = now;
            if (before != after)
            {
                logger.LogWarning("storage {Group}/{Id}: failed store paths now [{Failed}] (were [{Before}])", node.Group.Name, node.Id, after, before);
            }
        }
    }

    public void ReportDiskUsage(StorageNode node, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            var paths = DiskUsageReport.Parse(body, node.StorePathCount);
            long total = 0, free = 0;
            int bestPath = 0;
            for (int i = 0; i < node.StorePathCount; i++)
            {
                node.PathTotalMb[i] = paths[i].TotalMb;
                node.PathFreeMb[i] = paths[i].FreeMb;
                total += node.PathTotalMb[i];
                free += node.PathFreeMb[i];
                if (node.PathFreeMb[i] > node.PathFreeMb[bestPath])
                {
                    bestPath = i;
                }
            }

            node.TotalMb = total;
            node.FreeMb = free;
            if (Config.StorePath == StorePathSelection.LoadBalance)
            {
                node.CurrentWritePath = bestPath;
            }

            Activate(node);
            StatsChanged();
            node.Group.RecomputeSpace();
            if (Config.StoreLookup == StoreLookup.LoadBalance)
            {
                PointWriteGroupAtMostFree();
            }
        }
    }

    /// <summary>store_lookup 2: the next upload goes to the group with the most free MB that has writable storages.</summary>
    private void PointWriteGroupAtMostFree()
    {
        int best = -1;
        for (int i = 0; i < _groups.Count; i++)
        {
            if (_groups[i].Writable.Count > 0 && (best < 0 || _groups[i].FreeMb > _groups[best].FreeMb))
            {
                best = i;
            }
        }

        if (best >= 0)
        {
            _currentWriteGroup = best;
        }
    }

    /// <summary>SYNC_REPORT: last_synced_timestamp bookkeeping of spec 11.5.</summary>
    public void SyncReport(StorageNode node, ReadOnlySpan<byte> body)
    {
        var entries = Protocol.Messages.SyncReport.Parse(body);
        lock (_lock)
        {
            long min = long.MaxValue, max = 0;
            bool any = false;
            foreach (var (srcId, timestamp) in entries)
            {
                var src = node.Group.Find(srcId);
                if (timestamp <= 0 || src is null || src == node || src.Status != StorageStatus.Active)
                {
                    continue;
                }

                node.SyncedFrom[srcId] = timestamp;
                min = Math.Min(min, timestamp);
                max = Math.Max(max, timestamp);
                any = true;
            }

            StatsChanged();
            if (any)
            {
                // Round robin uploads reach every storage, so a storage is only as fresh as its slowest source.
                node.LastSyncedTimestamp = Config.StoreServer == StoreServerSelection.RoundRobin ? min : Math.Max(node.LastSyncedTimestamp, max);
            }
        }
    }

    /// <summary>Builds the change-notification reply (6.10) and marks the group list as sent.</summary>
    public ChangeNotification TakeChangeNotification(StorageNode node, StorageBrief? leader)
    {
        lock (_lock)
        {
            var flags = leader is null ? ChangeFlags.None : ChangeFlags.TrackerLeader;
            var trunk = TakeTrunkServerNotification(node);
            if (trunk is not null)
            {
                flags |= ChangeFlags.TrunkServer;
            }

            List<StorageBrief> servers = [];
            if (node.NotifiedGroupVersion != node.Group.Version)
            {
                flags |= ChangeFlags.GroupServers;
                servers.AddRange(node.Group.Storages.Select(s => s.ToBrief()));
                node.NotifiedGroupVersion = node.Group.Version;
            }

            return flags == ChangeFlags.None ? ChangeNotification.Empty : new ChangeNotification(flags, leader, trunk, servers);
        }
    }

    /// <summary>SYNC_DEST_REQ (6.6): who gives the caller the group's old data.</summary>
    public SyncSourceBody? SyncDestRequest(StorageNode node)
    {
        lock (_lock)
        {
            var group = node.Group;
            if (!group.Storages.Any(s => s != node && s.Status.IsAvailable()))
            {
                SetStatus(node, StorageStatus.Online);
                return null;
            }

            var source = group.Writable.Find(s => s != node);
            node.SyncDestRefused = source is null;
            if (source is null)
            {
                throw new ProtocolException($"no ACTIVE source for new storage {node.Id} yet", Errno.ENOENT);
            }

            node.SrcId = source.Id;
            node.SyncUntil = Now;
            SetStatus(node, StorageStatus.WaitSync);
            return new SyncSourceBody(node.SrcId, node.SyncUntil);
        }
    }

    /// <summary>
    /// SYNC_NOTIFY (6.6): the storage tells which source it was given, or that its old-data sync is done.
    /// <paramref name="decidesSources"/>: this tracker leads (or is alone), so the sources follow its group list.
    /// </summary>
    public void SyncNotify(StorageNode node, SyncSourceBody body, bool decidesSources)
    {
        lock (_lock)
        {
            if (body.SrcId.Length == 0)
            {
                if (node.Status is StorageStatus.Init or StorageStatus.WaitSync or StorageStatus.Syncing)
                {
                    SetStatus(node, StorageStatus.Online);
                }

                return;
            }

            var source = node.Group.Find(body.SrcId);
            if (source is null || source.Status is StorageStatus.Deleted or StorageStatus.IpChanged)
            {
                throw new ProtocolException($"SYNC_NOTIFY names unknown source {body.SrcId}", Errno.ENOENT);
            }

            // A known member that re-joined with no data (restarted on an empty directory) is ONLINE after its JOIN.
            // When another tracker gave it a new source, stock keeps it ONLINE here and the next beat makes it
            // ACTIVE: readable while empty, and since the sources follow the leader's group list, never filled.
            // On the leader it waits for that source like a new storage. The assignment must be one this tracker
            // has not seen: a storage thread that retries JOIN + SYNC_NOTIFY after its copy finished repeats it.
            bool restartedEmpty = decidesSources && node.JoinedWithoutData && node.Status.IsAvailable() &&
                (node.SrcId != body.SrcId || node.SyncUntil != body.UntilTimestamp);
            if (node.SrcId.Length == 0 || restartedEmpty)
            {
                node.SrcId = body.SrcId;
                node.SyncUntil = body.UntilTimestamp;
                StateChanged();
            }

            if (node.Status == StorageStatus.Init || restartedEmpty)
            {
                SetStatus(node, StorageStatus.WaitSync);
            }
        }
    }

    /// <summary>SYNC_SRC_REQ (6.6): must the asking storage push old files to <paramref name="destId"/>?</summary>
    public SyncSourceBody? SyncSourceRequest(string groupName, string destId)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var dest = group.Find(destId);
            if (dest is null || dest.Status is StorageStatus.Init or StorageStatus.Deleted or StorageStatus.IpChanged)
            {
                throw new ProtocolException($"SYNC_SRC_REQ for unknown or new storage {destId}", Errno.ENOENT);
            }

            if (dest.SrcId.Length == 0)
            {
                return null;
            }

            var source = group.Find(dest.SrcId);
            if (source is null || !(source.Status.IsAvailable() || source.Status == StorageStatus.Recovery))
            {
                dest.SrcId = "";
                return null;
            }

            return new SyncSourceBody(dest.SrcId, dest.SyncUntil);
        }
    }

    public SyncSourceBody? SyncDestQuery(StorageNode node)
    {
        lock (_lock)
        {
            return node.SrcId.Length == 0 ? null : new SyncSourceBody(node.SrcId, node.SyncUntil);
        }
    }

    /// <summary>
    /// REPORT_STATUS (6.7): a source storage reports a peer's sync progress (WAIT_SYNC -> SYNCING -> OFFLINE).
    /// As stock merges it: a storage that is INIT, ONLINE, ACTIVE or RECOVERY keeps its status, any other
    /// only moves forward (a larger status code). A report from a source whose group list is stale (it still
    /// sees the peer WAIT_SYNC after the copy ended) therefore cannot push a storage that is OFFLINE or ACTIVE
    /// back into SYNCING, where no beat activates it and no source would report it done again. An available
    /// storage is not moved between available states, and superseded records stay as they are.
    /// </summary>
    /// <summary>Whether <paramref name="ip"/> is the address of a storage of any group (its known or its connecting address).</summary>
    public bool IsStorageAddress(string ip)
    {
        lock (_lock)
        {
            return _groups.Any(g => g.Storages.Any(s => s.Status != StorageStatus.Deleted && (s.Ip == ip || s.JoinedFrom == ip)));
        }
    }

    /// <param name="remoteIp">the caller's address: a member of the group (the peer's sync source) reports, nobody else</param>
    public void ReportStatus(string groupName, StorageBrief brief, string remoteIp)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            if (!group.Storages.Any(s => s.Status != StorageStatus.Deleted && (s.Ip == remoteIp || s.JoinedFrom == remoteIp)))
            {
                throw new ProtocolException($"REPORT_STATUS for {groupName} from {remoteIp}, not a member", Errno.EPERM);
            }

            var target = group.Find(brief.Id)
                ?? throw new ProtocolException($"REPORT_STATUS for unknown storage {brief.Id}", Errno.ENOENT);
            if (brief.Status == StorageStatus.Recovery && target.Status is StorageStatus.Offline or StorageStatus.Online or StorageStatus.Active &&
                (target.Ip == remoteIp || target.JoinedFrom == remoteIp))
            {
                // A storage restarted with a lost disk says so itself: it holds none of that disk's files until it has
                // recovered them, so no reader is sent to it, even before its last heartbeat times out (stock keeps it
                // ACTIVE until then).
                SetStatus(target, StorageStatus.Recovery);
                return;
            }

            if (target.Status is StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.Init or StorageStatus.Online
                    or StorageStatus.Active or StorageStatus.Recovery ||
                !Enum.IsDefined(brief.Status) || brief.Status is StorageStatus.None or StorageStatus.Deleted ||
                brief.Status <= target.Status || (target.Status.IsAvailable() && brief.Status.IsAvailable()))
            {
                if (brief.Status != target.Status)
                {
                    logger.LogInformation("storage {Group}/{Id}: REPORT_STATUS {Reported} ignored, it is {Status}",
                        groupName, target.Id, brief.Status.ToMonitorName(), target.Status.ToMonitorName());
                }

                return;
            }

            SetStatus(target, brief.Status);
        }
    }

    /// <summary>CHANGE_STATUS (6.8): the storage copies the leader's view of its own status here.</summary>
    public void ChangeStatus(StorageNode node, byte status)
    {
        var requested = (StorageStatus)status;
        if (!Enum.IsDefined(requested))
        {
            throw new ProtocolException($"CHANGE_STATUS to undefined status {status}");
        }

        lock (_lock)
        {
            // Never backwards from an available state into INIT/WAIT_SYNC/SYNCING: that is how stock leaves a
            // follower stuck in SYNCING (spec 12.5) — no REPORT_STATUS would ever come to move it on.
            if (node.Status == requested || (node.Status.IsAvailable() && requested.IsAvailable()) ||
                (node.Status.IsAvailable() && requested is StorageStatus.Init or StorageStatus.WaitSync or StorageStatus.Syncing))
            {
                return;
            }

            SetStatus(node, requested is StorageStatus.Online or StorageStatus.Active ? StorageStatus.Offline : requested);
        }
    }

    /// <summary>GET_STATUS / GET_SERVER_ID: the record of the storage at ip:port, if any.</summary>
    public StorageBrief? FindStorage(string groupName, string ip, int port)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName);
            var node = group?.Storages.Find(s => s.Ip == ip && s.Port == port)
                ?? group?.Storages.Find(s => s.Ip == ip);
            return node?.ToBrief();
        }
    }

    /// <summary>DRAIN_STORAGE: no more uploads to the storage (or again, <paramref name="draining"/> false); written to the state files.</summary>
    public void SetDraining(string groupName, string id, bool draining)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var node = group.Find(id);
            if (node is null || node.Status is StorageStatus.Deleted or StorageStatus.IpChanged)
            {
                throw new ProtocolException($"unknown storage {groupName}/{id}", Errno.ENOENT);
            }

            long since = draining ? (node.DrainingSince > 0 ? node.DrainingSince : Now) : 0;
            if (since != node.DrainingSince)
            {
                node.DrainingSince = since;
                group.Changed();
                StateChanged();
                logger.LogInformation("storage {Group}/{Id} {What}", groupName, id, draining ? "drains: no more uploads to it" : "no longer drains");
            }
        }
    }

    /// <summary>DELETE_STORAGE (4.8).</summary>
    public void DeleteStorage(string groupName, string id)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            var node = group.Find(id);
            switch (node?.Status)
            {
                case null or StorageStatus.IpChanged:
                    throw new ProtocolException($"unknown storage {groupName}/{id}", Errno.ENOENT);
                case StorageStatus.Online or StorageStatus.Active or StorageStatus.Recovery:
                    throw new ProtocolException($"storage {groupName}/{id} is {node.Status.ToMonitorName()}", Errno.EBUSY);
                case StorageStatus.Deleted:
                    throw new ProtocolException($"storage {groupName}/{id} already deleted", Errno.EALREADY);
            }

            RemoveFromGroup(group, node);
        }
    }

    /// <summary>Deletes a member that is not serving (an administrator's DELETE_STORAGE, or a spare taking its place).</summary>
    private void RemoveFromGroup(StorageGroup group, StorageNode node)
    {
        string id = node.Id;
        node.ClearForDelete();
        foreach (var peer in group.Storages.Where(s => s.SrcId == id))
        {
            peer.SrcId = "";
            if (peer.Status is StorageStatus.WaitSync or StorageStatus.Syncing)
            {
                // Stock leaves such a storage waiting forever; give it another source, which then pushes
                // everything again (SYNC_SRC_REQ names it once it sees the peer in WAIT_SYNC).
                var replacement = group.Writable.Find(s => s != peer && s != node);
                if (replacement is not null)
                {
                    peer.SrcId = replacement.Id;
                    peer.SyncUntil = Now;
                    SetStatus(peer, StorageStatus.WaitSync);
                    logger.LogInformation("storage {Group}/{Id}: sync source {Old} deleted, now {New}", group.Name, peer.Id, id, replacement.Id);
                }
            }
        }

        logger.LogInformation("storage {Group}/{Id} deleted", group.Name, id);
        SetStatus(node, StorageStatus.Deleted);
        DataStore?.AppendChangelog(group.Name, id, StorageStatus.Deleted, "");
    }

    /// <summary>DELETE_GROUP (4.9): only a group without any storage record.</summary>
    public void DeleteGroup(string groupName)
    {
        lock (_lock)
        {
            var group = FindGroup(groupName) ?? throw new ProtocolException($"unknown group {groupName}", Errno.ENOENT);
            if (group.Storages.Count > 0)
            {
                throw new ProtocolException($"group {groupName} still has {group.Storages.Count} storages", Errno.EBUSY);
            }

            _groups.Remove(group);
            _currentWriteGroup = 0;
            StateChanged();
            logger.LogInformation("group {Group} deleted", groupName);
        }
    }
}
