using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Trunk;

/// <summary>What the client sessions need from trunk storage; the one seam between them and this folder.</summary>
internal interface ITrunkStore
{
    /// <summary>True when a name is trunk-stored by stock's rule: 56 characters after <c>Mxx/</c> and the trunk bit (spec 9.7).</summary>
    bool IsTrunkName(string logicName, out FileNameInfo info);

    /// <summary>True when an UPLOAD_FILE of this size should go into a slot (trunk on, fits, not an appender).</summary>
    bool Accepts(long fileSize, bool appender);

    /// <summary>Reserves a slot and opens its trunk file; null when no slot can be had now (store a normal file).</summary>
    ValueTask<TrunkUpload?> BeginUploadAsync(int storePathIndex, long fileSize, CancellationToken cancellationToken);

    /// <summary>Writes the slot header after the data, confirms the slot and returns the 60-character logic name.</summary>
    ValueTask<string> CompleteUploadAsync(TrunkUpload upload, uint sourceRaw, int timestamp, uint crc32, string formattedExt, CancellationToken cancellationToken);

    /// <summary>Gives back the slot of a failed upload.</summary>
    ValueTask AbortUploadAsync(TrunkUpload upload, CancellationToken cancellationToken);

    /// <summary>Opens a trunk-stored file whose slot header matches its name, or null (ENOENT).</summary>
    TrunkFileView? Open(string logicName);

    /// <summary>Zeroes the slot header and frees the slot; false when the file does not exist (ENOENT).</summary>
    ValueTask<bool> DeleteAsync(string logicName, CancellationToken cancellationToken);

    TrunkStats GetStats();
}

/// <summary>A reserved slot being written by an upload.</summary>
internal sealed class TrunkUpload(ITrunkSpaceAllocator allocator, TrunkBlock slot, long fileSize, SafeFileHandle handle) : IDisposable
{
    /// <summary>Who reserved the slot: the confirm goes back there.</summary>
    public ITrunkSpaceAllocator Allocator { get; } = allocator;
    public TrunkBlock Slot { get; } = slot;
    public long FileSize { get; } = fileSize;
    public SafeFileHandle Handle { get; } = handle;

    /// <summary>Where the file's first byte goes in the trunk file.</summary>
    public long DataOffset => (long)Slot.Offset + TrunkSlotHeader.Size;

    public void Dispose() => Handle.Dispose();
}

/// <summary>An open trunk-stored file: its verified header and the trunk file handle.</summary>
internal sealed class TrunkFileView(TrunkBlock slot, TrunkSlotHeader header, SafeFileHandle handle) : IDisposable
{
    public TrunkBlock Slot { get; } = slot;
    public TrunkSlotHeader Header { get; } = header;
    public SafeFileHandle Handle { get; } = handle;
    public long DataOffset => (long)Slot.Offset + TrunkSlotHeader.Size;
    public long FileSize => Header.FileSize;

    public void Dispose() => Handle.Dispose();
}

/// <summary>
/// Trunk storage of one storage server: routes uploads into slots when trunk mode is on and this storage may
/// allocate, serves and deletes trunk-stored files on any member, and reports trunk space.
/// </summary>
internal sealed partial class TrunkStore : ITrunkStore, IDisposable
{
    private readonly StorageState _ctx;
    private readonly ILogger _logger;
    private readonly object _managerGate = new();
    private readonly object _deleteGate = new();
    private readonly HashSet<TrunkBlock> _writing = [];

    /// <summary>
    /// Slots written here that another trunk server handed out (our uploads and replicas), most recent last: at a
    /// takeover our copy of its binlog may lack their allocation, so the live ones are taken out of the free space.
    /// </summary>
    private readonly Queue<TrunkBlock> _recentForeignSlots = new();
    private const int RecentForeignSlotsCap = 200_000;
    private TrunkSpaceManager? _manager;
    private int _managerEpoch;
    private (long Length, TrunkStats Stats)? _replicaStats;

