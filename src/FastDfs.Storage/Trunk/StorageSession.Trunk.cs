using System.IO.Hashing;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>
/// The client commands on trunk-stored files (spec 5.1, 5.3, 5.4, 5.7, 9.7, 13): uploads into slots, and
/// download, delete and file info of 60-character trunk names. The other handlers route here in one line each.
/// </summary>
internal sealed partial class StorageSession
{
    /// <summary>
    /// Stores an UPLOAD_FILE body in a trunk slot. Returns null, having read nothing, when no slot can be had
    /// now (the caller stores a normal file). The name's timestamp is the request's arrival time (spec 9.2).
    /// </summary>
    private async ValueTask<byte?> TryUploadToTrunkAsync(int pathIndex, long fileSize, string ext)
    {
        long arrival = _ctx.Now;
        var trunk = _ctx.Trunk;
        var upload = await trunk.BeginUploadAsync(pathIndex, fileSize, Token).ConfigureAwait(false);
        if (upload is null)
        {
            return null;
        }

        string logicName;
        try
        {
            Count(C.TotalFileOpenCount);
            Count(C.SuccessFileOpenCount);
            var crc = new Crc32();
            await StreamBodyToFileAsync(upload.Handle, upload.DataOffset, fileSize, crc).ConfigureAwait(false);
            string formattedExt = FileNameCodec.FormatExtension(ext, Random.Shared);
            logicName = await trunk.CompleteUploadAsync(upload, _ctx.SourceRaw, (int)arrival, crc.GetCurrentHashAsUInt32(), formattedExt, Token).ConfigureAwait(false);
        }
        catch
        {
            await trunk.AbortUploadAsync(upload, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        LogSource(arrival, BinlogOp.Create, logicName);
        CompleteUpload(fileSize, arrival);
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        WriteStoredFileResponse(logicName);
        return Errno.Ok;
    }

    /// <summary>DOWNLOAD_FILE of a trunk-stored file: the range is read from slot offset + 24.</summary>
    private async ValueTask<byte> DownloadTrunkAsync(string logicName, long offset, long length)
    {
        Count(C.TotalDownloadCount);
        using var view = _ctx.Trunk.Open(logicName);
        if (view is null)
        {
            return Errno.ENOENT;
        }

        long size = view.FileSize;
        if (offset > size || (offset == size && size != 0))
        {
            throw new ProtocolException($"download offset {offset} beyond size {size}");
        }

        long count = size - offset;
        if (length > 0 && length < count)
        {
            count = length;
        }

        await SendFileRangeAsync(view.Handle, view.DataOffset + offset, count, logicName).ConfigureAwait(false);
        return Errno.Ok;
    }

    /// <summary>DELETE_FILE of a trunk-stored file: zero the slot header, free the slot, then the metadata file.</summary>
    private async ValueTask<byte> DeleteTrunkAsync(string logicName, string fullPath)
    {
        Count(C.TotalDeleteCount);
        if (!await _ctx.Trunk.DeleteAsync(logicName, Token).ConfigureAwait(false))
        {
            return Errno.ENOENT;
        }

        long now = _ctx.Now;
        LogSource(now, BinlogOp.Delete, logicName);
        string metaPath = fullPath + MetadataSuffix;
        using (await _ctx.FileLocks.AcquireAsync(logicName + MetadataSuffix, Token).ConfigureAwait(false))
        {
            if (File.Exists(metaPath))
            {
                File.Delete(metaPath);
                LogSource(now, BinlogOp.Delete, logicName + MetadataSuffix);
            }
        }

        Count(C.SuccessDeleteCount);
        _ctx.Counters[C.LastSourceUpdate] = now;
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    /// <summary>QUERY_FILE_INFO of a trunk-stored file: size and mtime from the slot header, crc32 from the name.</summary>
    private byte QueryTrunkFileInfo(string logicName, FileNameInfo info)
    {
        long size, mtime;
        using (var view = _ctx.Trunk.Open(logicName))
        {
            if (view is null)
            {
                return Errno.ENOENT;
            }

            size = view.Header.FileSize;
            mtime = view.Header.Mtime;
        }

        string sourceIp = info.SourceIsStorageId ? string.Empty : info.Source;
        int ipSize = _ctx.Parameters.ResponseIpAddrSize;
        var response = new FileInfoResponse(size, mtime, info.Crc32, sourceIp);
        int length = FileInfoResponse.Size(ipSize);
        var span = _output.GetSpan(ProtocolConstants.HeaderSize + length);
        PacketHeader.Response(length).WriteTo(span);
        response.Write(span[ProtocolConstants.HeaderSize..], ipSize);
        _output.Advance(ProtocolConstants.HeaderSize + length);
        return Errno.Ok;
    }

    /// <summary>
    /// Whether the data file behind a logic name exists: a trunk name exists while its slot header matches
    /// (its metadata and slaves are ordinary files next to where the name points, as in stock).
    /// </summary>
    private bool StoredFileExists(string logicName, string fullPath, out bool isDirectory)
    {
        if (_ctx.Trunk.IsTrunkName(logicName, out _))
        {
            isDirectory = false;
            using var view = _ctx.Trunk.Open(logicName);
            return view is not null;
        }

        return EntryExists(fullPath, out isDirectory, out _);
    }
}
