using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>APPEND (24), MODIFY (34), TRUNCATE (36), REGENERATE_APPENDER_FILENAME (38): spec 5.8-5.11.</summary>
internal sealed partial class StorageSession
{
    private const int MinAppenderNameLength = ProtocolConstants.NormalLogicFilenameLength;
    private const int MaxNameLength = 128;

    private async ValueTask<byte> AppendAsync(PacketHeader request)
    {
        if (request.BodyLength < 16)
        {
            throw new ProtocolException("append body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(16).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span);
        long size = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[8..]);
        CheckAppenderLengths(nameLength, size, request.BodyLength - 16);
        var target = ResolveAppender(await ReadNameAsync(nameLength).ConfigureAwait(false));
        Count(C.TotalAppendCount);
        Count(C.TotalAppendBytes, size);
        if (size > 0)
        {
            // One change of a file at a time: two appends must not both write at the length they read.
            using var held = await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false);
            using var handle = OpenForWrite(target.FullPath);
            long oldSize = RandomAccess.GetLength(handle);
            await WriteOrRollBackAsync(handle, target.LogicName, oldSize, oldSize, size).ConfigureAwait(false);
            long mtime = MtimeOf(handle);
            LogSource(mtime, BinlogOp.Append, target.LogicName, $"{oldSize} {size}");
            _ctx.Counters[C.LastSourceUpdate] = mtime;
        }

        Count(C.SuccessAppendCount);
        Count(C.SuccessAppendBytes, size);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    private async ValueTask<byte> ModifyAsync(PacketHeader request)
    {
        if (request.BodyLength < 24)
        {
            throw new ProtocolException("modify body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(24).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span);
        long offset = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[8..]);
        long size = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[16..]);
        CheckAppenderLengths(nameLength, size, request.BodyLength - 24);
        if (offset < 0)
        {
            throw new ProtocolException("negative modify offset");
        }

        var target = ResolveAppender(await ReadNameAsync(nameLength).ConfigureAwait(false));
        Count(C.TotalModifyCount);
        Count(C.TotalModifyBytes, size);
        using (await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false))
        using (var handle = OpenForWrite(target.FullPath))
        {
            long current = RandomAccess.GetLength(handle);
            if (offset > current)
            {
                throw new ProtocolException($"modify offset {offset} beyond size {current}");
            }

            if (size > 0)
            {
                await WriteOrRollBackAsync(handle, target.LogicName, current, offset, size).ConfigureAwait(false);
                long mtime = MtimeOf(handle);
                LogSource(mtime, BinlogOp.Modify, target.LogicName, $"{offset} {size}");
                _ctx.Counters[C.LastSourceUpdate] = mtime;
            }
        }

        Count(C.SuccessModifyCount);
        Count(C.SuccessModifyBytes, size);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    private async ValueTask<byte> TruncateAsync(PacketHeader request)
    {
        if (request.BodyLength < 16 || request.BodyLength > _maxInMemoryBody)
        {
            throw new ProtocolException("truncate body length");
        }

        var fixedPart = await ReadBodyAsync(16).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span);
        long newSize = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[8..]);
        CheckAppenderLengths(nameLength, 0, request.BodyLength - 16);
        if (newSize < 0)
        {
            throw new ProtocolException("negative truncate size");
        }