    public TrunkStore(StorageState ctx, TrunkFileStore files)
    {
        _ctx = ctx;
        Files = files;
        var groupLocator = new GroupTrunkServerLocator(ctx);
        GroupLocator = groupLocator;
        Ids = new TrunkFileIdSequence(ctx.InitFlag, () => groupLocator.NamedSelf);
        Locator = groupLocator;
        RemoteAllocator = new RemoteTrunkAllocator(ctx);
        Binlog = new TrunkBinlog(ctx.DataDirectory, ctx.LoggerFactory.CreateLogger<TrunkBinlog>(), ctx.Clock);
        Binlog.TrimTornTail();
        _logger = ctx.LoggerFactory.CreateLogger<TrunkStore>();
    }

    /// <summary>The tracker-driven locator (lease, takeover delay, epochs); <see cref="Locator"/> unless a test replaced it.</summary>
    public GroupTrunkServerLocator GroupLocator { get; }

    /// <summary><c>data/trunk/binlog</c>: written by the local core when we are the trunk server, else by TRUNK_SYNC_BINLOG.</summary>
    public TrunkBinlog Binlog { get; }

    public TrunkFileStore Files { get; }
    /// <summary>Trunk file ids: reserved with the tracker while it names us trunk server.</summary>
    public TrunkFileIdSequence Ids { get; }

    /// <summary>Who the trunk server is; replaced by the tracker-cluster slice (election, flag 2).</summary>
    public ITrunkServerLocator Locator { get; set; }

    /// <summary>Allocation through another trunk server (TRUNK_ALLOC_SPACE & co.): set by the multi-storage slice.</summary>
    public ITrunkSpaceAllocator? RemoteAllocator { get; set; }

    public TrunkSettings Settings => _ctx.Parameters.Trunk;

    /// <summary>
    /// The local trunk server core, loaded from the trunk binlog on first use and reloaded whenever the tracker names
    /// us trunk server again (the binlog then holds what the previous trunk server pushed). Slots this storage is
    /// writing right now are kept out of the free space (they were handed out by the previous trunk server).
    /// </summary>
    public TrunkSpaceManager Manager
    {
        get
        {
            lock (_managerGate)
            {
                int epoch = GroupLocator.Epoch;
                if (_manager is null || _managerEpoch != epoch)
                {
                    _manager?.Dispose();
                    _manager = null;
                    var manager = new TrunkSpaceManager(
                        () => Settings, Binlog, Ids, Files, NewFileDirectory, () => _ctx.Now,
                        _ctx.LoggerFactory.CreateLogger<TrunkSpaceManager>());
                    manager.Load(InFlightSlots(), RecentForeignSlots());
                    if (epoch > 0 && !GroupLocator.IsOnlyMember())
                    {
                        // A term named by the tracker with other members around: whoever allocated before may have
                        // handed out space our binlog copy does not show (docs/trunk.md, takeover quarantine).
                        manager.BeginQuarantine();
                    }

                    _manager = manager;
                    _managerEpoch = epoch;
                    if (epoch > 0)
                    {
                        TrunkBinlogPusher.ForgetMarks(Binlog.Directory);
                    }
                }

                return _manager;
            }
        }
    }

    /// <summary>
    /// The core of the current term when it holds <paramref name="slot"/> as reserved and nobody else is named trunk
    /// server (our role is Self, or Unknown while a lease lapsed); null otherwise. Never creates a core.
    /// </summary>
    public TrunkSpaceManager? CoreHoldingReserved(TrunkBlock slot)
    {
        if (!Settings.UseTrunkFile || Locator.Resolve() == TrunkServerRole.Remote)
        {
            return null;
        }

        lock (_managerGate)
        {
            return _manager is { } manager && _managerEpoch == GroupLocator.Epoch && manager.IsPending(slot) ? manager : null;
        }
    }

