using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Sync;

/// <summary>The push loop and the record-to-command translation of spec 7 / 12.6.</summary>
internal sealed partial class SyncPeerWorker
{
    private const int GroupLen = ProtocolConstants.GroupNameMaxLen;

    private async Task PushLoopAsync(PeerConnection connection, SyncMark mark, CancellationToken stop)
    {
        long lastSent = StorageContext.Now;
        var idleWait = TimeSpan.FromMilliseconds(Math.Clamp(_ctx.Config.SyncWaitMsec, 10, 1000));
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            var entries = _reader.Read(mark.Position, BatchSize);
            if (entries.Count == 0)
            {
                await OnIdleAsync(mark, stop).ConfigureAwait(false);
                if (StorageContext.Now - lastSent >= HeartBeatSeconds)
                {
                    Check(await connection.RequestAsync(FdfsCommand.ActiveTest, ReadOnlyMemory<byte>.Empty, stop).ConfigureAwait(false), "ACTIVE_TEST");
                    lastSent = StorageContext.Now;
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
                        try
                        {
                            await PushAsync(connection, record, stop).ConfigureAwait(false);
                        }
                        catch (SkippedRecordException)
                        {
                            Advance(entry.Next);
                            throw new IOException("the peer refused a record with EINVAL and closed the connection");
                        }

                        mark.SyncRowCount++;
                        lastSent = StorageContext.Now;
                    }
                }

                Advance(entry.Next);
            }

