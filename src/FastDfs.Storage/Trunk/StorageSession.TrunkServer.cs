using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Session;

/// <summary>
/// The trunk commands between storages (spec 7.9): TRUNK_ALLOC_SPACE (27), TRUNK_ALLOC_CONFIRM (28) and
/// TRUNK_FREE_SPACE (29) answered by the trunk server from its core (EINVAL elsewhere), TRUNK_SYNC_BINLOG (30) and
/// TRUNK_TRUNCATE_BINLOG_FILE (33) received from it by the other members, TRUNK_GET_BINLOG_SIZE (31) asked by the
/// tracker leader for its election, TRUNK_DELETE_BINLOG_MARKS (32).
/// </summary>
internal sealed partial class StorageSession
{
    private ValueTask<byte> DispatchTrunkAsync(PacketHeader request) => request.Cmd switch
    {
        FdfsCommand.TrunkAllocSpace => TrunkAllocSpaceAsync(request),
        FdfsCommand.TrunkAllocConfirm => TrunkSlotCommandAsync(request, confirm: true),
        FdfsCommand.TrunkFreeSpace => TrunkSlotCommandAsync(request, confirm: false),
        FdfsCommand.TrunkSyncBinlog => TrunkSyncBinlogAsync(request),
        FdfsCommand.TrunkGetBinlogSize => new ValueTask<byte>(TrunkGetBinlogSize(request)),
        FdfsCommand.TrunkDeleteBinlogMarks => new ValueTask<byte>(TrunkDeleteBinlogMarks(request)),
        FdfsCommand.TrunkTruncateBinlogFile => new ValueTask<byte>(TrunkTruncateBinlog(request)),
        _ => new ValueTask<byte>(Errno.EINVAL),
    };

    /// <summary>The local core when this storage is the trunk server now; EINVAL otherwise (stock).</summary>
    private TrunkSpaceManager TrunkServerCore()
    {
        var trunk = _ctx.Trunk;
        if (!trunk.Settings.UseTrunkFile || trunk.Locator.Resolve() != TrunkServerRole.Self)
        {
            throw new ProtocolException("trunk command to a storage that is not the trunk server", Errno.EINVAL);
        }

        return trunk.Manager;
    }

    private async ValueTask<byte> TrunkAllocSpaceAsync(PacketHeader request)
    {
        if (request.BodyLength != TrunkAllocRequest.Size)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE of {request.BodyLength} bytes");
        }