    public bool IsTrunkName(string logicName, out FileNameInfo info)
    {
        info = null!;
        return logicName.Length == ProtocolConstants.TrunkLogicFilenameLength &&
               FileNameCodec.TryDecode(logicName, out info) && info.IsTrunk && info.Trunk is not null;
    }

    public bool Accepts(long fileSize, bool appender)
    {
        var settings = Settings;
        return !appender && settings.UseTrunkFile && settings.FitsSlot(fileSize);
    }

    public async ValueTask<TrunkUpload?> BeginUploadAsync(int storePathIndex, long fileSize, CancellationToken cancellationToken)
    {
        var allocator = UploadAllocator();
        if (allocator is null)
        {
            return null;
        }

        TrunkBlock slot;
        try
        {
            int slotBytes = (int)fileSize + TrunkSlotHeader.Size;
            slot = allocator is TrunkSpaceManager core
                ? await AllocateLocallyAsync(core, storePathIndex, slotBytes, cancellationToken).ConfigureAwait(false)
                : await allocator.AllocateAsync(storePathIndex, slotBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (ProtocolException e) when (e.Status == Errno.EAGAIN || (!ReferenceEquals(allocator, _manager) && e.Status is Errno.EIO or Errno.EINVAL))
        {
            // The trunk server is unreachable or no longer one (a takeover under way), or no trunk file id is reserved
            // with the tracker yet: store a normal file.
            _logger.LogDebug("no trunk slot from the trunk server: {Message}", e.Message);
            return null;
        }

        try
        {
            Files.EnsureExists(slot.File, Settings.TrunkFileSize);
            var handle = Files.OpenWrite(slot.File);
            BeginWriting(slot, handle);
            return new TrunkUpload(allocator, slot, fileSize, handle);
        }
        catch
        {
            await allocator.ConfirmAsync(slot, succeeded: false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Allocation by our core (a local upload, or TRUNK_ALLOC_SPACE of a member). When a new trunk file needs an id
    /// and none is reserved with the tracker, waits a little for the tracker reporter to reserve more, then tries again.
    /// </summary>
    public async ValueTask<TrunkBlock> AllocateLocallyAsync(TrunkSpaceManager core, int storePathIndex, int slotBytes, CancellationToken cancellationToken)
    {
        try
        {
            return await core.AllocateAsync(storePathIndex, slotBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (ProtocolException e) when (e.Status == Errno.EAGAIN)
        {
            if (!await Ids.WaitForReservationAsync(IdReservationWait, cancellationToken).ConfigureAwait(false))
            {
                throw;
            }

            return await core.AllocateAsync(storePathIndex, slotBytes, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan IdReservationWait = TimeSpan.FromSeconds(5);

    public async ValueTask<string> CompleteUploadAsync(
        TrunkUpload upload, uint sourceRaw, int timestamp, uint crc32, string formattedExt, CancellationToken cancellationToken)
    {
        var slot = upload.Slot;
        var header = new TrunkSlotHeader(TrunkSlotHeader.TypeRegular, slot.Size, (int)upload.FileSize, crc32, timestamp, formattedExt);
        // The header goes last: a slot only holds a file once its data is complete.
        TrunkFileStore.WriteHeader(upload.Handle, slot.Offset, header);
        upload.Dispose();
        try
        {
            await ConfirmAsync(upload.Allocator, slot, succeeded: true, cancellationToken).ConfigureAwait(false);
            if (upload.Allocator is not TrunkSpaceManager)
            {
                RememberForeignSlot(slot);
            }
        }
        catch
        {
            ClearIfStillOurs(slot, header);
            throw;
        }
        finally
        {
            EndWriting(slot);
        }

        long sizeField = FileNameCodec.MakeSizeField(upload.FileSize, appender: false, trunk: true, Random.Shared.Next());
        return FileNameCodec.BuildLogicName(
            slot.File.StorePathIndex, slot.File.SubHigh, slot.File.SubLow, sourceRaw, timestamp, sizeField, crc32, formattedExt, slot.Location);
    }

    public async ValueTask AbortUploadAsync(TrunkUpload upload, CancellationToken cancellationToken)
    {
        try
        {
            if (!upload.Handle.IsClosed)
            {
                TrunkFileStore.ClearHeader(upload.Handle, upload.Slot.Offset);
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "clearing the header of failed trunk slot {Slot}", upload.Slot);
        }
        finally
        {
            upload.Dispose();
            EndWriting(upload.Slot);
        }

        await ConfirmAsync(upload.Allocator, upload.Slot, succeeded: false, cancellationToken).ConfigureAwait(false);
    }

    public TrunkFileView? Open(string logicName)
    {
        if (!IsTrunkName(logicName, out var info) || !TrunkSlotHeader.TryFromName(info, out var expected))
        {
            return null;
        }

        var slot = TrunkBlock.FromName(info);
        if (!Files.IsValidPath(slot.File) || !Files.Exists(slot.File) || slot.Offset < 0)
        {
            return null;
        }

        var handle = Files.OpenRead(slot.File);
        if (TrunkFileStore.ReadHeader(handle, slot.Offset) is { } onDisk && expected.Matches(onDisk) &&
            slot.End <= RandomAccess.GetLength(handle) && (long)onDisk.FileSize + TrunkSlotHeader.Size <= slot.Size)
        {
            return new TrunkFileView(slot, onDisk, handle);
        }

        handle.Dispose();
        return null;
    }

    public async ValueTask<bool> DeleteAsync(string logicName, CancellationToken cancellationToken)
    {
        TrunkBlock slot;
        // Check and clear in one step: a second delete of the same name, racing this one, must not clear the
        // header of a new file that reused the slot in between.
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

        var allocator = AllocatorFor(slot);
        if (!ReferenceEquals(allocator, _manager))
        {
            // Not the trunk server: only the slot's own pages may go (neighbouring free space may be in flight elsewhere).
            ReclaimSlotOnly(slot);
        }

        try
        {
            await allocator.FreeAsync(slot, cancellationToken).ConfigureAwait(false);
        }
        catch (ProtocolException e)
        {
            // The file is gone either way; the space bookkeeping disagreed (logged, nothing handed out twice).
            _logger.LogWarning("freeing trunk slot {Slot} of {Name}: {Message}", slot, logicName, e.Message);
        }

        return true;
    }

    public TrunkStats GetStats()
    {
        if (Locator.Resolve() == TrunkServerRole.Self)
        {
            return Manager.GetStats();
        }

        // Another member allocates: our figures come from the trunk binlog it pushed us, reloaded when it grew.
        long length = Binlog.Length;
        if (length == 0)
        {
            return TrunkStats.Empty;
        }

        lock (_managerGate)
        {
            if (_replicaStats is { } cached && cached.Length == length)
            {
                return cached.Stats;
            }
        }

        using var replica = new TrunkSpaceManager(
            () => Settings, new TrunkBinlog(_ctx.DataDirectory, _ctx.LoggerFactory.CreateLogger<TrunkBinlog>(), _ctx.Clock), Ids, Files,
            NewFileDirectory, () => _ctx.Now, _ctx.LoggerFactory.CreateLogger<TrunkSpaceManager>());
        replica.LoadReadOnly();
        var stats = replica.GetStats();
        lock (_managerGate)
        {
            _replicaStats = (length, stats);
        }

        return stats;
    }

    /// <summary>The allocator for a new upload, or null when this storage cannot get a slot now.</summary>
    private ITrunkSpaceAllocator? UploadAllocator() => Locator.Resolve() switch
    {
        TrunkServerRole.Self => Manager,
        TrunkServerRole.Remote => RemoteAllocator,
        _ => null,
    };

    /// <summary>Frees go to the announced trunk server; the local core when that is us (or nobody else is).</summary>
    private ITrunkSpaceAllocator AllocatorFor(TrunkBlock slot)
    {
        bool remote = ReferenceEquals(Locator, GroupLocator) ? GroupLocator.FreesRemotely : Locator.Resolve() == TrunkServerRole.Remote;
        return remote && RemoteAllocator is { } allocator ? allocator : Manager;
    }

    /// <summary>
    /// Confirms where the slot came from; when that trunk server is gone and we have taken over meanwhile, the slot
    /// is pending in our own core (kept out of the free space at takeover) and confirmed there.
    /// </summary>
    private async ValueTask ConfirmAsync(ITrunkSpaceAllocator allocator, TrunkBlock slot, bool succeeded, CancellationToken cancellationToken)
    {
        if (allocator is TrunkSpaceManager reserved && !ReferenceEquals(reserved, _manager))
        {
            // Reserved by our core of a previous term: the reloaded core holds the slot as pending.
            allocator = Manager;
        }

        try
        {
            await allocator.ConfirmAsync(slot, succeeded, cancellationToken).ConfigureAwait(false);
        }
        catch (ProtocolException) when (!ReferenceEquals(allocator, _manager) && Locator.Resolve() == TrunkServerRole.Self && Manager.IsPending(slot))
        {
            await Manager.ConfirmAsync(slot, succeeded, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A slot being written here (upload or replica): never reclaimed, and kept pending at a takeover.</summary>
    private void BeginWriting(TrunkBlock slot, SafeFileHandle handle)
    {
        lock (_deleteGate)
        {
            _writing.Add(slot);
            // A replica may still show the header of the slot's previous file (its delete not synced yet): clear it so
            // that late delete finds nothing to delete here.
            TrunkFileStore.ClearHeader(handle, slot.Offset);
        }
    }

    private void EndWriting(TrunkBlock slot)
    {
        lock (_deleteGate)
        {
            _writing.Remove(slot);
        }
    }

    private void RememberForeignSlot(TrunkBlock slot)
    {
        lock (_deleteGate)
        {
            _recentForeignSlots.Enqueue(slot);
            if (_recentForeignSlots.Count > RecentForeignSlotsCap)
            {
                _recentForeignSlots.Dequeue();
            }
        }
    }

    private List<TrunkBlock> RecentForeignSlots()
    {
        lock (_deleteGate)
        {
            return [.. _recentForeignSlots];
        }
    }

    private List<TrunkBlock> InFlightSlots()
    {
        lock (_deleteGate)
        {
            return [.. _writing];
        }
    }

    /// <summary>After a failed confirm the slot is not ours: its header goes unless another file has been written there.</summary>
    private void ClearIfStillOurs(TrunkBlock slot, TrunkSlotHeader header)
    {
        try
        {
            lock (_deleteGate)
            {
                using var handle = Files.OpenWrite(slot.File);
                if (TrunkFileStore.ReadHeader(handle, slot.Offset) is { } onDisk && header.Matches(onDisk))
                {
                    TrunkFileStore.ClearHeader(handle, slot.Offset);
                }
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "clearing the header of unconfirmed trunk slot {Slot}", slot);
        }
    }

    /// <summary>Punches the whole pages of a freed slot, unless a write in flight here overlaps it.</summary>
    private void ReclaimSlotOnly(TrunkBlock slot)
    {
        lock (_deleteGate)
        {
            if (_writing.Any(w => w.File == slot.File && w.Offset < slot.End && slot.Offset < w.End))
            {
                return;
            }

            Files.Reclaim(slot, slot);
        }
    }

    /// <summary>Stock puts a new trunk file in the sub-directory the round robin currently points at.</summary>
    private (int High, int Low) NewFileDirectory(int storePathIndex)
    {
        var (high, low, _) = _ctx.Distributor.Snapshot();
        return (high, low);
    }

    public void Dispose()
    {
        lock (_managerGate)
        {
            SaveOnStop();
            _manager?.Dispose();
            _manager = null;
        }

        Binlog.Dispose();
    }
}
