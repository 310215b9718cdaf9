using Microsoft.Win32.SafeHandles;
using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Metadata;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using Microsoft.Extensions.Logging;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>SET_METADATA (13) and GET_METADATA (15): spec 5.5, 5.6 and 10 (<c>&lt;name&gt;-m</c> files).</summary>
internal sealed partial class StorageSession
{
    private const string MetadataSuffix = "-m";

    private async ValueTask<byte> SetMetadataAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, SetMetadataRequest.FixedSize + 1).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(body.Span);
        long metaLength = BinaryPrimitives.ReadInt64BigEndian(body.Span[8..]);
        if (nameLength <= 0 || nameLength >= 128 || metaLength < 0 ||
            request.BodyLength != SetMetadataRequest.FixedSize + nameLength + metaLength)
        {
            throw new ProtocolException("SET_METADATA lengths do not match the body");
        }

        byte op = body.Span[16];
        if (op != (byte)MetadataOp.Overwrite && op != (byte)MetadataOp.Merge)
        {
            throw new ProtocolException($"SET_METADATA op flag 0x{op:x2}");
        }

        string name = FixedString.ReadCString(body.Span.Slice(SetMetadataRequest.FixedSize, (int)nameLength));
        CheckGroupOfStoredFile(body.Span.Slice(17, ProtocolConstants.GroupNameMaxLen), name);
        var target = Resolve(name);
        var requested = MetadataCodec.Parse(body.Span.Slice(SetMetadataRequest.FixedSize + (int)nameLength, (int)metaLength));
        Count(C.TotalSetMetaCount);
        if (!StoredFileExists(target.LogicName, target.FullPath, out bool isDirectory))
        {
            return Errno.ENOENT;
        }

        if (isDirectory)
        {
            throw new ProtocolException("metadata target is not a regular file");
        }

        if (FileNameCodec.TryDecode(target.LogicName, out var nameInfo))
        {
            EnsureSingleWriter(target.LogicName, nameInfo);
        }

        string metaPath = target.FullPath + MetadataSuffix;
        string metaName = target.LogicName + MetadataSuffix;
        long now = _ctx.Now;
        // A merge reads, merges and writes the -m file: two at once would lose one's items.
        using (await _ctx.FileLocks.AcquireAsync(metaName, Token).ConfigureAwait(false))
        {
            bool exists = File.Exists(metaPath);
            if (requested.Count == 0)
            {
                // 'O' with nothing deletes the metadata; 'M' with nothing changes nothing.
                if (op == (byte)MetadataOp.Overwrite && exists)
                {
                    File.Delete(metaPath);
                    LogSource(now, BinlogOp.Delete, metaName);
                }
            }
            else
            {
                List<MetadataItem> items = op == (byte)MetadataOp.Merge && exists
                    ? MetadataCodec.Merge(MetadataCodec.Parse(await File.ReadAllBytesAsync(metaPath, Token).ConfigureAwait(false)), requested)
                    : MetadataCodec.Sort(requested);
                byte[] packed = MetadataCodec.Pack(items);
                if (packed.Length > _maxInMemoryBody)
                {
                    // Merges add up: a file's metadata stays within what one GET_METADATA answer can carry.
                    _logger.LogDebug("SET_METADATA {Name}: {Bytes} bytes of metadata, at most {Max}", target.LogicName, packed.Length, _maxInMemoryBody);
                    return Errno.E2BIG;
                }

                string temp = await WriteMetadataTempAsync(metaPath, packed, target.LogicName).ConfigureAwait(false);
                ReplaceMetadataFile(temp, metaPath, target.LogicName);
                LogSource(now, exists ? BinlogOp.Update : BinlogOp.Create, metaName);
            }
        }

        Count(C.SuccessSetMetaCount);
        _ctx.Counters[C.LastSourceUpdate] = now;
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    /// <summary>Writes packed metadata to a hidden temporary file beside <paramref name="metaPath"/> (gone if that fails).</summary>
    private async ValueTask<string> WriteMetadataTempAsync(string metaPath, byte[] packed, string logicName)
    {
        // Hidden like an upload's temporary file: only such names are swept after a crash (a user's file may end in -m.tmp).
        string temp = Path.Combine(Path.GetDirectoryName(metaPath)!, $".{Path.GetFileName(metaPath)}.{_ctx.NextTempSequence():x}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, packed, Token).ConfigureAwait(false);
            return temp;
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            TryDelete(temp);
            throw Store.StoreIoException.From(e, $"writing the metadata of {logicName}");
        }
    }

    /// <summary>Renames a written metadata temporary file over the <c>-m</c> file (the temporary file is gone either way).</summary>
    private void ReplaceMetadataFile(string temp, string metaPath, string logicName)
    {
        try
        {
            File.Move(temp, metaPath, overwrite: true);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            TryDelete(temp);
            throw Store.StoreIoException.From(e, $"writing the metadata of {logicName}");
        }
    }

    private async ValueTask<byte> GetMetadataAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 1).ConfigureAwait(false);
        string name = FixedString.ReadCString(body.Span[ProtocolConstants.GroupNameMaxLen..]);
        CheckGroupOfStoredFile(body.Span[..ProtocolConstants.GroupNameMaxLen], name);
        var target = Resolve(name);
        Count(C.TotalGetMetaCount);
        string metaPath = target.FullPath + MetadataSuffix;
        SafeFileHandle? large = null;
        byte[] content;
        try
        {
            // Inside the path's disk gate: the stats and the read; a large (stock-made) file is sent after it, with sendfile.
            using (await EnterDiskAsync(target.Stored.StorePathIndex).ConfigureAwait(false))
            {
                if (Directory.Exists(target.FullPath))
                {
                    return Errno.EISDIR;
                }

                if (!StoredFileExists(target.LogicName, target.FullPath, out _))
                {
                    return Errno.ENOENT;
                }

                if (Directory.Exists(metaPath))
                {
                    return Errno.EISDIR;
                }

                if (!File.Exists(metaPath))
                {
                    return Errno.ENOENT;
                }

                if (new FileInfo(metaPath).Length > _maxInMemoryBody)
                {
                    large = File.OpenHandle(metaPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
                    content = [];
                }
                else
                {
                    content = File.ReadAllBytes(metaPath);
                }
            }

            if (large is not null)
            {
                // Larger than we let metadata grow (a stock storage's file): sent as it is, from the disk.
                long count = RandomAccess.GetLength(large);
                _output.WriteResponseHeader(count);
                _replyBodyLength = count;
                await _connection.SendFileAsync(large, 0, count, _frames.Progress, Token).ConfigureAwait(false);
                Count(C.SuccessGetMetaCount);
                return Errno.Ok;
            }
        }
        finally
        {
            large?.Dispose();
        }

        // Stock -m files may carry a NUL and stale bytes after the records: readers stop at the NUL.
        int nul = Array.IndexOf(content, (byte)0);
        int length = nul >= 0 ? nul : content.Length;
        _output.WriteResponse(content.AsSpan(0, length));
        _replyBodyLength = length;
        Count(C.SuccessGetMetaCount);
        return Errno.Ok;
    }
}