            if (_ctx.Config.SyncInterval > 0)
            {
                await Task.Delay(_ctx.Config.SyncInterval, stop).ConfigureAwait(false);
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

    private async Task PushAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        switch (record.UpperOp)
        {
            case 'C':
                await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: false, stop).ConfigureAwait(false);
                break;
            case 'U':
                await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
                break;
            case 'D':
                await PushDeleteAsync(connection, record, stop).ConfigureAwait(false);
                break;
            case 'A' or 'M':
                await PushRangeAsync(connection, record, stop).ConfigureAwait(false);
                break;
            case 'T':
                await PushTruncateAsync(connection, record, stop).ConfigureAwait(false);
                break;
            case 'L' or 'R':
                await PushLinkOrRenameAsync(connection, record, stop).ConfigureAwait(false);
                break;
        }
    }

    private string? LocalPath(string logicName) =>
        StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored) ? _ctx.Paths.FullPath(stored) : null;

    /// <summary>SYNC_CREATE_FILE / SYNC_UPDATE_FILE with the file's content as it is now; a vanished file is skipped.</summary>
    private async Task PushWholeFileAsync(PeerConnection connection, string logicName, long timestamp, bool update, CancellationToken stop)
    {
        string? path = LocalPath(logicName);
        // A trunk-stored file is pushed from its slot (data after the 24-byte header) while its header is its own.
        using var trunkView = _ctx.Trunk.IsTrunkName(logicName, out _) ? _ctx.Trunk.Open(logicName) : null;
        using var file = trunkView is not null ? new SafeFileHandleSource(trunkView.Handle, path ?? logicName)
            : path is null ? null : SafeFileHandleSource.TryOpen(path);
        if (file is null)
        {
            _logger.LogDebug("sync to {Peer}: {Name} is gone, skipped", PeerId, logicName);
            return;
        }

        long size = trunkView?.FileSize ?? file.Length;
        long contentOffset = trunkView?.DataOffset ?? 0;
        int nameLength = FixedString.ByteCount(logicName);
        var fixedPart = new byte[8 + 8 + 4 + GroupLen + nameLength];
        BinaryPrimitives.WriteInt64BigEndian(fixedPart, nameLength);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart.AsSpan(8), size);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(16), (uint)timestamp);
        FixedString.Write(fixedPart.AsSpan(20, GroupLen), _ctx.GroupName);
        FixedString.Write(fixedPart.AsSpan(20 + GroupLen), logicName);
        _ctx.Counters.Increment(C.TotalSyncOutBytes, size);
        byte status = await connection.RequestAsync(update ? FdfsCommand.SyncUpdateFile : FdfsCommand.SyncCreateFile,
            fixedPart, stop, file, contentOffset, size).ConfigureAwait(false);
        AcceptOrThrow(status, Errno.EEXIST, update ? "SYNC_UPDATE_FILE" : "SYNC_CREATE_FILE", logicName);
        _ctx.Counters.Increment(C.SuccessSyncOutBytes, size);
    }

    private async Task PushDeleteAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        int nameLength = FixedString.ByteCount(record.FileName);
        var body = new byte[4 + GroupLen + nameLength];
        BinaryPrimitives.WriteUInt32BigEndian(body, (uint)record.Timestamp);
        FixedString.Write(body.AsSpan(4, GroupLen), _ctx.GroupName);
        FixedString.Write(body.AsSpan(4 + GroupLen), record.FileName);
        byte status = await connection.RequestAsync(FdfsCommand.SyncDeleteFile, body, stop).ConfigureAwait(false);
        AcceptOrThrow(status, Errno.ENOENT, "SYNC_DELETE_FILE", record.FileName);
    }

    /// <summary>SYNC_APPEND/MODIFY with the bytes as they are now; skipped when the file is gone or shorter, whole file on ENOENT.</summary>
    private async Task PushRangeAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        bool append = record.UpperOp == 'A';
        string? path = LocalPath(record.FileName);
        using (var file = path is null ? null : SafeFileHandleSource.TryOpen(path))
        {
            if (file is null || file.Length < record.First + record.Second)
            {
                return;
            }

            int nameLength = FixedString.ByteCount(record.FileName);
            var fixedPart = new byte[8 + 8 + 8 + 4 + GroupLen + nameLength];
            BinaryPrimitives.WriteInt64BigEndian(fixedPart, nameLength);
            BinaryPrimitives.WriteInt64BigEndian(fixedPart.AsSpan(8), record.First);
            BinaryPrimitives.WriteInt64BigEndian(fixedPart.AsSpan(16), record.Second);
            BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(24), (uint)record.Timestamp);
            FixedString.Write(fixedPart.AsSpan(28, GroupLen), _ctx.GroupName);
            FixedString.Write(fixedPart.AsSpan(28 + GroupLen), record.FileName);
            _ctx.Counters.Increment(C.TotalSyncOutBytes, record.Second);
            byte status = await connection.RequestAsync(append ? FdfsCommand.SyncAppendFile : FdfsCommand.SyncModifyFile,
                fixedPart, stop, file, record.First, record.Second).ConfigureAwait(false);
            if (status != Errno.ENOENT)
            {
                AcceptOrThrow(status, Errno.EEXIST, append ? "SYNC_APPEND_FILE" : "SYNC_MODIFY_FILE", record.FileName);
                _ctx.Counters.Increment(C.SuccessSyncOutBytes, record.Second);
                return;
            }
        }

        await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
    }

    /// <summary>SYNC_TRUNCATE_FILE; skipped when the file is gone. Unlike stock, ENOENT resends the whole file.</summary>
    private async Task PushTruncateAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        string? path = LocalPath(record.FileName);
        if (path is null || !File.Exists(path))
        {
            return;
        }

        int nameLength = FixedString.ByteCount(record.FileName);
        var body = new byte[8 + 8 + 8 + 4 + GroupLen + nameLength];
        BinaryPrimitives.WriteInt64BigEndian(body, nameLength);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(8), record.First);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(16), record.Second);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(24), (uint)record.Timestamp);
        FixedString.Write(body.AsSpan(28, GroupLen), _ctx.GroupName);
        FixedString.Write(body.AsSpan(28 + GroupLen), record.FileName);
        byte status = await connection.RequestAsync(FdfsCommand.SyncTruncateFile, body, stop).ConfigureAwait(false);
        if (status == Errno.ENOENT)
        {
            await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: true, stop).ConfigureAwait(false);
            return;
        }

        AcceptOrThrow(status, Errno.EEXIST, "SYNC_TRUNCATE_FILE", record.FileName);
    }

    /// <summary>SYNC_CREATE_LINK / SYNC_RENAME_FILE; a missing old name on the peer falls back to sending the file.</summary>
    private async Task PushLinkOrRenameAsync(PeerConnection connection, BinlogRecord record, CancellationToken stop)
    {
        bool rename = record.UpperOp == 'R';
        string? path = LocalPath(record.FileName);
        if (path is null || !(File.Exists(path) || new FileInfo(path).LinkTarget is not null))
        {
            return;
        }

        string second = record.OtherName!;
        int firstLength = FixedString.ByteCount(record.FileName);
        int secondLength = FixedString.ByteCount(second);
        var body = new byte[8 + 8 + 4 + GroupLen + firstLength + secondLength];
        BinaryPrimitives.WriteInt64BigEndian(body, firstLength);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(8), secondLength);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), (uint)record.Timestamp);
        FixedString.Write(body.AsSpan(20, GroupLen), _ctx.GroupName);
        FixedString.Write(body.AsSpan(20 + GroupLen, firstLength), record.FileName);
        FixedString.Write(body.AsSpan(20 + GroupLen + firstLength), second);
        var command = rename ? FdfsCommand.SyncRenameFile : FdfsCommand.SyncCreateLink;
        byte status = await connection.RequestAsync(command, body, stop).ConfigureAwait(false);
        if (status == Errno.ENOENT)
        {
            if (rename)
            {
                await PushWholeFileAsync(connection, record.FileName, record.Timestamp, update: false, stop).ConfigureAwait(false);
            }
            else
            {
                // The link's target has not reached the peer: send it, then the link again.
                await PushWholeFileAsync(connection, second, record.Timestamp, update: false, stop).ConfigureAwait(false);
                AcceptOrThrow(await connection.RequestAsync(command, body, stop).ConfigureAwait(false), Errno.EEXIST, "SYNC_CREATE_LINK", record.FileName);
            }

            return;
        }

        AcceptOrThrow(status, Errno.EEXIST, rename ? "SYNC_RENAME_FILE" : "SYNC_CREATE_LINK", record.FileName);
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