        var alloc = TrunkAllocRequest.Parse((await ReadBodyAsync(TrunkAllocRequest.Size).ConfigureAwait(false)).Span);
        CheckGroup(alloc.Group);
        int slotBytes = alloc.SlotSize;
        int pathIndex = alloc.StorePathIndex;
        if (pathIndex >= _ctx.Paths.Count || slotBytes < TrunkSlotHeader.Size)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE of {slotBytes} bytes on store path {pathIndex}");
        }

        var slot = await _ctx.Trunk.AllocateLocallyAsync(TrunkServerCore(), pathIndex, slotBytes, Token).ConfigureAwait(false);
        var span = _output.GetSpan(ProtocolConstants.HeaderSize + TrunkSlotInfo.Size);
        PacketHeader.Response(TrunkSlotInfo.Size).WriteTo(span);
        slot.ToSlotInfo().Write(span[ProtocolConstants.HeaderSize..]);
        _output.Advance(ProtocolConstants.HeaderSize + TrunkSlotInfo.Size);
        return Errno.Ok;
    }

    /// <summary>ALLOC_CONFIRM (the header status is the upload's result) and FREE_SPACE: group[16] + FDFSTrunkInfoBuff.</summary>
    private async ValueTask<byte> TrunkSlotCommandAsync(PacketHeader request, bool confirm)
    {
        if (request.BodyLength != TrunkSlotRequest.Size)
        {
            throw new ProtocolException($"{request.Command} of {request.BodyLength} bytes");
        }

        var slotRequest = TrunkSlotRequest.Parse((await ReadBodyAsync(TrunkSlotRequest.Size).ConfigureAwait(false)).Span);
        CheckGroup(slotRequest.Group);
        var slot = TrunkBlock.FromSlotInfo(slotRequest.Slot);
        // A confirm settles a slot our core handed out this term: it stands even when the lease lapsed meanwhile
        // (a late heartbeat under load); only a storage that is no longer named trunk server refuses it.
        var core = confirm ? _ctx.Trunk.CoreHoldingReserved(slot) ?? TrunkServerCore() : TrunkServerCore();
        if (confirm)
        {
            await core.ConfirmAsync(slot, request.Status == Errno.Ok, Token).ConfigureAwait(false);
        }
        else
        {
            await core.FreeAsync(slot, Token).ConfigureAwait(false);
        }

        return ReplyEmpty();
    }

    /// <summary>TRUNK_SYNC_BINLOG: raw trunk binlog lines of the trunk server, appended as they come.</summary>
    private async ValueTask<byte> TrunkSyncBinlogAsync(PacketHeader request)
    {
        var trunk = _ctx.Trunk;
        if (trunk.GroupLocator.NamedSelf)
        {
            throw new ProtocolException("TRUNK_SYNC_BINLOG to the trunk server itself", Errno.EINVAL);
        }

        long left = request.BodyLength;
        while (left > 0)
        {
            int chunk = (int)Math.Min(left, 64 * 1024);
            var bytes = await ReadBodyAsync(chunk).ConfigureAwait(false);
            trunk.Binlog.AppendRaw(bytes.Span);
            left -= chunk;
        }

        return ReplyEmpty();
    }

    private byte TrunkGetBinlogSize(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            throw new ProtocolException($"TRUNK_GET_BINLOG_SIZE of {request.BodyLength} bytes");
        }

        var span = _output.GetSpan(ProtocolConstants.HeaderSize + TrunkBinlogSizeReply.Size);
        PacketHeader.Response(TrunkBinlogSizeReply.Size).WriteTo(span);
        new TrunkBinlogSizeReply(_ctx.Trunk.Binlog.Length).Write(span[ProtocolConstants.HeaderSize..]);
        _output.Advance(ProtocolConstants.HeaderSize + TrunkBinlogSizeReply.Size);
        return Errno.Ok;
    }

    private byte TrunkDeleteBinlogMarks(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            throw new ProtocolException($"TRUNK_DELETE_BINLOG_MARKS of {request.BodyLength} bytes");
        }

        TrunkBinlogPusher.ForgetMarks(_ctx.Trunk.Binlog.Directory);
        return ReplyEmpty();
    }

    private byte TrunkTruncateBinlog(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            throw new ProtocolException($"TRUNK_TRUNCATE_BINLOG_FILE of {request.BodyLength} bytes");
        }

        if (_ctx.Trunk.GroupLocator.NamedSelf)
        {
            throw new ProtocolException("TRUNK_TRUNCATE_BINLOG_FILE to the trunk server itself", Errno.EINVAL);
        }

        if (!_ctx.Trunk.ReadyForNewTrunkTerm(_ctx.Replication.Workers, _ctx.Replication.PeerIdByAddress(RemoteAddress)))
        {
            throw new ProtocolException("TRUNK_TRUNCATE_BINLOG_FILE before our files reached the trunk server", Errno.EAGAIN);
        }

        _ctx.Trunk.Binlog.Truncate(_ctx.Trunk.Settings.BinlogMaxBackups);
        return ReplyEmpty();
    }

    /// <summary>SYNC_CREATE_FILE of a 60-character trunk name: the slot goes into this storage's copy of the trunk file.</summary>
    private async ValueTask<byte> SyncTrunkSlotAsync(string logicName, long fileSize, long timestamp, char op)
    {
        var trunk = _ctx.Trunk;
        if (!trunk.IsTrunkName(logicName, out var info) || !TrunkSlotHeader.TryFromName(info, out var header) ||
            header.FileSize != fileSize)
        {
            throw new ProtocolException($"sync of trunk name {logicName} with {fileSize} bytes");
        }

        var slot = TrunkBlock.FromName(info);
        if (!trunk.Files.IsValidPath(slot.File) || slot.Offset < 0 || slot.Size <= 0 || fileSize + TrunkSlotHeader.Size > slot.Size)
        {
            throw new ProtocolException($"sync of trunk name {logicName}: slot {slot} is not valid here");
        }

        switch (trunk.BeginReplica(slot, header, out var handle))
        {
            case TrunkReplicaAction.AlreadyThere:
                AppliedFromPeer(timestamp, op, logicName, null);
                return Errno.EEXIST;
            case TrunkReplicaAction.Stale:
                return Errno.EEXIST;
        }

        bool written = false;
        var crc = ReplicaCrc();
        try
        {
            await StreamBodyToFileAsync(handle!, slot.Offset + TrunkSlotHeader.Size, fileSize, crc).ConfigureAwait(false);
            // Checked replication: the slot's header (which makes the file visible) is written only for the promised bytes
            // (from a source that sends a refused file again; from another one the file is kept and reported).
            written = crc.GetCurrentHashAsUInt32() == info.Crc32 || !_senderResends;
        }
        finally
        {
            trunk.EndReplica(slot, handle!, header, written);
        }

        if (!written)
        {
            return RefuseDamagedReplica(logicName, $"CRC32 {crc.GetCurrentHashAsUInt32():x8}, the name says {info.Crc32:x8}");
        }

        if (crc.GetCurrentHashAsUInt32() != info.Crc32)
        {
            ReportDamagedReplicaKept(logicName, $"CRC32 {crc.GetCurrentHashAsUInt32():x8}, the name says {info.Crc32:x8}");
        }

        Count(Protocol.Messages.StorageStatCounters.Counter.SuccessSyncInBytes, fileSize);
        AppliedFromPeer(timestamp, op, logicName, null);
        return ReplyEmpty();
    }
}
