using System.Buffers.Binary;
using System.Net;
using FastDfs.Protocol;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>
/// Storage-to-storage commands, the receiving side (spec 7): REPORT_SERVER_ID (9) and the SYNC_* family.
/// Every applied record is logged in lower case with the source's timestamp and raises the per-source
/// timestamp that SYNC_REPORT carries. Received files are written to <c>data/.cp&lt;seq&gt;.tmp</c>, stamped
/// and renamed into place, so a replica never exposes half a file.
/// </summary>
internal sealed partial class StorageSession
{
    private const int SyncFileFixedSize = 8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen;
    private const int SyncRangeFixedSize = 8 + 8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen;
    private const int SyncDeleteFixedSize = 4 + ProtocolConstants.GroupNameMaxLen;

    private string? _syncSourceId;
    private Sync.BinlogPosition _pendingAck;

    /// <summary>The connecting peer's address: attributes SYNC_* frames that come without REPORT_SERVER_ID.</summary>
    public IPAddress? RemoteAddress { get; init; }

    private ValueTask<byte> DispatchSyncAsync(PacketHeader request) => request.Cmd switch
    {
        FdfsCommand.ReportServerId => ReportServerIdAsync(request),
        FdfsCommand.SyncCreateFile => SyncWholeFileAsync(request, update: false),
        FdfsCommand.SyncUpdateFile => SyncWholeFileAsync(request, update: true),
        FdfsCommand.SyncDeleteFile => SyncDeleteAsync(request),
        FdfsCommand.SyncAppendFile => SyncRangeAsync(request, append: true),
        FdfsCommand.SyncModifyFile => SyncRangeAsync(request, append: false),
        FdfsCommand.SyncTruncateFile => SyncTruncateAsync(request),
        FdfsCommand.SyncCreateLink => SyncLinkOrRenameAsync(request, rename: false),
        FdfsCommand.SyncRenameFile => SyncLinkOrRenameAsync(request, rename: true),
        _ => DispatchTrunkAsync(request),
    };

    private async ValueTask<byte> ReportServerIdAsync(PacketHeader request)
    {
        if (request.BodyLength != ProtocolConstants.StorageIdMaxSize)
        {
            throw new ProtocolException($"REPORT_SERVER_ID of {request.BodyLength} bytes");
        }

        var body = await ReadBodyAsync(ProtocolConstants.StorageIdMaxSize).ConfigureAwait(false);
        string id = FixedString.Read(body.Span);
        if (id.Length == 0)
        {
            throw new ProtocolException("empty storage id");
        }

        _syncSourceId = id;
        return ReplyEmpty();
    }

    /// <summary>SYNC_CREATE_FILE (16) / SYNC_UPDATE_FILE (18), spec 7.2.</summary>
    private async ValueTask<byte> SyncWholeFileAsync(PacketHeader request, bool update)
    {
        if (request.BodyLength < SyncFileFixedSize)
        {
            throw new ProtocolException("sync file body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(SyncFileFixedSize).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span);
        long fileSize = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[8..]);
        long timestamp = BinaryPrimitives.ReadUInt32BigEndian(fixedPart.Span[16..]);
        CheckGroup(fixedPart.Span.Slice(20, ProtocolConstants.GroupNameMaxLen));
        bool withContent = request.Status != Errno.EEXIST;
        long contentLength = withContent ? fileSize : 0;
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength >= MaxNameLength || fileSize < 0 ||
            request.BodyLength != SyncFileFixedSize + nameLength + contentLength)
        {
            throw new ProtocolException("sync file lengths do not match the body");
        }

        var target = Resolve(await ReadNameAsync(nameLength).ConfigureAwait(false));
        char op = update ? 'u' : 'c';
        Count(C.TotalSyncInBytes, contentLength);
        if (!withContent)
        {
            // The sender knows we have it: log the record so our binlog is complete, and confirm.
            AppliedFromPeer(timestamp, op, target.LogicName, null);
            return Errno.EEXIST;
        }

        if (target.LogicName.Length == ProtocolConstants.TrunkLogicFilenameLength && _ctx.Trunk.IsTrunkName(target.LogicName, out _))
        {
            return await SyncTrunkSlotAsync(target.LogicName, fileSize, timestamp, op).ConfigureAwait(false);
        }

        var existing = new FileInfo(target.FullPath);
        if (Directory.Exists(target.FullPath) ||
            (!update && existing.Exists && existing.LinkTarget is null && existing.Length == fileSize))
        {
            // Already there (a resend after a crash or a lost reply): the content is skipped by the caller.
            AppliedFromPeer(timestamp, op, target.LogicName, null);
            return Errno.EEXIST;
        }

        string dataDirectory = _ctx.Paths[target.Stored.StorePathIndex].DataDirectory;
        string tempPath = Path.Combine(dataDirectory, ".cp" + _ctx.NextTempSequence() + ".tmp");
        bool placed = false;
        try
        {
            using (var handle = File.OpenHandle(tempPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await StreamBodyToFileAsync(handle, 0, fileSize, crc: null).ConfigureAwait(false);
                File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(timestamp));
            }

            if (existing.LinkTarget is not null)
            {
                File.Delete(target.FullPath);
            }

            File.Move(tempPath, target.FullPath, overwrite: true);
            placed = true;
        }
        finally
        {
            if (!placed)
            {
                File.Delete(tempPath);
            }
        }

        Count(C.SuccessSyncInBytes, fileSize);
        AppliedFromPeer(timestamp, op, target.LogicName, null);
        return ReplyEmpty();
    }

