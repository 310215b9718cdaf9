using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>
/// IMPORT_FILE (253, <see cref="ImportFile"/>): a file of another group stored under its logic name unchanged, the storage
/// side of a move between groups (<c>fdfs rebalance</c>, docs/rebalancing.md). The file is received as an upload is (a
/// pending file, the CRC32 computed on the way) and logged as this storage's own creation, so the group's members
/// replicate it as any upload; requests naming the source group then find it (<see cref="CheckGroupOfStoredFile"/>).
/// Counted in the stats as an upload.
/// </summary>
internal sealed partial class StorageSession
{
    private async ValueTask<byte> ImportFileAsync(PacketHeader request)
    {
        if (request.BodyLength < ImportFile.FixedSize)
        {
            throw new ProtocolException("IMPORT_FILE body shorter than its fixed part");
        }

        // Writes any file under any name: as LIST_FILES, the trackers, the group's members and admin_hosts only. The body
        // is skipped after the reply (the connection closed when it is too large to skip).
        if (!CallerMayAdminister())
        {
            return Errno.EPERM;
        }

        var import = ImportFile.Parse((await ReadBodyAsync(ImportFile.FixedSize).ConfigureAwait(false)).Span, request.BodyLength);
        CheckGroup(import.Group);
        if (import.SourceGroup == _ctx.GroupName)
        {
            throw new ProtocolException("IMPORT_FILE from our own group");
        }

        string logicName = Encoding.ASCII.GetString((await ReadBodyAsync(import.NameLength).ConfigureAwait(false)).Span);
        _accessName = logicName;
        var target = ResolveImportName(logicName);
        byte[]? metadata = null;
        if (import.MetadataLength > 0)
        {
            // Stored as SET_METADATA with 'O' stores it: parsed, sorted, packed.
            var items = MetadataCodec.Parse((await ReadBodyAsync(import.MetadataLength).ConfigureAwait(false)).Span);
            metadata = items.Count == 0 ? null : MetadataCodec.Pack(MetadataCodec.Sort(items));
            if (metadata?.Length > _maxInMemoryBody)
            {
                return Errno.E2BIG; // what SET_METADATA refuses: GET_METADATA could not answer it
            }
        }

        Count(C.TotalUploadCount);
        Count(C.TotalUploadBytes, import.FileSize);
        var path = _ctx.Paths[target.Stored.StorePathIndex];
        if (!path.Writable)
        {
            return path.ReadOnly ? StoreIoException.EROFS : Errno.EAGAIN; // out of service for now (a failed or slow disk)
        }

        if (!_ctx.Paths.HasSpace(path, import.FileSize, _ctx.Parameters.ReservedSpace))
        {
            return Errno.ENOSPC;
        }

        long timestamp;
        bool created;
        bool metadataChanged = false;
        // The file is closed before the replicas are awaited, as an upload's.
        using (var received = await ReceivePendingAsync(Path.GetDirectoryName(target.FullPath)!, import.FileSize).ConfigureAwait(false))
        {
            timestamp = received.Timestamp;
            if (received.Crc32 != import.Crc32)
            {
                _logger.LogWarning("IMPORT_FILE {Name} from {Group}: content CRC32 {Actual:x8}, the request says {Expected:x8}: not stored",
                    logicName, import.SourceGroup, received.Crc32, import.Crc32);
                return Errno.EIO;
            }

            string metaPath = target.FullPath + MetadataSuffix;
            // The metadata's bytes are written before the file is published: a full disk then leaves nothing behind.
            string? metaTemp = metadata is null ? null : await WriteMetadataTempAsync(metaPath, metadata, logicName).ConfigureAwait(false);
            try
            {
                using (await _ctx.FileLocks.AcquireAsync(logicName, Token).ConfigureAwait(false))
                using (await _ctx.FileLocks.AcquireAsync(logicName + MetadataSuffix, Token).ConfigureAwait(false))
                {
                    created = Publish(received, target.FullPath);
                    if (created)
                    {
                        LogSource(timestamp, BinlogOp.Create, logicName);
                    }
                    else if (!await HoldsSameContentAsync(target.FullPath, import.FileSize, import.Crc32).ConfigureAwait(false))
                    {
                        return Errno.EEXIST;
                    }

                    if (metaTemp is not null && (created || !await MetadataEqualsAsync(metaPath, metadata!).ConfigureAwait(false)))
                    {
                        bool existed = File.Exists(metaPath);
                        ReplaceMetadataFile(metaTemp, metaPath, logicName);
                        metaTemp = null;
                        LogSource(timestamp, existed ? BinlogOp.Update : BinlogOp.Create, logicName + MetadataSuffix);
                        metadataChanged = true;
                    }
                }
            }
            finally
            {
                if (metaTemp is not null)
                {
                    TryDelete(metaTemp);
                }
            }
        }

        Count(C.SuccessUploadCount);
        Count(C.SuccessUploadBytes, import.FileSize);
        if (created || metadataChanged)
        {
            _ctx.Counters[C.LastSourceUpdate] = timestamp;
        }

        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    /// <summary>
    /// Where an imported name goes: a FastDFS name of one of our store paths and existing sub-directories, stored as a
    /// file of its own (not a trunk slot, not a <c>-m</c> metadata file), under the length every other command accepts.
    /// Anything else is EINVAL (the connection closes, as after any invalid request).
    /// </summary>
    private (string LogicName, StoredFilePath Stored, string FullPath) ResolveImportName(string logicName)
    {
        if (logicName.Length >= MaxNameLength || !StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored) ||
            !FileNameCodec.IsValidExtOrPrefix(stored.FileName) || !FileNameCodec.TryDecode(logicName, out _) ||
            _ctx.Trunk.IsTrunkName(logicName, out _) || logicName.EndsWith(MetadataSuffix, StringComparison.Ordinal))
        {
            throw new ProtocolException($"IMPORT_FILE: '{logicName}' is not a name this storage holds as a file");
        }

        string fullPath = _ctx.Paths.FullPath(stored);
        if (!Directory.Exists(Path.GetDirectoryName(fullPath)))
        {
            throw new ProtocolException($"IMPORT_FILE: no sub-directory {stored.SubHigh}/{stored.SubLow} in store path {stored.StorePathIndex}");
        }

        return (logicName, stored, fullPath);
    }

    /// <summary>Whether the file already under the name has the imported size and CRC32 (a move repeated).</summary>
    private async ValueTask<bool> HoldsSameContentAsync(string fullPath, long size, uint crc32)
    {
        if (Directory.Exists(fullPath))
        {
            return false;
        }

        var file = new FileInfo(fullPath);
        if (file.LinkTarget is not null)
        {
            // A slave stored as a link: its content is the target's.
            file = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
        }

        if (!file.Exists || file.Length != size)
        {
            return false;
        }

        return await ComputeCrc32Async(file.FullName).ConfigureAwait(false) == crc32;
    }

    /// <summary>Whether the stored metadata is <paramref name="packed"/> (compared in SET_METADATA's sorted, packed form).</summary>
    private async ValueTask<bool> MetadataEqualsAsync(string metaPath, byte[] packed)
    {
        if (!File.Exists(metaPath))
        {
            return false;
        }

        byte[] stored = await File.ReadAllBytesAsync(metaPath, Token).ConfigureAwait(false);
        return MetadataCodec.Pack(MetadataCodec.Sort(MetadataCodec.Parse(stored))).AsSpan().SequenceEqual(packed);
    }
}
