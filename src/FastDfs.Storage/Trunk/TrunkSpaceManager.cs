using FastDfs.Protocol;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The trunk server's free-space bookkeeping for every store path (spec 13): best-fit allocation with
/// splitting, reservation until confirm, freeing with optional neighbour merging (trunk_free_space_merge),
/// new trunk files when nothing fits, and every change written to the trunk binlog in stock's order so the
/// free list can be rebuilt after a restart (and, later, replayed by the other members). One lock serialises
/// all of it: the work per call is a few tree operations and one binlog write.
/// </summary>
internal sealed class TrunkSpaceManager : ITrunkSpaceAllocator, IDisposable
{
    private readonly Func<TrunkSettings> _settings;
    private readonly TrunkBinlog _binlog;
    private readonly ITrunkFileIdSequence _ids;
    private readonly TrunkFileStore _files;
    private readonly Func<int, (int High, int Low)> _newFileDirectory;
    private readonly Func<long> _clock;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Dictionary<int, TrunkFreeSpace> _free = [];
    private readonly HashSet<TrunkBlock> _pending = [];
    private readonly Dictionary<TrunkFileKey, long> _trunkFiles = [];
    private readonly List<TrunkBinlogRecord> _records = [];

    /// <summary>
    /// Takeover quarantine: the free blocks of the trunk files that existed when this term began, kept apart and never
    /// allocated from until <see cref="LiftQuarantine"/>. The previous trunk server may have handed out parts of them
    /// in allocations our copy of its binlog lacks (files it acknowledged but had not replicated yet); new files of
    /// this term get ids above any id it could use, so their space is safe at once.
    /// </summary>
    private readonly Dictionary<int, TrunkFreeSpace> _quarantined = [];
    private readonly HashSet<int> _quarantinedIds = [];
    private bool _quarantineActive;
    private int _generation;

