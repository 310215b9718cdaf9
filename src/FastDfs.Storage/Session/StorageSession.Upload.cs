using System.Buffers;
using System.IO.Hashing;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>UPLOAD_FILE (11), UPLOAD_APPENDER_FILE (23), UPLOAD_SLAVE_FILE (21): spec 5.1, 5.2, 9.</summary>
internal sealed partial class StorageSession
{
    private const int NameRetries = 10;
    private const int WriteBatchSize = 256 * 1024;
    private const int SmallWriteCopyLimit = 8 * 1024;

    /// <summary>Reused by <see cref="WriteToFile"/> for gathering writes (one list per connection).</summary>
    private List<ReadOnlyMemory<byte>>? _writeSegments;

    /// <summary>Bytes the current <see cref="StreamBodyToFileAsync"/> call may have written to the file so far (a failed write counts whole).</summary>
    private long _streamTouched;

    /// <summary>Reused for every upload of the connection (reset per file).</summary>
    private Crc32? _uploadCrc;

    /// <summary>A complete upload body, not yet under a stored name (dispose it: an unpublished file is then gone).</summary>
    private readonly record struct ReceivedFile(PendingFile File, uint Crc32, long Timestamp) : IDisposable
    {
        public void Dispose() => File.Dispose();
    }

    private async ValueTask<byte> UploadAsync(PacketHeader request, bool appender)
    {
        if (request.BodyLength < UploadFileRequest.FixedSize)
        {
            throw new ProtocolException("upload body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(UploadFileRequest.FixedSize).ConfigureAwait(false);
        var upload = UploadFileRequest.Parse(fixedPart.Span);
        if (upload.StorePathIndex < -1 || upload.StorePathIndex >= _ctx.Paths.Count)
        {
            throw new ProtocolException($"store path index {upload.StorePathIndex}");
        }

        if (upload.FileSize < 0 || request.BodyLength != UploadFileRequest.FixedSize + upload.FileSize)
        {
            throw new ProtocolException("upload file size does not match the body length");
        }

        if (!FileNameCodec.IsValidExtOrPrefix(upload.Ext))
        {
            throw new ProtocolException($"invalid file extension '{upload.Ext}'");
        }

        Count(C.TotalUploadCount);
        Count(C.TotalUploadBytes, upload.FileSize);
        var parameters = _ctx.Parameters;
        int pathIndex = _ctx.Paths.Choose(upload.StorePathIndex, upload.FileSize, parameters.ReservedSpace, parameters.StorePathMode);
        if (pathIndex < 0)
        {
            return Errno.ENOSPC;
        }

        if (_ctx.Trunk.Accepts(upload.FileSize, appender) && await TryUploadToTrunkAsync(pathIndex, upload.FileSize, upload.Ext).ConfigureAwait(false) is { } trunkStatus)
        {
            return trunkStatus;
        }

        var (high, low) = _ctx.Distributor.Next();
        string directory = _ctx.Paths.SubdirPath(pathIndex, high, low);
        string? logicName;
        long timestamp;
        using (var received = await ReceivePendingAsync(directory, upload.FileSize).ConfigureAwait(false))
        {
            string formattedExt = FileNameCodec.FormatExtension(upload.Ext, Random.Shared);
            logicName = PlaceUnderNewName(received, pathIndex, high, low, upload.FileSize, appender, formattedExt);
            timestamp = received.Timestamp;
        }

        if (logicName is null)
        {
            return Errno.EBUSY;
        }

        LogSource(timestamp, BinlogOp.Create, logicName);
        CompleteUpload(upload.FileSize, timestamp);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        WriteStoredFileResponse(logicName);
        return Errno.Ok;
    }

    private async ValueTask<byte> UploadSlaveAsync(PacketHeader request)
    {
        if (request.BodyLength < UploadSlaveFileRequest.FixedSize)
        {
            throw new ProtocolException("slave upload body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(UploadSlaveFileRequest.FixedSize).ConfigureAwait(false);
        var (masterLength, fileSize) = UploadSlaveFileRequest.PeekLengths(fixedPart.Span);
        string prefix = FixedString.Read(fixedPart.Span.Slice(16, ProtocolConstants.FilePrefixMaxLen));
        string ext = FixedString.Read(fixedPart.Span.Slice(16 + ProtocolConstants.FilePrefixMaxLen, ProtocolConstants.FileExtNameMaxLen));
        if (masterLength <= ProtocolConstants.LogicFilePathLen || masterLength >= 128 || fileSize < 0 ||
            request.BodyLength != UploadSlaveFileRequest.FixedSize + masterLength + fileSize)
        {
            throw new ProtocolException("slave upload lengths do not match the body");
        }

        var masterBytes = await ReadBodyAsync((int)masterLength).ConfigureAwait(false);
        string masterText = FixedString.ReadCString(masterBytes.Span);
        if (prefix.Length == 0 || !FileNameCodec.IsValidExtOrPrefix(prefix) || !FileNameCodec.IsValidExtOrPrefix(ext))
        {
            throw new ProtocolException("invalid slave prefix or extension");
        }

        var master = Resolve(masterText);
        if (master.LogicName.Length - 4 < 34 || (ext.Length == 0 && prefix == "-m"))
        {
            throw new ProtocolException("invalid master name for a slave");
        }

        Count(C.TotalUploadCount);
        Count(C.TotalUploadBytes, fileSize);
        if (!_ctx.Paths.HasSpace(_ctx.Paths[master.Stored.StorePathIndex], fileSize, _ctx.Parameters.ReservedSpace))
        {
            return Errno.ENOSPC;
        }

        if (!StoredFileExists(master.LogicName, master.FullPath, out bool masterIsDirectory) || masterIsDirectory)
        {
            return Errno.ENOENT;
        }

        string slaveName = FileNameCodec.BuildSlaveName(master.LogicName, prefix, ext);
        var slave = Resolve(slaveName);
        if (EntryExists(slave.FullPath, out _, out _))
        {
            return Errno.EEXIST;
        }

        _ctx.Distributor.Next();
        string directory = Path.GetDirectoryName(master.FullPath)!;
        byte placed;
        long timestamp;
        // The received file is closed before the replicas are awaited: nothing holds a descriptor meanwhile.
        using (var received = await ReceivePendingAsync(directory, fileSize).ConfigureAwait(false))
        {
            placed = PlaceSlave(received, master, slave.LogicName, slave.FullPath, ext, fileSize);
            timestamp = received.Timestamp;
        }

        if (placed != Errno.Ok)
        {
            return placed;
        }

        CompleteUpload(fileSize, timestamp);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        WriteStoredFileResponse(slave.LogicName);
        return Errno.Ok;
    }

    /// <summary>
    /// Names a received slave file: under the slave's name, or (<c>store_slave_file_use_link</c>) under a new name of its own
    /// with the slave's name as a link to it. EEXIST when the slave's name is taken, EBUSY when no new name was free.
    /// </summary>
    private byte PlaceSlave(ReceivedFile received, (string LogicName, StoredFilePath Stored, string FullPath) master,
        string slaveName, string slavePath, string ext, long fileSize)
    {
        if (!_ctx.Parameters.StoreSlaveFileUseLink)
        {
            if (!Publish(received, slavePath))
            {
                return Errno.EEXIST;
            }

            LogSource(received.Timestamp, BinlogOp.Create, slaveName);
            return Errno.Ok;
        }

        int high = Convert.ToInt32(master.Stored.SubHigh, 16);
        int low = Convert.ToInt32(master.Stored.SubLow, 16);
        string formattedExt = FileNameCodec.FormatExtension(ext.Length <= ProtocolConstants.FileExtNameMaxLen ? ext : "", Random.Shared);
        string? realName = PlaceUnderNewName(received, master.Stored.StorePathIndex, high, low, fileSize, false, formattedExt);
        if (realName is null)
        {
            return Errno.EBUSY;
        }

        var real = Resolve(realName);
        try
        {
            File.CreateSymbolicLink(slavePath, real.FullPath);
        }
        catch (IOException)
        {
            File.Delete(real.FullPath);
            return Errno.EEXIST;
        }

        LogSource(received.Timestamp, BinlogOp.Create, realName);
        LogSource(received.Timestamp, BinlogOp.Link, slaveName, realName);
        return Errno.Ok;
    }

    private void CompleteUpload(long fileSize, long timestamp)
    {
        Count(C.SuccessUploadCount);
        Count(C.SuccessUploadBytes, fileSize);
        _ctx.Counters[C.LastSourceUpdate] = timestamp;
    }

    private void WriteStoredFileResponse(string logicName)
    {
        var response = new StoredFileResponse(_ctx.GroupName, logicName);
        _accessName = logicName;
        _replyBodyLength = response.Size;
        var span = _output.GetSpan(ProtocolConstants.HeaderSize + response.Size);
        PacketHeader.Response(response.Size).WriteTo(span);
        response.Write(span[ProtocolConstants.HeaderSize..]);
        _output.Advance(ProtocolConstants.HeaderSize + response.Size);
    }

    /// <summary>
    /// Streams <paramref name="size"/> body bytes into a file of <paramref name="directory"/> that has no stored name yet
    /// (<see cref="PendingFile"/>), computing the CRC32 on the way, then stamps the file's mtime with the whole second
    /// that will be the name's timestamp. The file is gone if anything fails (including a dropped connection).
    /// </summary>
    private async ValueTask<ReceivedFile> ReceivePendingAsync(string directory, long size)
    {
        bool done = false;
        Count(C.TotalFileOpenCount);
        PendingFile file;
        try
        {
            file = PendingFile.Create(directory, _ctx.NextTempSequence());
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            throw StoreIoException.From(e, "creating the upload file");
        }

        try
        {
            Count(C.SuccessFileOpenCount);
            var crc = _uploadCrc ??= new Crc32();
            crc.Reset();
            await StreamBodyToFileAsync(file.Handle, 0, size, crc).ConfigureAwait(false);
            long timestamp = _ctx.Now;
            try
            {
                File.SetLastWriteTimeUtc(file.Handle, DateTime.UnixEpoch.AddSeconds(timestamp));
            }
            catch (IOException e)
            {
                throw StoreIoException.From(e, "stamping the upload file");
            }

            done = true;
            return new ReceivedFile(file, crc.GetCurrentHashAsUInt32(), timestamp);
        }
        finally
        {
            if (!done)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>Gives a received file its final name unless that is taken (false).</summary>
    private static bool Publish(ReceivedFile received, string finalPath)
    {
        try
        {
            return received.File.TryPublish(finalPath);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            throw StoreIoException.From(e, "naming the upload file");
        }
    }

    /// <summary>Removes a temporary file; a failure (the disk that just failed a write) is logged, not thrown over the first error.</summary>
    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("removing {Path} failed: {Message}", path, e.Message);
        }
    }

    /// <summary>
    /// Writes body bytes from the pipe to the file without an intermediate copy: the transport's buffers
    /// are left in the pipe until a batch of up to 256 KB (or the rest of the body) is there, then written
    /// with one gathering write. Memory use does not depend on the file size and small socket reads do not
    /// each cost a write call. The batch stays below the transport's read-buffer limit, so the pipe never
    /// pauses while we wait for it.
    /// </summary>
    private async ValueTask StreamBodyToFileAsync(SafeFileHandle handle, long fileOffset, long size, Crc32? crc)
    {
        long written = 0;
        _streamTouched = 0;
        while (written < size)
        {
            RefreshTimeout();
            long batch = Math.Min(size - written, WriteBatchSize);
            var result = await _input.ReadAsync(Token).ConfigureAwait(false);
            var input = result.Buffer;
            if (input.Length < batch)
            {
                // Every read is answered with AdvanceTo, also before throwing: a pending read would break the next one.
                _input.AdvanceTo(input.Start, input.End);
                if (result.IsCompleted)
                {
                    throw new EndOfStreamException($"connection closed with {size - written} file bytes outstanding");
                }

                continue;
            }

            var slice = input.Slice(0, batch);
            _streamTouched = written + batch;
            try
            {
                WriteToFile(handle, slice, fileOffset + written, crc);
            }
            catch (IOException e)
            {
                throw StoreIoException.From(e, "writing file data");
            }
            finally
            {
                // The bytes are consumed from the connection also when the write failed: the rest of the body is skipped
                // and the client gets the errno on a connection that stays usable.
                Remaining -= batch;
                _input.AdvanceTo(slice.End);
            }

            written += batch;
        }
    }

    private void WriteToFile(SafeFileHandle handle, in ReadOnlySequence<byte> data, long offset, Crc32? crc)
    {
        Count(C.TotalFileWriteCount);
        if (data.IsSingleSegment)
        {
            crc?.Append(data.FirstSpan);
            RandomAccess.Write(handle, data.FirstSpan, offset);
        }
        else if (data.Length <= SmallWriteCopyLimit)
        {
            // A small body split over two transport blocks: one copy is cheaper than the gathering
            // write's per-call pinning arrays.
            Span<byte> copy = stackalloc byte[SmallWriteCopyLimit];
            copy = copy[..(int)data.Length];
            data.CopyTo(copy);
            crc?.Append(copy);
            RandomAccess.Write(handle, copy, offset);
        }
        else
        {
            var segments = _writeSegments ??= new List<ReadOnlyMemory<byte>>(WriteBatchSize / 4096 + 2);
            foreach (var segment in data)
            {
                crc?.Append(segment.Span);
                segments.Add(segment);
            }

            try
            {
                RandomAccess.Write(handle, segments, offset);
            }
            finally
            {
                segments.Clear();
            }
        }

        Count(C.SuccessFileWriteCount);
    }

    /// <summary>
    /// Builds the final stock name (spec 9.2-9.5) and renames the received file to it, retrying with new
    /// random bits when the name is taken. Returns null (EBUSY) after 10 collisions.
    /// </summary>
    private string? PlaceUnderNewName(ReceivedFile received, int pathIndex, int high, int low, long fileSize, bool appender, string formattedExt)
    {
        for (int attempt = 0; attempt < NameRetries; attempt++)
        {
            long sizeField = FileNameCodec.MakeSizeField(fileSize, appender, trunk: false, Random.Shared.Next());
            string logicName = FileNameCodec.BuildLogicName(
                pathIndex, high, low, _ctx.SourceRaw, (int)received.Timestamp, sizeField, received.Crc32, formattedExt);
            string finalPath = Path.Combine(_ctx.Paths.SubdirPath(pathIndex, high, low), logicName[10..]);
            if (Publish(received, finalPath))
            {
                return logicName;
            }

            // Name collision: try again with new random bits.
        }

        return null;
    }
}
