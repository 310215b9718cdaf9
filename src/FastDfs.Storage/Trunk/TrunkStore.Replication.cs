using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Trunk;

/// <summary>What a replica of a trunk slot arriving by SYNC_CREATE_FILE should do.</summary>
internal enum TrunkReplicaAction
{
    /// <summary>Write the data at slot offset + 24, then the header.</summary>
    Write,

    /// <summary>This copy already holds the file.</summary>
    AlreadyThere,

    /// <summary>The slot now belongs to a newer file (or is free on the trunk server): the file was deleted meanwhile.</summary>
    Stale,
}

/// <summary>
/// The multi-storage side of trunk storage: slots replicated by the normal file sync (written into this storage's
/// own copy of the trunk file), deletes replicated by SYNC_DELETE (header zeroed, only the slot's own pages
/// punched), and the trunk server's reports to the leader tracker (FETCH/REPORT_TRUNK_FID 72/73, REPORT_TRUNK_FREE 74).
/// </summary>
internal sealed partial class TrunkStore
{
    private int _fidFetchedEpoch = -1;
    private long _reportedFreeMb = -1;
    private readonly Dictionary<string, Sync.BinlogPosition> _truncateBarriers = [];

    /// <summary>
    /// TRUNK_TRUNCATE_BINLOG_FILE (33) opens a trunk server's term on this member. We accept it only once our file sync
    /// to that trunk server has confirmed every record our binlog held when it first asked: then every file we
    /// acknowledged with a slot of the previous trunk server has reached the new one, which has claimed its range.
    /// The new trunk server keeps the free space of the previous term in quarantine until every member accepted.
    /// <paramref name="trunkServerId"/> null (its address is shared by several members): all our sync peers count.
    /// </summary>
    public bool ReadyForNewTrunkTerm(IReadOnlyList<Sync.SyncPeerWorker> syncWorkers, string? trunkServerId)
    {
        string key = trunkServerId ?? string.Empty;
        Sync.BinlogPosition barrier;
        lock (_truncateBarriers)
        {
            if (!_truncateBarriers.TryGetValue(key, out barrier))
            {
                barrier = _ctx.Binlog.End;
                _truncateBarriers[key] = barrier;
            }
        }

        var workers = syncWorkers.Where(w => trunkServerId is null || w.PeerId == trunkServerId).ToList();
        // No sync peer: we owe nothing when our binlog is empty or the group list shows nobody else.
        bool ready = workers.Count == 0
            ? barrier == default || GroupLocator.IsOnlyMember()
            : workers.All(w => w.Acknowledged >= barrier);
        if (!ready)
        {
            return false;
        }

        lock (_truncateBarriers)
        {
            _truncateBarriers.Remove(key);
        }

        return true;
    }

    /// <summary>
    /// Prepares this copy for a replicated slot. With <see cref="TrunkReplicaAction.Write"/> the returned handle is
    /// open on the trunk file with the slot's header cleared, and the slot counts as being written until
    /// <see cref="EndReplica"/>.
    /// </summary>
    public TrunkReplicaAction BeginReplica(TrunkBlock slot, in TrunkSlotHeader header, out SafeFileHandle? handle)
    {
        handle = null;
        // Taken before the delete gate (lock order: manager, then delete gate).
        var manager = GroupLocator.NamedSelf || Locator.Resolve() == TrunkServerRole.Self ? Manager : null;
        lock (_deleteGate)
        {
            Files.EnsureExists(slot.File, Math.Max(Settings.TrunkFileSize, slot.End));
            var file = Files.OpenWrite(slot.File);
            try
            {
                if (TrunkFileStore.ReadHeader(file, slot.Offset) is { } existing)
                {
                    if (header.Matches(existing))
                    {
                        return TrunkReplicaAction.AlreadyThere;
                    }

                    // Slots are reused only after a delete: a live header of a newer file means ours is gone.
                    if (existing.IsOccupied && existing.Mtime > header.Mtime)
                    {
                        return TrunkReplicaAction.Stale;
                    }
                }

                if (manager is not null && !manager.ClaimForReplica(slot))
                {
                    return TrunkReplicaAction.Stale;
                }

                _writing.Add(slot);
                TrunkFileStore.ClearHeader(file, slot.Offset);
                handle = file;
                file = null;
                return TrunkReplicaAction.Write;
            }
            finally
            {
                file?.Dispose();
            }
        }
    }

    /// <summary>Ends a replicated slot write: the header goes last, so the file only shows once complete.</summary>
    public void EndReplica(TrunkBlock slot, SafeFileHandle handle, in TrunkSlotHeader header, bool succeeded)
    {
        try
        {
            if (succeeded)
            {
                TrunkFileStore.WriteHeader(handle, slot.Offset, header);
                RememberForeignSlot(slot);
            }
        }
        finally
        {
            handle.Dispose();
            EndWriting(slot);
        }
    }