    public TrunkSpaceManager(
        Func<TrunkSettings> settings,
        TrunkBinlog binlog,
        ITrunkFileIdSequence ids,
        TrunkFileStore files,
        Func<int, (int High, int Low)> newFileDirectory,
        Func<long> clock,
        ILogger logger)
    {
        _settings = settings;
        _binlog = binlog;
        _ids = ids;
        _files = files;
        _newFileDirectory = newFileDirectory;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// Rebuilds the free space from the trunk binlog (A adds a block, D removes it), then checks the header
    /// at the start of every free block: a block that starts with a live slot header (a slot whose confirm
    /// record was lost) is taken out of the free space, so a restart never hands out an occupied slot.
    /// </summary>
    public void Load() => Load([]);

    /// <summary>
    /// <see cref="Load()"/> for a trunk server taking over: <paramref name="inFlight"/> are slots this storage is
    /// writing right now (handed out by the previous trunk server): they become pending here, never free.
    /// </summary>
    public void Load(IReadOnlyCollection<TrunkBlock> inFlight, IReadOnlyCollection<TrunkBlock>? writtenElsewhereAllocated = null)
    {
        lock (_gate)
        {
            var (applied, conflicts) = ReplayBinlog(useSnapshot: true);
            foreach (var slot in inFlight)
            {
                TakeOutOfFreeSpace(slot);
                _pending.Add(slot);
            }

            // Slots a previous trunk server handed out that this copy holds live files in (its binlog may not have
            // reached us with their allocation): never free, wherever they lie in a free block.
            foreach (var slot in writtenElsewhereAllocated ?? [])
            {
                if (_files.ReadHeader(slot) is { IsOccupied: true } header && header.AllocSize == slot.Size &&
                    FreeSpaceOf(slot.File).Overlapping(slot).Any())
                {
                    TakeOutOfFreeSpace(slot);
                    _logger.LogWarning("trunk slot {Slot} holds a file but was free in the trunk binlog: not free", slot);
                }
            }

            FlushRecords();
            int occupied = CheckOccupying();
            _logger.LogInformation(
                "trunk free space rebuilt from {Records} binlog records ({Conflicts} inconsistent): {Files} trunk files, {Blocks} free blocks, {Free} bytes free, {Occupied} occupied blocks recovered",
                applied, conflicts, _trunkFiles.Count, _free.Values.Sum(f => f.Count), _free.Values.Sum(f => f.TotalBytes), occupied);
        }
    }

    /// <summary>Replays the binlog without checking or writing anything: the figures of a member that is not the trunk server.</summary>
    public void LoadReadOnly()
    {
        lock (_gate)
        {
            ReplayBinlog(useSnapshot: false);
        }
    }

    /// <summary>
    /// The free space from <c>storage_trunk.dat</c> plus the binlog after the offset it covers, or the whole binlog
    /// (no snapshot, one that does not fit the binlog, or <c>trunk_init_reload_from_binlog</c>, which deletes it as stock).
    /// </summary>
    private (int Applied, int Conflicts) ReplayBinlog(bool useSnapshot)
    {
        int applied = 0, conflicts = 0;
        long from = 0;
        _generation = _binlog.Generation;
        if (useSnapshot && _settings().InitReloadFromBinlog)
        {
            TrunkSnapshot.Delete(_binlog.SnapshotPath);
        }
        else if (TrunkSnapshot.TryRead(_binlog.SnapshotPath, out long offset, out var blocks))
        {
            if (offset <= _binlog.Length)
            {
                foreach (var block in blocks)
                {
                    Replay(block);
                }

                from = offset;
                _logger.LogInformation("trunk free space: {Blocks} blocks from {Snapshot}, binlog replayed from offset {Offset}", blocks.Count, _binlog.SnapshotPath, offset);
            }
            else
            {
                _logger.LogWarning("{Snapshot} covers {Offset} bytes of a {Length}-byte trunk binlog: ignored, the whole binlog is replayed",
                    _binlog.SnapshotPath, offset, _binlog.Length);
            }
        }

        foreach (var record in _binlog.ReadFrom(from))
        {
            applied++;
            if (!Replay(record))
            {
                conflicts++;
            }
        }

        return (applied, conflicts);
    }

    /// <summary>Whether a slot is reserved and not confirmed yet.</summary>
    public bool IsPending(TrunkBlock slot)
    {
        lock (_gate)
        {
            return _pending.Contains(slot);
        }
    }

    /// <summary>
    /// A replica of <paramref name="slot"/> arrives by file sync: true when the range is in use here (confirmed), or
    /// was entirely free and is now claimed for it (an allocation of a previous trunk server that our binlog copy
    /// lacks); false when part of it is free or reserved (the file was deleted meanwhile, or the range was reused).
    /// </summary>
    public bool ClaimForReplica(TrunkBlock slot)
    {
        lock (_gate)
        {
            if (!_trunkFiles.ContainsKey(slot.File))
            {
                _trunkFiles[slot.File] = Math.Max(slot.End, _settings().TrunkFileSize);
            }

            if (_pending.Any(p => p.File == slot.File && p.Offset < slot.End && slot.Offset < p.End))
            {
                return false;
            }

            var free = FreeSpaceOf(slot.File);
            var overlapping = free.Overlapping(slot).ToList();
            if (overlapping.Count == 0)
            {
                return true;
            }

            if (IsQuarantined(slot.File))
            {
                // Nothing of a quarantined file has been handed out this term: whatever is free here that the replica
                // covers was allocated by the previous trunk server without our binlog copy knowing.
                TakeOutOfFreeSpace(slot);
                FlushRecords();
                _logger.LogInformation("trunk slot {Slot} arrived by sync in quarantined free space: claimed for it", slot);
                return true;
            }

            if (overlapping.Count != 1 || overlapping[0].Offset > slot.Offset || overlapping[0].End < slot.End)
            {
                return false;
            }

            TakeOutOfFreeSpace(slot);
            FlushRecords();
            _logger.LogWarning("trunk slot {Slot} arrived by sync while free here: claimed for it", slot);
            return true;
        }
    }

    /// <summary>Removes a range from the free space (logging D of each block touched and A of what is left).</summary>
    private void TakeOutOfFreeSpace(TrunkBlock range)
    {
        var free = FreeSpaceOf(range.File);
        long now = _clock();
        foreach (var overlap in free.Overlapping(range).ToList())
        {
            free.Remove(overlap);
            Log(now, TrunkBinlogRecord.Delete, overlap);
            if (overlap.Offset < range.Offset)
            {
                var before = overlap with { Size = range.Offset - overlap.Offset };
                free.Add(before);
                Log(now, TrunkBinlogRecord.Add, before);
            }

            if (overlap.End > range.End)
            {
                var after = new TrunkBlock(range.File, (int)range.End, (int)(overlap.End - range.End));
                free.Add(after);
                Log(now, TrunkBinlogRecord.Add, after);
            }
        }
    }

    public ValueTask<TrunkBlock> AllocateAsync(int storePathIndex, int slotBytes, CancellationToken cancellationToken)
    {
        var settings = _settings();
        int size = settings.AllocSizeFor(slotBytes - TrunkSlotHeader.Size);
        if (slotBytes < TrunkSlotHeader.Size || size > settings.TrunkFileSize)
        {
            throw new ProtocolException($"trunk slot of {slotBytes} bytes", Errno.EINVAL);
        }

        lock (_gate)
        {
            var free = FreeSpace(storePathIndex);
            var block = free.BestFit(size) ?? CreateTrunkFile(storePathIndex, settings, cancellationToken);
            if (block.Size < size)
            {
                throw new ProtocolException($"new trunk file of {block.Size} bytes cannot hold {size}", Errno.ENOSPC);
            }

            long now = _clock();
            free.Remove(block);
            Log(now, TrunkBinlogRecord.Delete, block);
            var slot = block;
            if (block.Size - size >= settings.SlotMinSize)
            {
                var remainder = new TrunkBlock(block.File, block.Offset + size, block.Size - size);
                free.Add(remainder);
                Log(now, TrunkBinlogRecord.Add, remainder);
                slot = block with { Size = size };
            }

            // Stock logs the reserved slot as free space until its confirm removes it: a crash before the
            // confirm leaves it free in the binlog, and the start-up header check catches a slot that was written.
            _pending.Add(slot);
            Log(now, TrunkBinlogRecord.Add, slot);
            FlushRecords();
            return ValueTask.FromResult(slot);
        }
    }

    public ValueTask ConfirmAsync(TrunkBlock slot, bool succeeded, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_pending.Remove(slot))
            {
                throw new ProtocolException($"trunk slot {slot} is not reserved", Errno.ENOENT);
            }

            if (succeeded)
            {
                Log(_clock(), TrunkBinlogRecord.Delete, slot);
                FlushRecords();
            }
            else
            {
                AddFree(slot);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FreeAsync(TrunkBlock slot, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_trunkFiles.ContainsKey(slot.File) && _files.Length(slot.File) is > 0 and var length)
            {
                // A trunk file with no free block in the snapshot we started from (entirely used): known from its disk.
                _trunkFiles[slot.File] = length;
            }

            if (_pending.Contains(slot) || !_trunkFiles.TryGetValue(slot.File, out long fileSize) ||
                slot.Offset < 0 || slot.Size <= 0 || slot.End > fileSize)
            {
                throw new ProtocolException($"trunk slot {slot} is not an allocated slot", Errno.EINVAL);
            }

            if (!AddFree(slot))
            {
                throw new ProtocolException($"trunk slot {slot} is already free", Errno.ENOENT);
            }
        }

        return ValueTask.CompletedTask;
    }

