using System.Buffers.Binary;
using System.Net;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
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
    private bool _callerIsMember;
    private bool _nonMemberLogged;

    /// <summary>The source said it sends a refused replica again (CHECKED_REPLICATION): damaged replicas are refused.</summary>
    private bool _senderResends;
    private Sync.BinlogPosition _pendingAckStart;
    private Sync.BinlogPosition _pendingAckEnd;

    /// <summary>The connecting peer's address: attributes SYNC_* frames that come without REPORT_SERVER_ID.</summary>
    public IPAddress? RemoteAddress { get; init; }

    private ValueTask<byte> DispatchSyncAsync(PacketHeader request)
    {
        bool recoveryRead = request.Cmd is FdfsCommand.FetchOnePathBinlog || request.Cmd == Protocol.Messages.FetchFilesRequest.Command;
        if (recoveryRead && !CallerIsGroupMember())
        {
            return RecoveryReadForRecoveringMemberAsync(request);
        }

        bool membersOnly = ChangesStoredData(request.Cmd) || recoveryRead;
        if (membersOnly && !CallerIsGroupMember())
        {
            return new ValueTask<byte>(RefuseNonMember(request));
        }

        if (membersOnly && PeerProofMissing(request))
        {
            return new ValueTask<byte>(Errno.EPERM);
        }

        return DispatchMemberAsync(request);
    }

    /// <summary>
    /// The storage-to-storage commands that change stored files or trunk space, or attribute what follows: only members of
    /// the group may send them (a stranger could otherwise rewrite any file, free a live trunk slot or forge sync
    /// timestamps). TRUNK_GET_BINLOG_SIZE only reads, and the trackers ask it during trunk server elections.
    /// </summary>
    private static bool ChangesStoredData(FdfsCommand command) => command is
        FdfsCommand.ReportServerId or FdfsCommand.SyncCreateFile or FdfsCommand.SyncUpdateFile or FdfsCommand.SyncDeleteFile or
        FdfsCommand.SyncAppendFile or FdfsCommand.SyncModifyFile or FdfsCommand.SyncTruncateFile or FdfsCommand.SyncCreateLink or
        FdfsCommand.SyncRenameFile or FdfsCommand.TrunkAllocSpace or FdfsCommand.TrunkAllocConfirm or FdfsCommand.TrunkFreeSpace or
        FdfsCommand.TrunkSyncBinlog or FdfsCommand.TrunkDeleteBinlogMarks or FdfsCommand.TrunkTruncateBinlogFile ||
        command == CheckedReplication.Command;

    /// <summary>Whether the caller's address is the address of a member of our group, as the trackers list them.</summary>
    private bool CallerIsGroupMember()
    {
        if (_callerIsMember)
        {
            return true;
        }

        if (RemoteAddress is not { } remote)
        {
            return false;
        }

        string ip = (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
        foreach (var member in _ctx.Group.Servers)
        {
            if (member.IpAddr == ip && member.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.None))
            {
                _callerIsMember = true;
                return true;
            }
        }

        return false;
    }

    private byte RefuseNonMember(PacketHeader request)
    {
        if (!_nonMemberLogged)
        {
            _nonMemberLogged = true;
            _logger.LogWarning("refusing {Command} from {Remote}: not a member of group {Group}", request.Command, RemoteAddress, _ctx.GroupName);
        }

        return Errno.EPERM;
    }

    private ValueTask<byte> DispatchMemberAsync(PacketHeader request) => request.Cmd switch
    {
        FdfsCommand.ReportServerId => ReportServerIdAsync(request),
        FastDfs.Protocol.Messages.CheckedReplication.Command => new ValueTask<byte>(AcceptCheckedReplication(request)),
        FdfsCommand.SyncCreateFile => SyncWholeFileAsync(request, update: false),
        FdfsCommand.SyncUpdateFile => SyncWholeFileAsync(request, update: true),
        FdfsCommand.SyncDeleteFile => SyncDeleteAsync(request),
        FdfsCommand.SyncAppendFile => SyncRangeAsync(request, append: true),
        FdfsCommand.SyncModifyFile => SyncRangeAsync(request, append: false),
        FdfsCommand.SyncTruncateFile => SyncTruncateAsync(request),
        FdfsCommand.SyncCreateLink => SyncLinkOrRenameAsync(request, rename: false),
        FdfsCommand.SyncRenameFile => SyncLinkOrRenameAsync(request, rename: true),
        FdfsCommand.FetchOnePathBinlog => FetchPathBinlogAsync(request), // the file list of a path: members only too
        Protocol.Messages.FetchFilesRequest.Command => FetchFilesAsync(request),
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

        var (nameLength, fileSize, timestamp, group) = SyncFileFixed.Parse((await ReadBodyAsync(SyncFileFixedSize).ConfigureAwait(false)).Span);
        CheckGroup(group);
        bool withContent = request.Status != Errno.EEXIST;
        long contentLength = withContent ? fileSize : 0;
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength >= MaxNameLength || fileSize < 0 ||
            request.BodyLength != SyncFileFixedSize + nameLength + contentLength)
        {
            throw new ProtocolException("sync file lengths do not match the body");
        }

        var target = ResolveReplica(await ReadNameAsync(nameLength).ConfigureAwait(false));
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

        bool mutable = Sync.SyncPeerWorker.IsMutable(target.LogicName);
        using var held = mutable ? await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false) : default;
        var existing = new FileInfo(target.FullPath);
        if (Directory.Exists(target.FullPath) ||
            (!update && existing.Exists && existing.LinkTarget is null && existing.Length == fileSize))
        {
            // Already there (a resend after a crash or a lost reply): the content is skipped by the caller.
            AppliedFromPeer(timestamp, op, target.LogicName, null);
            return Errno.EEXIST;
        }

        // Checked replication: a file whose name promises its size and CRC32 becomes visible only if it keeps that promise
        // (another size means the name promises nothing: a slave whose name looks like a normal one).
        bool check = Integrity.NameChecksum.TryGetExpected(target.LogicName, out long expectedSize, out uint expectedCrc) && fileSize == expectedSize;

        string dataDirectory = _ctx.Paths[target.Stored.StorePathIndex].DataDirectory;
        string tempPath = Path.Combine(dataDirectory, ".cp" + _ctx.NextTempSequence() + ".tmp");
        bool placed = false;
        try
        {
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(tempPath, FileMode.Create, FileAccess.Write, FileShare.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
            {
                throw StoreIoException.From(e, "creating a replica file");
            }

            var crc = check ? ReplicaCrc() : null;
            using (handle)
            {
                await StreamBodyToFileAsync(handle, 0, fileSize, crc).ConfigureAwait(false);
                File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(timestamp));
            }

            uint actual = crc?.GetCurrentHashAsUInt32() ?? expectedCrc;
            if (actual != expectedCrc)
            {
                string why = $"CRC32 {actual:x8}, the name says {expectedCrc:x8}";
                if (_senderResends)
                {
                    return RefuseDamagedReplica(target.LogicName, why);
                }

                ReportDamagedReplicaKept(target.LogicName, why);
            }

            if (existing.LinkTarget is not null)
            {
                File.Delete(target.FullPath);
            }

            File.Move(tempPath, target.FullPath, overwrite: true);
            placed = true;
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not EndOfStreamException)
        {
            throw StoreIoException.From(e, $"writing the replica {target.LogicName}");
        }
        finally
        {
            if (!placed)
            {
                TryDelete(tempPath);
            }
        }

        Count(C.SuccessSyncInBytes, fileSize);
        AppliedFromPeer(timestamp, op, target.LogicName, null);
        return ReplyEmpty();
    }

    /// <summary>Reused for the checked replicas of the connection (reset per file).</summary>
    private System.IO.Hashing.Crc32 ReplicaCrc()
    {
        var crc = _uploadCrc ??= new System.IO.Hashing.Crc32();
        crc.Reset();
        return crc;
    }

    /// <summary>
    /// A replica whose bytes are not what its name promises is not stored: the source is told (EBADMSG, a FastDFS.NET
    /// status; the rest of the body is consumed, the connection stays usable) and sends it again.
    /// </summary>
    private byte RefuseDamagedReplica(string logicName, string why)
    {
        _ctx.Integrity.ReplicaRefused();
        _logger.LogWarning("refused the replica {Name} from {Source}: {Why}", logicName, _syncSourceId ?? RemoteAddress?.ToString() ?? "?", why);
        return Errno.EBADMSG;
    }

    /// <summary>
    /// A damaged replica from a source that never said it sends refused files again (a stock storage, which would retry
    /// it forever and stall the group): stored as it came, counted as damaged here, logged; the scrub repairs it if a
    /// member has a good copy.
    /// </summary>
    private void ReportDamagedReplicaKept(string logicName, string why)
    {
        _ctx.Integrity.FoundCorrupt();
        _ctx.Integrity.Record(FastDfs.Protocol.Messages.IntegrityFindingKind.RefusedReplica, logicName);
        _logger.LogError("stored the damaged replica {Name} from {Source} (a source that cannot send it again): {Why}",
            logicName, _syncSourceId ?? RemoteAddress?.ToString() ?? "?", why);
    }

    /// <summary>CHECKED_REPLICATION (245): this connection's source sends a file refused with EBADMSG again.</summary>
    private byte AcceptCheckedReplication(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            return Errno.EINVAL;
        }

        _senderResends = true;
        return ReplyEmpty();
    }

    /// <summary>
    /// A replica's name, refused with EAGAIN while its store path is a spare being refilled: the sender keeps the record and
    /// sends it again once the refill is over, so a delete or an append is never undone by a copy fetched before it.
    /// </summary>
    private (string LogicName, Protocol.FileIds.StoredFilePath Stored, string FullPath) ResolveReplica(string logicName)
    {
        var target = Resolve(logicName);
        if (_ctx.Paths[target.Stored.StorePathIndex].Refilling)
        {
            throw new ProtocolException($"store path {target.Stored.StorePathIndex} is being refilled: send {target.LogicName} again later", Errno.EAGAIN);
        }

        return target;
    }

    /// <summary>SYNC_DELETE_FILE (17), spec 7.3: ENOENT when already gone (nothing logged).</summary>
    private async ValueTask<byte> SyncDeleteAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, SyncDeleteFixedSize + ProtocolConstants.LogicFilePathLen + 1).ConfigureAwait(false);
        var (timestamp, group, logicName) = SyncDeleteRequest.Parse(body.Span);
        CheckGroup(group);
        var target = ResolveReplica(logicName);
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

        var (nameLength, offset, length, timestamp, group) = SyncRangeFixed.Parse((await ReadBodyAsync(SyncRangeFixedSize).ConfigureAwait(false)).Span);
        CheckGroup(group);
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength >= MaxNameLength || offset < 0 || length < 0 ||
            request.BodyLength != SyncRangeFixedSize + nameLength + length)
        {
            throw new ProtocolException("sync append/modify lengths do not match the body");
        }

        var target = ResolveReplica(await ReadNameAsync(nameLength).ConfigureAwait(false));
        Count(C.TotalSyncInBytes, length);
        using var held = await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false);
        var info = new FileInfo(target.FullPath);
        if (!info.Exists || info.LinkTarget is not null)
        {
            return Directory.Exists(target.FullPath) || info.LinkTarget is not null ? Errno.EEXIST : Errno.ENOENT;
        }

        long current = info.Length;
        bool applicable = append ? current == offset : current >= offset;
        if (!applicable)
        {
            if (current < offset + length)
            {
                return Errno.ENOENT; // missing bytes: the sender sends the whole file
            }

            // Longer already: a record sent again (after a crash or a lost reply) finds its bytes there, and that is
            // answered OK, so the sender does not send the whole file. Other bytes (EEXIST) get the whole file.
            using var existing = File.OpenHandle(target.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return await BodyEqualsFileAsync(existing, offset, length).ConfigureAwait(false) ? ReplyEmpty() : Errno.EEXIST;
        }

        using (var handle = OpenForWrite(target.FullPath))
        {
            // A body cut off half-way leaves the file at its old length: the resent record then applies again.
            await WriteOrRollBackAsync(handle, null, current, offset, length).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(timestamp));
        }

        Count(C.SuccessSyncInBytes, length);
        AppliedFromPeer(timestamp, append ? 'a' : 'm', target.LogicName, $"{offset} {length}");
        return ReplyEmpty();
    }

    /// <summary>Consumes <paramref name="length"/> body bytes and tells whether the file holds exactly them at <paramref name="offset"/>.</summary>
    private async ValueTask<bool> BodyEqualsFileAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long length)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            bool equal = true;
            long done = 0;
            while (done < length)
            {
                RefreshTimeout();
                var result = await _input.ReadAsync(Token).ConfigureAwait(false);
                var input = result.Buffer;
                if (input.IsEmpty && result.IsCompleted)
                {
                    _input.AdvanceTo(input.End);
                    throw new EndOfStreamException($"connection closed with {length - done} body bytes outstanding");
                }

                var slice = input.Slice(0, Math.Min(input.Length, Math.Min(length - done, buffer.Length)));
                try
                {
                    if (equal)
                    {
                        int read = RandomAccess.Read(file, buffer.AsSpan(0, (int)slice.Length), offset + done);
                        equal = read == slice.Length;
                        int position = 0;
                        foreach (var segment in slice)
                        {
                            if (!equal || !segment.Span.SequenceEqual(buffer.AsSpan(position, segment.Length)))
                            {
                                equal = false;
                                break;
                            }

                            position += segment.Length;
                        }
                    }
                }
                finally
                {
                    // Consumed even when the disk read failed: the read must be answered before the next one.
                    done += slice.Length;
                    Remaining -= slice.Length;
                    _input.AdvanceTo(slice.End);
                }
            }

            return equal;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>SYNC_TRUNCATE_FILE (37), spec 7.5.</summary>
    private async ValueTask<byte> SyncTruncateAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, SyncRangeFixedSize + ProtocolConstants.LogicFilePathLen + 1).ConfigureAwait(false);
        var span = body.Span;
        var (nameLength, oldSize, newSize, timestamp, group) = SyncRangeFixed.Parse(span);
        CheckGroup(group);
        if (nameLength <= ProtocolConstants.LogicFilePathLen || nameLength != request.BodyLength - SyncRangeFixedSize ||
            oldSize < 0 || newSize < 0)
        {
            throw new ProtocolException("sync truncate lengths do not match the body");
        }

        var target = ResolveReplica(FixedString.ReadCString(span[SyncRangeFixedSize..]));
        using var held = await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false);
        var info = new FileInfo(target.FullPath);
        if (!info.Exists && !Directory.Exists(target.FullPath) && info.LinkTarget is null)
        {
            return Errno.ENOENT;
        }

        if (info.Exists && info.LinkTarget is null && info.Length == newSize && newSize != oldSize)
        {
            return ReplyEmpty(); // applied already (a record sent again)
        }

        if (!info.Exists || info.LinkTarget is not null || info.Length != oldSize)
        {
            return Errno.EEXIST;
        }

        using (var handle = OpenForWrite(target.FullPath))
        {
            try
            {
                RandomAccess.SetLength(handle, newSize);
            }
            catch (IOException e)
            {
                throw StoreIoException.From(e, $"truncating the replica {target.LogicName}");
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new StoreIoException(Errno.EFBIG, $"truncating the replica {target.LogicName} to {newSize} bytes", e);
            }

            File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(timestamp));
        }

        AppliedFromPeer(timestamp, 't', target.LogicName, $"{oldSize} {newSize}");
        return ReplyEmpty();
    }

    /// <summary>SYNC_CREATE_LINK (19) / SYNC_RENAME_FILE (40), spec 7.6-7.7: first name, second name.</summary>
    private async ValueTask<byte> SyncLinkOrRenameAsync(PacketHeader request, bool rename)
    {
        var body = await ReadSmallBodyAsync(request, SyncFileFixedSize + 2).ConfigureAwait(false);
        var span = body.Span;
        var (firstLength, secondLength, timestamp, group) = SyncLinkFixed.Parse(span);
        CheckGroup(group);
        if (firstLength <= ProtocolConstants.LogicFilePathLen || secondLength <= ProtocolConstants.LogicFilePathLen ||
            firstLength >= MaxNameLength || secondLength >= MaxNameLength ||
            request.BodyLength != SyncFileFixedSize + firstLength + secondLength)
        {
            throw new ProtocolException("sync link/rename lengths do not match the body");
        }

        var first = ResolveReplica(FixedString.ReadCString(span.Slice(SyncFileFixedSize, (int)firstLength)));
        var second = ResolveReplica(FixedString.ReadCString(span.Slice(SyncFileFixedSize + (int)firstLength, (int)secondLength)));
        using var held = rename ? await _ctx.FileLocks.AcquireAsync(second.LogicName, Token).ConfigureAwait(false) : default;
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
            // The new name promises the content (a regenerated appender): a copy that missed changes is not renamed into
            // a lie. It goes (the name is leaving anyway) and ENOENT makes the source send the file under the new name.
            if (!await RenamedCopyIsCurrentAsync(first.LogicName, second.FullPath).ConfigureAwait(false))
            {
                File.Delete(second.FullPath);
                _logger.LogInformation("the copy of {Old} does not match its new name {New}: removed, the source sends the file", second.LogicName, first.LogicName);
                return Errno.ENOENT;
            }

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

    private async ValueTask<bool> RenamedCopyIsCurrentAsync(string newName, string oldPath)
    {
        // The size only: reading a large file here would outlast the source's network timeout. A stale copy of the same
        // size is caught by the source (it follows the rename with the whole file) or by anti-entropy.
        await ValueTask.CompletedTask.ConfigureAwait(false);
        return !Integrity.NameChecksum.TryGetExpected(newName, out long size, out _) || new FileInfo(oldPath).Length == size;
    }

    /// <summary>Logs a record that originates here and remembers it for the sync_ack_replicas wait.</summary>
    private void LogSource(long timestamp, char op, string logicName, string? extra = null)
    {
        var (start, end) = _ctx.Binlog.WriteRecord(timestamp, op, logicName, extra);
        if (_pendingAckEnd == default)
        {
            _pendingAckStart = start;
        }

        _pendingAckEnd = end;
    }

    /// <summary>
    /// With sync_ack_replicas = N &gt; 1: holds the reply until N - 1 peers hold every change this request logged,
    /// or answers ETIMEDOUT after sync_ack_timeout (the change stays stored here and still replicates). The wait is
    /// not cut by this connection's network_timeout: sync_ack_timeout is shorter by default, so the client gets its
    /// ETIMEDOUT before its own network timeout drops the connection.
    /// </summary>
    private async ValueTask<byte> AwaitReplicasAsync()
    {
        var (start, end) = (_pendingAckStart, _pendingAckEnd);
        _pendingAckStart = _pendingAckEnd = default;
        if (end == default || _ctx.Config.SyncAckReplicas <= 1)
        {
            return Errno.Ok;
        }

        bool confirmed = await _ctx.Replication.AwaitReplicasAsync(start, end, _connection.Closed).ConfigureAwait(false);
        RestartTimeout();
        return confirmed ? Errno.Ok : Errno.ETIMEDOUT;
    }

    /// <summary>Logs the replica record (lower case, source timestamp) and raises the source's sync timestamp.</summary>
    private void AppliedFromPeer(long timestamp, char op, string logicName, string? extra)
    {
        _ctx.Binlog.Write(timestamp, op, logicName, extra);
        _ctx.Counters[C.LastSyncUpdate] = _ctx.Now;
        string? source = _syncSourceId ?? _ctx.Replication.PeerIdByAddress(RemoteAddress);
        if (source is not null)
        {
            _ctx.Replication.RecordApplied(source, timestamp);
        }
    }
}