    /// <summary>
    /// Repair: writes the verified bytes of <paramref name="verifiedCopyPath"/> over the data of the trunk-stored
    /// <paramref name="logicName"/>, under the delete gate so that the slot cannot be freed and reused meanwhile.
    /// False when the file is gone (deleted since it was found damaged) or the copy does not fit.
    /// </summary>
    public bool RewriteSlotData(string logicName, string verifiedCopyPath)
    {
        lock (_deleteGate)
        {
            using var view = Open(logicName);
            if (view is null || new FileInfo(verifiedCopyPath).Length != view.FileSize)
            {
                return false;
            }

            using var source = File.OpenHandle(verifiedCopyPath, FileMode.Open, FileAccess.Read);
            using var target = Files.OpenWrite(view.Slot.File);
            var buffer = new byte[Math.Min(256 * 1024, Math.Max(1, view.FileSize))];
            long done = 0;
            while (done < view.FileSize)
            {
                int read = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(buffer.Length, view.FileSize - done)), done);
                if (read == 0)
                {
                    return false;
                }

                RandomAccess.Write(target, buffer.AsSpan(0, read), view.DataOffset + done);
                done += read;
            }

            return true;
        }
    }

    /// <summary>
    /// SYNC_DELETE_FILE of a trunk name: zero the header if it still is this file's. The free space is the trunk
    /// server's business (the deleting member told it with TRUNK_FREE_SPACE); a member that is not the trunk server
    /// punches only the slot's own pages.
    /// </summary>
    public bool DeleteReplica(string logicName)
    {
        TrunkBlock slot;
        lock (_deleteGate)
        {
            using var view = Open(logicName);
            if (view is null)
            {
                return false;
            }

            slot = view.Slot;
            using var handle = Files.OpenWrite(slot.File);
            TrunkFileStore.ClearHeader(handle, slot.Offset);
        }

        if (!GroupLocator.NamedSelf)
        {
            ReclaimSlotOnly(slot);
        }

        return true;
    }

    /// <summary>
    /// On the leader's connection (after a heartbeat, and whenever allocations ran out of ids): a storage named trunk
    /// server fetches the group's trunk file id once per term (FETCH_TRUNK_FID 72) and reserves ids ahead with
    /// REPORT_TRUNK_FID (73) before it may allocate (<see cref="TrunkFileIdSequence"/>). False when not named, or the
    /// tracker refused.
    /// </summary>
    public async Task<bool> ReserveIdsAsync(TrackerConnection connection, CancellationToken stop)
    {
        if (!Settings.UseTrunkFile || !GroupLocator.NamedSelf)
        {
            return false;
        }

        int epoch = GroupLocator.Epoch;
        if (_fidFetchedEpoch != epoch)
        {
            var (status, body) = await connection.RequestAsync(TrunkFileIdBody.FetchCommand, default, stop).ConfigureAwait(false);
            if (status != Errno.Ok || body.Length != TrunkFileIdBody.Size)
            {
                _logger.LogWarning("FETCH_TRUNK_FID answered {Status} with a body of {Length} bytes (expected {Expected})",
                    Errno.Describe(status), body.Length, TrunkFileIdBody.Size);
                return false;
            }

            int trackerId = TrunkFileIdBody.Parse(body).TrunkFileId;
            Ids.StartTerm(trackerId);
            _reportedFreeMb = -1;
            _fidFetchedEpoch = epoch;
        }

        if (Ids.ReservationWanted() is { } upTo)
        {
            var body = new TrunkFileIdBody((int)upTo).ToArray();
            var (status, _) = await connection.RequestAsync(TrunkFileIdBody.ReportCommand, body, stop).ConfigureAwait(false);
            if (status != Errno.Ok)
            {
                _logger.LogWarning("REPORT_TRUNK_FID {Id} answered {Status}", upTo, Errno.Describe(status));
                return false;
            }

            Ids.Reserved(upTo);
        }

        GroupLocator.IdsReady(epoch);
        return true;
    }

    /// <summary>
    /// After each heartbeat the leader answered: renews the trunk server lease, reserves trunk file ids
    /// (<see cref="ReserveIdsAsync"/>) and, as trunk server, reports the free trunk MB (REPORT_TRUNK_FREE 74).
    /// </summary>
    public async Task AfterLeaderBeatAsync(TrackerConnection connection, CancellationToken stop)
    {
        GroupLocator.LeaderContact();
        if (!await ReserveIdsAsync(connection, stop).ConfigureAwait(false))
        {
            return;
        }

        if (Locator.Resolve() == TrunkServerRole.Self)
        {
            long freeMb = Manager.GetStats().FreeBytes / (1024 * 1024);
            if (freeMb != _reportedFreeMb)
            {
                var body = new TrunkFreeReport(freeMb).ToArray();
                var (status, _) = await connection.RequestAsync(TrunkFreeReport.Command, body, stop).ConfigureAwait(false);
                if (status == Errno.Ok)
                {
                    _reportedFreeMb = freeMb;
                }
            }
        }
    }
}