    public TrunkStats GetStats()
    {
        KeyValuePair<TrunkFileKey, long>[] files;
        long free, pending;
        lock (_gate)
        {
            files = [.. _trunkFiles];
            free = _free.Values.Sum(f => f.TotalBytes) + _quarantined.Values.Sum(f => f.TotalBytes);
            pending = _pending.Sum(p => (long)p.Size);
        }

        long total = files.Sum(f => f.Value);
        long used = total - free - pending;
        long disk = files.Sum(f => _files.DiskBytes(f.Key));
        return new TrunkStats(files.Length, total, used, free, pending, disk, Math.Max(0, disk - used), _files.ReclaimedBytes, SparseFile.PunchSupported);
    }

    /// <summary>The free blocks of one store path (tests, monitor).</summary>
    public IReadOnlyList<TrunkBlock> FreeBlocks(int storePathIndex)
    {
        lock (_gate)
        {
            IEnumerable<TrunkBlock> main = _free.TryGetValue(storePathIndex, out var free) ? free.Blocks : [];
            IEnumerable<TrunkBlock> held = _quarantined.TryGetValue(storePathIndex, out var q) ? q.Blocks : [];
            return [.. main.Concat(held)];
        }
    }

    public long BinlogLength => _binlog.Length;

    /// <summary>
    /// trunk_create_file_advance: creates trunk files, spread over the store paths, until the free trunk space (set-apart
    /// space of a quarantine not counted) reaches <paramref name="threshold"/>, so uploads at peak hours do not wait for a
    /// new trunk file. Stops early when no trunk file id is reserved with the tracker yet. Returns how many were created.
    /// </summary>
    public int CreateAhead(long threshold, int storePathCount)
    {
        var settings = _settings();
        int created = 0;
        lock (_gate)
        {
            long free = _free.Values.Sum(f => f.TotalBytes);
            try
            {
                while (free < threshold)
                {
                    CreateTrunkFile(created % Math.Max(1, storePathCount), settings, CancellationToken.None);
                    free += settings.TrunkFileSize;
                    created++;
                }
            }
            catch (ProtocolException e) when (e.Status == Errno.EAGAIN)
            {
                _logger.LogInformation("creating trunk files ahead stopped after {Created}: {Reason}", created, e.Message);
            }
            finally
            {
                FlushRecords();
            }
        }

        return created;
    }

