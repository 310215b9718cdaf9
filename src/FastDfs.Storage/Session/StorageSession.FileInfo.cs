using System.Buffers;
using System.IO.Hashing;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>QUERY_FILE_INFO (22), spec 5.7.</summary>
internal sealed partial class StorageSession
{
    private const byte FileInfoNoCrc = 1;

    private async ValueTask<byte> QueryFileInfoAsync(PacketHeader request)
    {
        if (request.BodyLength >= ProtocolConstants.GroupNameMaxLen + 132)
        {
            throw new ProtocolException("file info name too long");
        }

        var body = await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 1).ConfigureAwait(false);
        string name = FixedString.ReadCString(body.Span[ProtocolConstants.GroupNameMaxLen..]);
        CheckGroupOfStoredFile(body.Span[..ProtocolConstants.GroupNameMaxLen], name);
        var target = Resolve(name);
        if (_ctx.Trunk.IsTrunkName(target.LogicName, out var trunkInfo))
        {
            return QueryTrunkFileInfo(target.LogicName, trunkInfo);
        }

        long size, mtime;
        FileNameInfo info;
        // Inside the path's disk gate: the stat. A checksum of a whole appender file reads on outside it (a long read is not
        // a disk that stopped answering).
        using (await EnterDiskAsync(target.Stored.StorePathIndex).ConfigureAwait(false))
        {
            var file = new FileInfo(target.FullPath);
            if (!file.Exists)
            {
                return Directory.Exists(target.FullPath) ? throw new ProtocolException("file info target is a directory") : Errno.ENOENT;
            }

            if (target.LogicName.Length < ProtocolConstants.LogicFilePathLen + ProtocolConstants.FilenameBase64Length ||
                !FileNameCodec.TryDecode(target.LogicName, out info))
            {
                throw new ProtocolException("file info name too short");
            }

            size = file.Length;
            mtime = new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeSeconds();
        }

        uint crc = info.Crc32;
        if (info.IsAppender || info.IsSlave)
        {
            crc = (request.Status & FileInfoNoCrc) != 0 ? 0 : await ComputeCrc32Async(target.FullPath).ConfigureAwait(false);
        }

        string sourceIp = info.SourceIsStorageId ? string.Empty : info.Source;
        int ipSize = _ctx.Parameters.ResponseIpAddrSize;
        var response = new FileInfoResponse(size, mtime, crc, sourceIp);
        int length = FileInfoResponse.Size(ipSize);
        var span = _output.GetSpan(ProtocolConstants.HeaderSize + length);
        PacketHeader.Response(length).WriteTo(span);
        response.Write(span[ProtocolConstants.HeaderSize..], ipSize);
        _output.Advance(ProtocolConstants.HeaderSize + length);
        _replyBodyLength = length;
        return Errno.Ok;
    }

    /// <summary>CRC32 of a whole file, read with one pooled buffer.</summary>
    private async ValueTask<uint> ComputeCrc32Async(string fullPath)
    {
        var crc = new Crc32();
        var buffer = ArrayPool<byte>.Shared.Rent(DownloadChunkSize);
        try
        {
            Count(C.TotalFileOpenCount);
            using var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Count(C.SuccessFileOpenCount);
            long position = 0;
            while (true)
            {
                // No refresh of the deadline here: the client waits for this reply within its network_timeout, so a
                // checksum that takes longer (a huge appender file) is cut off rather than computed for nobody.
                Count(C.TotalFileReadCount);
                int read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, DownloadChunkSize), position, Token).ConfigureAwait(false);
                Count(C.SuccessFileReadCount);
                if (read == 0)
                {
                    return crc.GetCurrentHashAsUInt32();
                }

                crc.Append(buffer.AsSpan(0, read));
                position += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
