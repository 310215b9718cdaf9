using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Sync;

/// <summary>
/// The push loop and the record-to-command translation of spec 7 / 12.6, made convergent: whatever the interleaving
/// of appends, modifies and truncates with a peer that was down or lagging, the peer ends with this storage's bytes.
/// <list type="bullet">
/// <item>Content is always read as it is now. An append or modify whose bytes are no longer all there, and any record
/// the peer answers ENOENT or EEXIST to (its copy is not where the record starts from), send the whole file.</item>
/// <item>A whole copy of a file that changes in place (appender, metadata) is taken under the file's lock together
/// with the binlog's end: every record of that file before that position is in the copy and is passed as done, so
/// the peer is never moved back to an older state.</item>
/// <item>An append, modify or truncate passed because the file is gone here (renamed by regenerate, or deleted)
/// leaves the peer's copy of that name stale: a later rename of it sends the renamed file whole.</item>
/// </list>
/// </summary>
internal sealed partial class SyncPeerWorker
{
    private const int GroupLen = ProtocolConstants.GroupNameMaxLen;
    private const int SnapshotPruneThreshold = 1024;
    private const int MaxSnapshots = 100_000;

    /// <summary>What pushing one record achieved.</summary>
    private enum PushResult
    {
        /// <summary>The peer holds the change (applied, already there, or in a whole copy it got).</summary>
        Taken,

        /// <summary>Nothing could be sent (the file is gone here): the peer does not hold this change.</summary>
        Passed,
    }

    /// <summary>Mutable file name -> binlog end when the peer was sent a whole copy of it (records before are in that copy).</summary>
    private readonly Dictionary<string, BinlogPosition> _copiedAt = new(StringComparer.Ordinal);

    /// <summary>Names whose in-place changes were passed because the file was gone here: the peer's copy is stale.</summary>
    private readonly HashSet<string> _staleOnPeer = new(StringComparer.Ordinal);