    private TrunkBlock CreateTrunkFile(int storePathIndex, TrunkSettings settings, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Stock's sequence is synchronous under its lock too; ours completes at once (local) and a remote one
            // will be fetched ahead by its caller.
            int id = _ids.NextAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
            var (high, low) = _newFileDirectory(storePathIndex);
            var file = new TrunkFileKey(storePathIndex, high, low, id);
            // An id a previous trunk server used (known from its binlog) is never used again, whatever directory.
            if (_files.Exists(file) || _trunkFiles.Keys.Any(k => k.TrunkId >= id))
            {
                continue;
            }

            _files.Create(file, settings.TrunkFileSize);
            _trunkFiles[file] = settings.TrunkFileSize;
            var whole = new TrunkBlock(file, 0, settings.TrunkFileSize);
            FreeSpace(storePathIndex).Add(whole);
            Log(_clock(), TrunkBinlogRecord.Add, whole);
            _logger.LogInformation("created trunk file {Path} ({Size} bytes)", _files.FullPath(file), settings.TrunkFileSize);
            return whole;
        }
    }

    /// <summary>Adds a freed block (merging with free neighbours when configured) and reclaims its pages.</summary>
    private bool AddFree(TrunkBlock slot)
    {
        var free = FreeSpaceOf(slot.File);
        if (free.Overlapping(slot).Any())
        {
            return false;
        }

        long now = _clock();
        var added = slot;
        if (_settings().FreeSpaceMerge)
        {
            if (free.EndingAt(slot.File, slot.Offset) is { } before)
            {
                free.Remove(before);
                Log(now, TrunkBinlogRecord.Delete, before);
                added = new TrunkBlock(slot.File, before.Offset, added.Size + before.Size);
            }

            if (free.StartingAt(slot.File, slot.End) is { } after)
            {
                free.Remove(after);
                Log(now, TrunkBinlogRecord.Delete, after);
                added = added with { Size = added.Size + after.Size };
            }
        }

        free.Add(added);
        Log(now, TrunkBinlogRecord.Add, added);
        if (IsWholeUnusedFile(added))
        {
            // delete_unused_trunk_files (stock): the file holds nothing any more; its id is never used again.
            free.Remove(added);
            Log(now, TrunkBinlogRecord.Delete, added);
            FlushRecords();
            _trunkFiles.Remove(added.File);
            _files.Delete(added.File);
            _logger.LogInformation("deleted unused trunk file {Path}", _files.FullPath(added.File));
            return true;
        }

        FlushRecords();
        _files.Reclaim(slot, FreeExtent(free, added));
        return true;
    }

    /// <summary>A free block that is a whole trunk file, with delete_unused_trunk_files on and no quarantine holding it.</summary>
    private bool IsWholeUnusedFile(TrunkBlock block) =>
        _settings().DeleteUnusedTrunkFiles && block.Offset == 0 && !IsQuarantined(block.File) &&
        _trunkFiles.TryGetValue(block.File, out long size) && block.Size == size && !_pending.Any(p => p.File == block.File);

    /// <summary>The run of adjacent free blocks around <paramref name="block"/> (merged or not).</summary>
    private static TrunkBlock FreeExtent(TrunkFreeSpace free, TrunkBlock block)
    {
        int start = block.Offset;
        long end = block.End;
        while (free.EndingAt(block.File, start) is { } before)
        {
            start = before.Offset;
        }

        while (free.StartingAt(block.File, end) is { } after)
        {
            end = after.End;
        }

        return new TrunkBlock(block.File, start, (int)(end - start));
    }

    private bool Replay(TrunkBinlogRecord record)
    {
        var block = record.Block;
        if (!_files.IsValidPath(block.File) || block.Offset < 0 || block.Size <= 0)
        {
            // A record this storage cannot place (a store path it does not have; found by the session fuzzer in lines a
            // member pushed with TRUNK_SYNC_BINLOG): skipped, not a reason to stop loading the trunk space.
            _logger.LogWarning("trunk binlog record {Record} names no trunk file of this storage: skipped", record);
            return false;
        }

        if (!_trunkFiles.ContainsKey(block.File))
        {
            long length = _files.Length(block.File);
            _trunkFiles[block.File] = length > 0 ? length : Math.Max(block.End, _settings().TrunkFileSize);
        }

        var free = FreeSpaceOf(block.File);
        if (record.Op == TrunkBinlogRecord.Add)
        {
            if (free.Add(block))
            {
                return true;
            }

            // Overlaps free space already (a slot given back twice): free is free, keep the union.
            foreach (var overlap in free.Overlapping(block).ToList())
            {
                free.Remove(overlap);
                int start = Math.Min(overlap.Offset, block.Offset);
                block = new TrunkBlock(block.File, start, (int)(Math.Max(overlap.End, block.End) - start));
            }

            free.Add(block);
            return false;
        }

        if (free.Remove(block))
        {
            if (block.Offset == 0 && _trunkFiles[block.File] == block.Size && !_files.Exists(block.File))
            {
                // A whole trunk file taken out and gone from disk: deleted as unused (delete_unused_trunk_files).
                _trunkFiles.Remove(block.File);
            }

            return true;
        }

        // Not an exact free block: take the range out of whatever free blocks cover it (never leave it free).
        foreach (var overlap in free.Overlapping(block).ToList())
        {
            free.Remove(overlap);
            if (overlap.Offset < block.Offset)
            {
                free.Add(overlap with { Size = block.Offset - overlap.Offset });
            }

            if (overlap.End > block.End)
            {
                free.Add(new TrunkBlock(block.File, (int)block.End, (int)(overlap.End - block.End)));
            }
        }

        return false;
    }

    private int CheckOccupying()
    {
        int found = 0;
        foreach (var (pathIndex, free) in _free.Concat(_quarantined))
        {
            foreach (var start in free.Blocks.ToList())
            {
                // Slots are carved from the low end of a free block: after a live one, check the next one too.
                var block = start;
                while (_files.ReadHeader(block) is { IsOccupied: true } header &&
                       header.AllocSize > 0 && header.AllocSize <= block.Size && header.FileSize >= 0 &&
                       (long)header.FileSize + TrunkSlotHeader.Size <= header.AllocSize)
                {
                    free.Remove(block);
                    long now = _clock();
                    Log(now, TrunkBinlogRecord.Delete, block);
                    _logger.LogWarning("trunk slot {Block} of path {Path} holds a file: not free", block with { Size = header.AllocSize }, pathIndex);
                    found++;
                    if (block.Size == header.AllocSize)
                    {
                        break;
                    }

                    block = new TrunkBlock(block.File, block.Offset + header.AllocSize, block.Size - header.AllocSize);
                    free.Add(block);
                    Log(now, TrunkBinlogRecord.Add, block);
                }
            }
        }

        FlushRecords();
        return found;
    }

    /// <summary>
    /// Writes <c>storage_trunk.dat</c>: the free space (reserved slots count as free, as in the binlog until their
    /// confirm) and the binlog length it covers. False when the binlog was replaced since this core loaded it.
    /// </summary>
    public bool SaveSnapshot()
    {
        lock (_gate)
        {
            FlushRecords();
            if (_generation != _binlog.Generation)
            {
                return false;
            }

            _binlog.Flush();
            TrunkSnapshot.Write(_binlog.SnapshotPath, _binlog.Length, SnapshotRecords());
            return true;
        }
    }

    /// <summary>
    /// Trunk binlog compaction (trunk_compress_binlog_*): the binlog is replaced by one <c>A</c> line per free block
    /// (the old one kept as a backup up to trunk_binlog_max_backups) and the snapshot then covers all of it. The
    /// snapshot is removed first, so a crash in between leaves a binlog that replays alone.
    /// </summary>
    public bool Compact(int maxBackups)
    {
        lock (_gate)
        {
            FlushRecords();
            if (_generation != _binlog.Generation)
            {
                return false;
            }

            var records = SnapshotRecords();
            TrunkSnapshot.Delete(_binlog.SnapshotPath);
            long length = _binlog.ReplaceWith(records, maxBackups);
            _generation = _binlog.Generation;
            TrunkSnapshot.Write(_binlog.SnapshotPath, length, records);
            _logger.LogInformation("trunk binlog compacted to {Blocks} free blocks ({Length} bytes)", records.Count, length);
            return true;
        }
    }

    private List<TrunkBinlogRecord> SnapshotRecords()
    {
        long now = _clock();
        return
        [
            .. _free.Values.Concat(_quarantined.Values).SelectMany(f => f.Blocks).Concat(_pending)
                .OrderBy(b => (b.File.StorePathIndex, b.File.TrunkId, b.Offset))
                .Select(b => new TrunkBinlogRecord(now, TrunkBinlogRecord.Add, b)),
        ];
    }

    /// <summary>Starts the takeover quarantine: every trunk file known now is set apart until it is lifted.</summary>
    public void BeginQuarantine()
    {
        lock (_gate)
        {
            _quarantineActive = true;
            foreach (var file in _trunkFiles.Keys)
            {
                _quarantinedIds.Add(file.TrunkId);
            }

            foreach (var (pathIndex, free) in _free)
            {
                var held = Quarantined(pathIndex);
                foreach (var block in free.Blocks.ToList())
                {
                    free.Remove(block);
                    held.Add(block);
                }
            }

            _logger.LogInformation("trunk takeover: {Files} trunk files quarantined ({Bytes} bytes free in them); new slots go to new trunk files",
                _quarantinedIds.Count, _quarantined.Values.Sum(f => f.TotalBytes));
        }
    }

    /// <summary>True while the takeover quarantine holds.</summary>
    public bool InQuarantine
    {
        get
        {
            lock (_gate)
            {
                return _quarantineActive;
            }
        }
    }

    /// <summary>
    /// Ends the quarantine (every member's files of the previous term have reached us, or the members that could hold
    /// such files left the group): the set-apart free space becomes allocatable again, after the start-up check.
    /// </summary>
    public bool LiftQuarantine()
    {
        lock (_gate)
        {
            if (!_quarantineActive)
            {
                return false;
            }

            _quarantineActive = false;
            _quarantinedIds.Clear();
            foreach (var (pathIndex, held) in _quarantined)
            {
                var free = FreeSpace(pathIndex);
                foreach (var block in held.Blocks.ToList())
                {
                    held.Remove(block);
                    free.Add(block);
                }
            }

            _quarantined.Clear();
            int occupied = CheckOccupying();
            _logger.LogInformation("trunk takeover quarantine lifted ({Occupied} occupied blocks found)", occupied);
            return true;
        }
    }

    private bool IsQuarantined(TrunkFileKey file) => _quarantineActive && _quarantinedIds.Contains(file.TrunkId);

    private TrunkFreeSpace FreeSpaceOf(TrunkFileKey file) =>
        IsQuarantined(file) ? Quarantined(file.StorePathIndex) : FreeSpace(file.StorePathIndex);

    private TrunkFreeSpace Quarantined(int storePathIndex)
    {
        if (!_quarantined.TryGetValue(storePathIndex, out var held))
        {
            held = new TrunkFreeSpace();
            _quarantined[storePathIndex] = held;
        }

        return held;
    }

    private TrunkFreeSpace FreeSpace(int storePathIndex)
    {
        if (!_free.TryGetValue(storePathIndex, out var free))
        {
            free = new TrunkFreeSpace();
            _free[storePathIndex] = free;
        }

        return free;
    }

    private void Log(long timestamp, char op, TrunkBlock block) => _records.Add(new TrunkBinlogRecord(timestamp, op, block));

    private void FlushRecords()
    {
        _binlog.Append(_records);
        _records.Clear();
    }

    public void Dispose() => _binlog.Dispose();
}
