using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Recovery;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Session;

/// <summary>FETCH_ONE_PATH_BINLOG (26), the serving side of disk recovery: a member recovering a store path asks which files it held.</summary>
internal sealed partial class StorageSession
{
    /// <summary>
    /// FETCH_ONE_PATH_BINLOG (or FETCH_FILES) from an address that is not a member's. A stock storage recovering a disk connects from its
    /// host's default address, not from the address it is registered with, so the list is also given out while a member of
    /// the group is in RECOVERY (as the trackers say, asked again if our view has none); at any other time the file list
    /// of a path, which would let anyone download every file, is refused.
    /// </summary>
    private async ValueTask<byte> RecoveryReadForRecoveringMemberAsync(PacketHeader request)
    {
        if (!_ctx.Group.Servers.Any(s => s.Status == StorageStatus.Recovery) &&
            (_ctx.Config.TrackerServers.Count == 0 || await _ctx.RecoveringMembers.RecoveringMemberAsync(Token).ConfigureAwait(false) is null))
        {
            return RefuseNonMember(request);
        }

        if (PeerProofMissing(request))
        {
            return Errno.EPERM;
        }

        if (request.Cmd == FdfsCommand.FetchOnePathBinlog)
        {
            _logger.LogInformation("answering FETCH_ONE_PATH_BINLOG from {Remote}, not a member's address: a member of group {Group} is recovering a disk",
                RemoteAddress, _ctx.GroupName);
            return await FetchPathBinlogAsync(request).ConfigureAwait(false);
        }

        return await FetchFilesAsync(request).ConfigureAwait(false);
    }

    private async ValueTask<byte> FetchPathBinlogAsync(PacketHeader request)
    {
        if (request.BodyLength != FetchPathBinlogRequest.Size)
        {
            throw new ProtocolException($"FETCH_ONE_PATH_BINLOG of {request.BodyLength} bytes");
        }

        var fetch = FetchPathBinlogRequest.Parse((await ReadBodyAsync(FetchPathBinlogRequest.Size).ConfigureAwait(false)).Span);
        CheckGroup(fetch.Group);
        if (fetch.StorePathIndex >= _ctx.Paths.Count)
        {
            throw new ProtocolException($"FETCH_ONE_PATH_BINLOG of store path {fetch.StorePathIndex}, we have {_ctx.Paths.Count}");
        }

        if (_ctx.Paths[fetch.StorePathIndex].OutOfServiceReason is { } failure)
        {
            // Our own copy of that path is out of service (or a spare still being filled): its list would leave out
            // files we do not have, and the caller would take that for the whole path. Ask another member.
            throw new ProtocolException($"store path {fetch.StorePathIndex} is out of service here: {failure}", Errno.EAGAIN);
        }

        // The records go to a file that deletes itself, then to the socket with sendfile: the answer has an ordinary
        // length (which stock accepts as well as its streamed form) and never sits in memory.
        _ctx.Binlog.Flush();
        string temp = Path.Combine(_ctx.DataDirectory, $".path-binlog.{_ctx.NextTempSequence()}.tmp");
        await using var dump = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        long records = PathBinlogDump.Write(_ctx.Binlog, _ctx.Paths, fetch.StorePathIndex, name => _ctx.Trunk.IsTrunkName(name, out _), dump,
            _frames.Progress, _logger);
        dump.Flush();
        long length = dump.Length;
        _logger.LogInformation("{Remote} fetched the binlog of store path {Index}: {Records} files, {Bytes} bytes", RemoteAddress,
            fetch.StorePathIndex, records, length);
        _output.WriteResponseHeader(length);
        if (length > 0)
        {
            await _connection.SendFileAsync(dump.SafeFileHandle, 0, length, _frames.Progress, Token).ConfigureAwait(false);
        }

        return Errno.Ok;
    }
}