    private async Task PushLoopAsync(PeerConnection connection, SyncMark mark, CancellationToken stop)
    {
        long lastSent = _ctx.Now;
        var idleWait = TimeSpan.FromMilliseconds(Math.Clamp(_ctx.Config.SyncWaitMsec, 10, 1000));
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            var entries = _reader.Read(mark.Position, BatchSize);
            if (entries.Count == 0)
            {
                await OnIdleAsync(mark, stop).ConfigureAwait(false);
                if (_ctx.Now - lastSent >= HeartBeatSeconds)
                {
                    Check(await connection.RequestAsync(FdfsCommand.ActiveTest, ReadOnlyMemory<byte>.Empty, stop).ConfigureAwait(false), "ACTIVE_TEST");
                    lastSent = _ctx.Now;
                }

                await _manager.WaitForChangeAsync(idleWait, stop).ConfigureAwait(false);
                continue;
            }

            foreach (var entry in entries)
            {
                if (entry.Record is { } record)
                {
                    mark.ScanRowCount++;
                    if (ShouldPush(mark, record))
                    {
                        PushResult result;
                        try
                        {
                            result = await PushAsync(connection, record, entry.Next, stop).ConfigureAwait(false);
                        }
                        catch (SkippedRecordException)
                        {
                            MarkUnconfirmed(entry.Next);
                            Advance(entry.Next);
                            throw new IOException("the peer refused a record with EINVAL and closed the connection");
                        }

                        if (result == PushResult.Passed)
                        {
                            MarkUnconfirmed(entry.Next);
                        }

                        mark.SyncRowCount++;
                        lastSent = _ctx.Now;
                    }
                }

                Advance(entry.Next);
            }

            PruneCopies(mark.Position);
            if (_ctx.Config.SyncInterval > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_ctx.Config.SyncInterval), _ctx.Clock, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>End of the binlog: close the old-data phase if it was pending, persist a changed mark.</summary>
    private async Task OnIdleAsync(SyncMark mark, CancellationToken stop)
    {
        if (mark.NeedSyncOld && !mark.SyncOldDone)
        {
            mark.SyncOldDone = true;
            _markDirty = true;
            SaveMarkIfDirty();
            _logger.LogInformation("sync to {Peer}: old data pushed", PeerId);
        }

        await ReportOldDataDoneAsync(stop).ConfigureAwait(false);
        SaveMarkIfDirty();
    }

    /// <summary>Spec 12.2: our own records always; replica c/d/u/l/r only while filling a new storage, up to until.</summary>
    private static bool ShouldPush(SyncMark mark, in BinlogRecord record)
    {
        if (record.IsSource)
        {
            return true;
        }

        return mark.NeedSyncOld && !mark.SyncOldDone && record.Timestamp <= mark.UntilTimestamp &&
               record.Op is 'c' or 'd' or 'u' or 'l' or 'r';
    }

    /// <summary>A file whose content changes under its name: an appender file or a metadata (<c>-m</c>) file.</summary>
    internal static bool IsMutable(string logicName) =>
        logicName.EndsWith("-m", StringComparison.Ordinal) ||
        (FileNameCodec.TryDecode(logicName, out var info) && info.IsAppender);

    private async Task<PushResult> PushAsync(PeerConnection connection, BinlogRecord record, BinlogPosition next, CancellationToken stop)
    {
        if (record.UpperOp is not ('L' or 'R') && _copiedAt.TryGetValue(record.FileName, out var copiedAt) && next <= copiedAt)
        {
            // The peer got a whole copy of this file taken after this record: the change is in it.
            return PushResult.Taken;
        }

        return record.UpperOp switch
        {
            'C' => await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: false, stop).ConfigureAwait(false),
            'U' => await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false),
            'D' => await PushDeleteAsync(connection, record.FileName, record.Timestamp, stop).ConfigureAwait(false),
            'A' or 'M' => await PushRangeAsync(connection, record, stop).ConfigureAwait(false),
            'T' => await PushTruncateAsync(connection, record, stop).ConfigureAwait(false),
            'L' or 'R' => await PushLinkOrRenameAsync(connection, record, stop).ConfigureAwait(false),
            _ => PushResult.Passed,
        };
    }

    private string? LocalPath(string logicName) =>
        StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored) ? _ctx.Paths.FullPath(stored) : null;

    /// <summary>
    /// SYNC_CREATE_FILE / SYNC_UPDATE_FILE with the file's content as it is now; a vanished file is passed. A file
    /// that changes in place always goes as an update (a create would be refused by a peer holding another version
    /// of the same size), snapshotted under its lock so its earlier records can be passed as done.
    /// </summary>
    private async Task<PushResult> PushWholeFileAsync(PeerConnection connection, string logicName, long timestamp, bool update, CancellationToken stop)
    {
        string? path = LocalPath(logicName);
        bool mutable = IsMutable(logicName);
        var snapshot = default(BinlogPosition);
        // A trunk-stored file is pushed from its slot (data after the 24-byte header) while its header is its own.
        using var trunkView = !mutable && _trunk.IsTrunkName(logicName, out _) ? _trunk.Open(logicName) : null;
        SafeFileHandleSource? file;
        if (trunkView is not null)
        {
            file = new SafeFileHandleSource(trunkView.Handle, path ?? logicName);
        }
        else if (mutable)
        {
            using (await _ctx.FileLocks.AcquireAsync(logicName, stop).ConfigureAwait(false))
            {
                snapshot = _ctx.Binlog.End;
                file = path is null ? null : SafeFileHandleSource.TryOpen(path);
            }
        }
        else
        {
            file = path is null ? null : SafeFileHandleSource.TryOpen(path);
        }

        using (file)
        {
            if (file is null)
            {
                _logger.LogDebug("sync to {Peer}: {Name} is gone, passed", PeerId, logicName);
                return PushResult.Passed;
            }

            update |= mutable;
            long size = trunkView?.FileSize ?? file.Length;
            long contentOffset = trunkView?.DataOffset ?? 0;
            var fixedPart = SyncFileFixed.Encode(_ctx.GroupName, logicName, size, (uint)timestamp);
            _ctx.Counters.Increment(C.TotalSyncOutBytes, size);
            byte status = await connection.RequestAsync(update ? FdfsCommand.SyncUpdateFile : FdfsCommand.SyncCreateFile,
                fixedPart, stop, file, contentOffset, size).ConfigureAwait(false);
            if (status == Errno.EBADMSG && !await OurCopyIsGoodAsync(logicName, file, contentOffset, size, stop).ConfigureAwait(false))
            {
                return PushResult.Passed;
            }

            AcceptOrThrow(status, Errno.EEXIST, update ? "SYNC_UPDATE_FILE" : "SYNC_CREATE_FILE", logicName);
            _ctx.Counters.Increment(C.SuccessSyncOutBytes, size);
        }

        if (mutable)
        {
            _copiedAt[logicName] = snapshot;
        }

        _staleOnPeer.Remove(logicName);
        return PushResult.Taken;
    }

    /// <summary>
    /// The peer refused our copy of <paramref name="logicName"/> as not matching its name (checked replication). If our
    /// copy matches, the bytes were damaged on the way: true, and the caller's error sends it again. If it does not, the
    /// damage is here: sending it again cannot help, so it is reported and passed (the scrub repairs it from a peer).
    /// </summary>
    private async Task<bool> OurCopyIsGoodAsync(string logicName, SafeFileHandleSource file, long offset, long size, CancellationToken stop)
    {
        _ctx.Integrity.PushRefused();
        bool good = !Integrity.NameChecksum.TryGetExpected(logicName, out long expectedSize, out uint expectedCrc) || expectedSize != size ||
            await Integrity.ContentChecksum.ComputeAsync(file.Handle, offset, size, null, stop).ConfigureAwait(false) == expectedCrc;
        if (good)
        {
            _logger.LogWarning("sync to {Peer}: {Name} arrived damaged (refused by checked replication); sending it again", PeerId, logicName);
            return true;
        }

        _ctx.Integrity.FoundCorrupt();
        _logger.LogError("sync to {Peer}: our copy of {Name} does not match the size and CRC32 of its name; not replicated " +
            "(the scrub replaces it with a good copy from a peer when one has it)", PeerId, logicName);
        return false;
    }

    private async Task<PushResult> PushDeleteAsync(PeerConnection connection, string logicName, long timestamp, CancellationToken stop)
    {
        var body = new SyncDeleteRequest((uint)timestamp, _ctx.GroupName, logicName).ToArray();
        byte status = await connection.RequestAsync(FdfsCommand.SyncDeleteFile, body, stop).ConfigureAwait(false);
        AcceptOrThrow(status, Errno.ENOENT, "SYNC_DELETE_FILE", logicName);
        _staleOnPeer.Remove(logicName);
        return PushResult.Taken;
    }

    /// <summary>
    /// SYNC_APPEND/MODIFY with the bytes as they are now. The whole file instead when those bytes are no longer all
    /// there, or when the peer's copy is not where the record starts from (ENOENT: missing or too short; EEXIST:
    /// longer, so already applied or diverged: the whole copy settles both).
    /// </summary>
    private async Task<PushResult> PushRangeAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        bool append = record.UpperOp == 'A';
        string? path = LocalPath(record.FileName);
        using (var file = path is null ? null : SafeFileHandleSource.TryOpen(path))
        {
            if (file is null)
            {
                _staleOnPeer.Add(record.FileName);
                return PushResult.Passed;
            }

            if (file.Length >= record.First + record.Second)
            {
                var fixedPart = SyncRangeFixed.Encode(_ctx.GroupName, record.FileName, record.First, record.Second, (uint)record.Timestamp);
                _ctx.Counters.Increment(C.TotalSyncOutBytes, record.Second);
                byte status = await connection.RequestAsync(append ? FdfsCommand.SyncAppendFile : FdfsCommand.SyncModifyFile,
                    fixedPart, stop, file, record.First, record.Second).ConfigureAwait(false);
                if (status == Errno.Ok)
                {
                    _ctx.Counters.Increment(C.SuccessSyncOutBytes, record.Second);
                    return PushResult.Taken;
                }

                if (status is not (Errno.ENOENT or Errno.EEXIST))
                {
                    AcceptOrThrow(status, Errno.Ok, append ? "SYNC_APPEND_FILE" : "SYNC_MODIFY_FILE", record.FileName);
                }
            }
        }

        return await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// SYNC_TRUNCATE_FILE; passed when the file is gone. A peer whose size is not the record's old size (EEXIST) or
    /// that lacks the file (ENOENT) gets the whole file: stock counts EEXIST as done, which leaves a lagging peer with
    /// other bytes for good.
    /// </summary>
    private async Task<PushResult> PushTruncateAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        string? path = LocalPath(record.FileName);
        if (path is null || !File.Exists(path))
        {
            _staleOnPeer.Add(record.FileName);
            return PushResult.Passed;
        }

        var body = SyncRangeFixed.Encode(_ctx.GroupName, record.FileName, record.First, record.Second, (uint)record.Timestamp);
        byte status = await connection.RequestAsync(FdfsCommand.SyncTruncateFile, body, stop).ConfigureAwait(false);
        if (status == Errno.Ok)
        {
            return PushResult.Taken;
        }

        if (status is not (Errno.ENOENT or Errno.EEXIST))
        {
            AcceptOrThrow(status, Errno.Ok, "SYNC_TRUNCATE_FILE", record.FileName);
        }

        return await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// SYNC_CREATE_LINK / SYNC_RENAME_FILE; a missing old name on the peer falls back to sending the file. After a
    /// rename, a stale old copy on the peer (changes we could not send) is replaced by the whole file, and an old name
    /// the peer still has beside the new one (EEXIST) is deleted there.
    /// </summary>
    private async Task<PushResult> PushLinkOrRenameAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        bool rename = record.UpperOp == 'R';
        string second = record.OtherName!;
        string? path = LocalPath(record.FileName);
        if (path is null || !(File.Exists(path) || new FileInfo(path).LinkTarget is not null))
        {
            if (rename && LocalPath(second) is { } oldPath && !File.Exists(oldPath))
            {
                // Renamed, then deleted under the new name: the peer must not keep the old name (the delete names only the new one).
                await PushDeleteAsync(connection, second, record.Timestamp, stop).ConfigureAwait(false);
            }

            return PushResult.Passed;
        }

        var body = SyncLinkFixed.Encode(_ctx.GroupName, record.FileName, second, (uint)record.Timestamp);
        var command = rename ? FdfsCommand.SyncRenameFile : FdfsCommand.SyncCreateLink;
        byte status = await connection.RequestAsync(command, body, stop).ConfigureAwait(false);
        if (status == Errno.ENOENT)
        {
            if (rename)
            {
                var sent = await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: false, stop).ConfigureAwait(false);
                _staleOnPeer.Remove(second);
                return sent;
            }

            // The link's target has not reached the peer: send it, then the link again (unless the target is gone here too).
            if (await PushWholeFileAsync(connection, second, record.Timestamp, update: false, stop).ConfigureAwait(false) == PushResult.Passed)
            {
                return PushResult.Passed;
            }

            AcceptOrThrow(await connection.RequestAsync(command, body, stop).ConfigureAwait(false), Errno.EEXIST, "SYNC_CREATE_LINK", record.FileName);
            return PushResult.Taken;
        }

        AcceptOrThrow(status, Errno.EEXIST, rename ? "SYNC_RENAME_FILE" : "SYNC_CREATE_LINK", record.FileName);
        if (!rename)
        {
            return PushResult.Taken;
        }

        if (status == Errno.EEXIST && LocalPath(second) is { } old && !File.Exists(old))
        {
            // The peer has the new name already and may still hold the old one: it is gone here.
            await PushDeleteAsync(connection, second, record.Timestamp, stop).ConfigureAwait(false);
        }

        if (_staleOnPeer.Contains(second))
        {
            // The peer renamed a copy that missed changes made before the rename: send what the file is.
            var sent = await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
            _staleOnPeer.Remove(second);
            return sent;
        }

        return PushResult.Taken;
    }

    /// <summary>Drops whole-copy positions the mark has passed (no record before them is left to push).</summary>
    private void PruneCopies(BinlogPosition processed)
    {
        if (_copiedAt.Count < SnapshotPruneThreshold)
        {
            return;
        }

        foreach (var (name, at) in _copiedAt.Where(c => c.Value <= processed).ToList())
        {
            _copiedAt.Remove(name);
        }

        if (_copiedAt.Count > MaxSnapshots)
        {
            // Far behind on very many changing files: forget; such records are then replayed (and settled by whole copies).
            _copiedAt.Clear();
        }

        if (_staleOnPeer.Count > MaxSnapshots)
        {
            _staleOnPeer.Clear();
        }
    }

    /// <summary>
    /// OK and the benign status count as done. EINVAL means the peer will never take this record (it also
    /// closed the connection): it is logged and skipped so one bad line cannot stall the group. Anything
    /// else (ENOSPC, EIO...) drops the connection; the record is retried after reconnecting.
    /// </summary>
    private void AcceptOrThrow(byte status, byte benign, string what, string logicName)
    {
        if (status == Errno.Ok || status == benign)
        {
            return;
        }

        if (status == Errno.EINVAL)
        {
            _logger.LogError("sync to {Peer}: {What} {Name} refused with EINVAL, skipped", PeerId, what, logicName);
            throw new SkippedRecordException();
        }

        throw new ProtocolException($"{what} {logicName}: {Errno.Describe(status)}", status);
    }

    private sealed class SkippedRecordException : Exception;
}