    /// <summary>SYNC_DELETE_FILE (17), spec 7.3: ENOENT when already gone (nothing logged).</summary>
    private async ValueTask<byte> SyncDeleteAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, SyncDeleteFixedSize + ProtocolConstants.LogicFilePathLen + 1).ConfigureAwait(false);
        long timestamp = BinaryPrimitives.ReadUInt32BigEndian(body.Span);
        CheckGroup(body.Span.Slice(4, ProtocolConstants.GroupNameMaxLen));
        var target = Resolve(FixedString.ReadCString(body.Span[SyncDeleteFixedSize..]));
        if (_ctx.Trunk.IsTrunkName(target.LogicName, out _))
        {
            if (!_ctx.Trunk.DeleteReplica(target.LogicName))
            {
                return Errno.ENOENT;
            }

            AppliedFromPeer(timestamp, 'd', target.LogicName, null);
            return ReplyEmpty();
        }

        if (!EntryExists(target.FullPath, out bool isDirectory, out _))
        {
            return Errno.ENOENT;
        }

        if (isDirectory)
        {
            throw new ProtocolException("sync delete target is a directory");
        }

        File.Delete(target.FullPath);
        AppliedFromPeer(timestamp, 'd', target.LogicName, null);
        return ReplyEmpty();
    }

    /// <summary>SYNC_APPEND_FILE (25) / SYNC_MODIFY_FILE (35), spec 7.4.</summary>
    private async ValueTask<byte> SyncRangeAsync(PacketHeader request, bool append)
    {
        if (request.BodyLength < SyncRangeFixedSize)
        {
            throw new ProtocolException("sync append/modify body shorter than its fixed part");
        }

        var fixedPart = await ReadBodyAsync(SyncRangeFixedSize).ConfigureAwait(false);
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span);
        long offset = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[8..]);
        long length = BinaryPrimitives.ReadInt64BigEndian(fixedPart.Span[16..]);
        long timestamp = BinaryPrimitives.ReadUInt32BigEndian(fixedPart.Span[24..]);
        CheckGroup(fixedPart.Span.Slice(28, ProtocolConstants.GroupNameMaxLen));
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength >= MaxNameLength || offset < 0 || length < 0 ||
            request.BodyLength != SyncRangeFixedSize + nameLength + length)
        {
            throw new ProtocolException("sync append/modify lengths do not match the body");
        }

        var target = Resolve(await ReadNameAsync(nameLength).ConfigureAwait(false));
        Count(C.TotalSyncInBytes, length);
        var info = new FileInfo(target.FullPath);
        if (!info.Exists || info.LinkTarget is not null)
        {
            return Directory.Exists(target.FullPath) || info.LinkTarget is not null ? Errno.EEXIST : Errno.ENOENT;
        }

        long current = info.Length;
        bool applicable = append ? current == offset : current >= offset;
        if (!applicable)
        {
            // Missing bytes: the sender resends the whole file; otherwise the change is already in.
            return current < offset + length ? Errno.ENOENT : Errno.EEXIST;
        }

        using (var handle = OpenForWrite(target.FullPath))
        {
            await StreamBodyToFileAsync(handle, offset, length, crc: null).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(timestamp));
        }

        Count(C.SuccessSyncInBytes, length);
        AppliedFromPeer(timestamp, append ? 'a' : 'm', target.LogicName, $"{offset} {length}");
        return ReplyEmpty();
    }

    /// <summary>SYNC_TRUNCATE_FILE (37), spec 7.5.</summary>
    private async ValueTask<byte> SyncTruncateAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, SyncRangeFixedSize + ProtocolConstants.LogicFilePathLen + 1).ConfigureAwait(false);
        var span = body.Span;
        long nameLength = BinaryPrimitives.ReadInt64BigEndian(span);
        long oldSize = BinaryPrimitives.ReadInt64BigEndian(span[8..]);
        long newSize = BinaryPrimitives.ReadInt64BigEndian(span[16..]);
        long timestamp = BinaryPrimitives.ReadUInt32BigEndian(span[24..]);
        CheckGroup(span.Slice(28, ProtocolConstants.GroupNameMaxLen));
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength != request.BodyLength - SyncRangeFixedSize ||
            oldSize < 0 || newSize < 0)
        {
            throw new ProtocolException("sync truncate lengths do not match the body");
        }

        var target = Resolve(FixedString.ReadCString(span[SyncRangeFixedSize..]));
        var info = new FileInfo(target.FullPath);
        if (!info.Exists && !Directory.Exists(target.FullPath) && info.LinkTarget is null)
        {
            return Errno.ENOENT;
        }

        if (!info.Exists || info.LinkTarget is not null || info.Length != oldSize)
        {
            return Errno.EEXIST;
        }

        using (var stream = new FileStream(target.FullPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1))
        {
            stream.SetLength(newSize);
            stream.Flush();
            File.SetLastWriteTimeUtc(stream.SafeFileHandle, DateTime.UnixEpoch.AddSeconds(timestamp));
        }

        AppliedFromPeer(timestamp, 't', target.LogicName, $"{oldSize} {newSize}");
        return ReplyEmpty();
    }

    /// <summary>SYNC_CREATE_LINK (19) / SYNC_RENAME_FILE (40), spec 7.6-7.7: first name, second name.</summary>
    private async ValueTask<byte> SyncLinkOrRenameAsync(PacketHeader request, bool rename)
    {
        var body = await ReadSmallBodyAsync(request, SyncFileFixedSize + 2).ConfigureAwait(false);
        var span = body.Span;
        long firstLength = BinaryPrimitives.ReadInt64BigEndian(span);
        long secondLength = BinaryPrimitives.ReadInt64BigEndian(span[8..]);
        long timestamp = BinaryPrimitives.ReadUInt32BigEndian(span[16..]);
        CheckGroup(span.Slice(20, ProtocolConstants.GroupNameMaxLen));
        if (firstLength <= ProtocolConstants.LogicFilePathLen || secondLength <= ProtocolConstants.LogicFilePathLen ||
            firstLength >= MaxNameLength || secondLength >= MaxNameLength ||
            request.BodyLength != SyncFileFixedSize + firstLength + secondLength)
        {
            throw new ProtocolException("sync link/rename lengths do not match the body");
        }

        var first = Resolve(FixedString.ReadCString(span.Slice(SyncFileFixedSize, (int)firstLength)));
        var second = Resolve(FixedString.ReadCString(span.Slice(SyncFileFixedSize + (int)firstLength, (int)secondLength)));
        if (EntryExists(first.FullPath, out _, out _))
        {
            return Errno.EEXIST;
        }

        if (!EntryExists(second.FullPath, out bool secondIsDirectory, out _) || secondIsDirectory)
        {
            return Errno.ENOENT;
        }

        if (rename)
        {
            if (!NoReplaceRename.TryMove(second.FullPath, first.FullPath))
            {
                return Errno.EEXIST;
            }

            AppliedFromPeer(timestamp, 'r', first.LogicName, second.LogicName);
        }
        else
        {
            File.CreateSymbolicLink(first.FullPath, second.FullPath);
            AppliedFromPeer(timestamp, 'l', first.LogicName, second.LogicName);
        }

        return ReplyEmpty();
    }

    /// <summary>Logs a record that originates here and remembers it for the sync_ack_replicas wait.</summary>
    private void LogSource(long timestamp, char op, string logicName, string? extra = null) =>
        _pendingAck = _ctx.Binlog.Write(timestamp, op, logicName, extra);

    /// <summary>
    /// With sync_ack_replicas = N &gt; 1: holds the reply until N - 1 peers confirmed this request's records,
    /// or answers ETIMEDOUT after sync_ack_timeout (the change stays stored here and still replicates).
    /// </summary>
    private async ValueTask<byte> AwaitReplicasAsync()
    {
        var position = _pendingAck;
        _pendingAck = default;
        if (position == default || _ctx.Config.SyncAckReplicas <= 1)
        {
            return Errno.Ok;
        }

        return await _ctx.Replication.AwaitReplicasAsync(position, Token).ConfigureAwait(false) ? Errno.Ok : Errno.ETIMEDOUT;
    }

    /// <summary>Logs the replica record (lower case, source timestamp) and raises the source's sync timestamp.</summary>
    private void AppliedFromPeer(long timestamp, char op, string logicName, string? extra)
    {
        _ctx.Binlog.Write(timestamp, op, logicName, extra);
        _ctx.Counters[C.LastSyncUpdate] = StorageContext.Now;
        string? source = _syncSourceId ?? _ctx.Replication.PeerIdByAddress(RemoteAddress);
        if (source is not null)
        {
            _ctx.Replication.RecordApplied(source, timestamp);
        }
    }
}