        var target = ResolveAppender(await ReadNameAsync(nameLength).ConfigureAwait(false));
        Count(C.TotalTruncateCount);
        using (await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false))
        using (var handle = OpenForWrite(target.FullPath))
        {
            long oldSize = RandomAccess.GetLength(handle);
            if (newSize > oldSize && !_ctx.Paths.HasSpace(_ctx.Paths[target.Stored.StorePathIndex], newSize - oldSize, _ctx.Parameters.ReservedSpace))
            {
                // Stock grows a file to any size (a sparse hole): one request could then promise more bytes than the disk
                // holds, and every read, checksum or full re-send of it would cost that size.
                return Errno.ENOSPC;
            }

            if (oldSize != newSize)
            {
                // Growing is allowed and fills with zeros (verified on stock), within the path's free space.
                try
                {
                    RandomAccess.SetLength(handle, newSize);
                }
                catch (IOException e)
                {
                    throw StoreIoException.From(e, $"truncating {target.LogicName}");
                }
                catch (ArgumentOutOfRangeException e)
                {
                    // Beyond what .NET or the file system can address (a size near 2^63).
                    throw new StoreIoException(Errno.EFBIG, $"truncating {target.LogicName} to {newSize} bytes", e);
                }

                long mtime = MtimeOf(handle);
                LogSource(mtime, BinlogOp.Truncate, target.LogicName, $"{oldSize} {newSize}");
                _ctx.Counters[C.LastSourceUpdate] = mtime;
            }
        }

        Count(C.SuccessTruncateCount);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    private async ValueTask<byte> RegenerateAppenderNameAsync(PacketHeader request)
    {
        if (request.BodyLength < MinAppenderNameLength || request.BodyLength >= MaxNameLength)
        {
            throw new ProtocolException("regenerate name length");
        }

        // The request names no group: a file moved here from another group is renamed as ours, and the new ID names our group
        // (the new name is created here, and the moved-files map knows only the old one, which is gone).
        var target = ResolveAppender(await ReadNameAsync(request.BodyLength).ConfigureAwait(false));
        string? newName = null;
        using (await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false))
        {
            // Under the lock: no append can change the content between its CRC32 and the rename.
            uint crc = await ComputeCrc32Async(target.FullPath).ConfigureAwait(false);
            long size = new FileInfo(target.FullPath).Length;
            long now = _ctx.Now;
            int high = Convert.ToInt32(target.Stored.SubHigh, 16);
            int low = Convert.ToInt32(target.Stored.SubLow, 16);
            string formattedExt = target.LogicName[^7..];
            for (int attempt = 0; attempt < NameRetries && newName is null; attempt++)
            {
                long sizeField = FileNameCodec.MakeSizeField(size, appender: false, trunk: false, Random.Shared.Next());
                string candidate = FileNameCodec.BuildLogicName(
                    target.Stored.StorePathIndex, high, low, _ctx.SourceRaw, (int)now, sizeField, crc, formattedExt);
                string newPath = Path.Combine(Path.GetDirectoryName(target.FullPath)!, candidate[10..]);
                if (NoReplaceRename.TryMove(target.FullPath, newPath))
                {
                    newName = candidate;
                    LogSource(now, BinlogOp.Rename, newName, target.LogicName);
                    _ctx.Counters[C.LastSourceUpdate] = now;
                }
            }
        }

        if (newName is null)
        {
            return Errno.EBUSY;
        }

        // The old name is gone: the client must get the new one even when the peers did not confirm in time (an error
        // would leave it with no name for its file). The rename still replicates; the shortfall is logged.
        if (await AwaitReplicasAsync().ConfigureAwait(false) != Errno.Ok)
        {
            _logger.LogWarning("regenerate {Old} -> {New}: answered although sync_ack_replicas was not reached in time", target.LogicName, newName);
        }

        WriteStoredFileResponse(newName);
        return Errno.Ok;
    }

    private static void CheckAppenderLengths(long nameLength, long size, long restOfBody)
    {
        if (nameLength < MinAppenderNameLength || nameLength >= MaxNameLength || size < 0 || restOfBody != nameLength + size)
        {
            throw new ProtocolException("appender request lengths do not match the body");
        }
    }

    private async ValueTask<string> ReadNameAsync(long length)
    {
        var bytes = await ReadBodyAsync((int)length).ConfigureAwait(false);
        return FixedString.ReadCString(bytes.Span);
    }

    private SafeFileHandle OpenForWrite(string fullPath)
    {
        Count(C.TotalFileOpenCount);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            throw StoreIoException.From(e, $"opening {fullPath}");
        }

        Count(C.SuccessFileOpenCount);
        return handle;
    }

    /// <summary>
    /// Streams <paramref name="size"/> body bytes into an appender file at <paramref name="offset"/>. When that fails
    /// half-way (the client left, the disk is full) the file goes back to <paramref name="oldSize"/>, as stock does, so
    /// a retry does not land after garbage. A modify may already have overwritten bytes below the old size: those are
    /// logged as a modify of what was written, so that every member of the group ends with the same bytes.
    /// </summary>
    /// <param name="logicName">The file, when it originates here; null for a replica (the source resends the record).</param>
    private async ValueTask WriteOrRollBackAsync(SafeFileHandle handle, string? logicName, long oldSize, long offset, long size)
    {
        _streamTouched = 0;
        try
        {
            await StreamBodyToFileAsync(handle, offset, size, crc: null).ConfigureAwait(false);
        }
        catch
        {
            long changedInPlace = Math.Max(0, Math.Min(offset + _streamTouched, oldSize) - offset);
            try
            {
                // The record first: should the rollback fail, the overwritten bytes still reach the peers.
                if (changedInPlace > 0 && logicName is not null)
                {
                    _ctx.Binlog.Write(MtimeOf(handle), BinlogOp.Modify, logicName, $"{offset} {changedInPlace}");
                }

                if (RandomAccess.GetLength(handle) > oldSize)
                {
                    RandomAccess.SetLength(handle, oldSize);
                }
            }
            catch (IOException e)
            {
                _logger.LogError("rolling {Name} back to {Size} bytes after a failed write failed: {Message}", logicName, oldSize, e.Message);
            }

            throw;
        }
    }

    private static long MtimeOf(SafeFileHandle handle) =>
        new DateTimeOffset(File.GetLastWriteTimeUtc(handle)).ToUnixTimeSeconds();
}
