using System.Buffers;
using System.IO.Pipelines;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Sessions;
using FastDfs.ServerCore.Transport;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Session;

/// <summary>
/// One client connection: reads requests, dispatches by command and writes replies. Split by command
/// family into partial files. Handlers consume their body through the helpers here so that the session
/// always knows how much of the body is left: after an error that keeps the connection (ENOENT, EEXIST,
/// ENOSPC...) the rest is skipped; after EINVAL the connection is closed, as stock does.
/// </summary>
internal sealed partial class StorageSession : IFrameHandler, IAsyncDisposable
{
    private const int DownloadChunkSize = 256 * 1024;

    private readonly StorageContext _ctx;
    private readonly IFrameTransport _connection;
    private readonly FrameSession _frames;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ILogger _logger;
    private readonly int _maxInMemoryBody;

    public StorageSession(StorageContext ctx, IFrameTransport connection, ILogger logger)
    {
        _ctx = ctx;
        _connection = connection;
        _input = connection.Input;
        _output = connection.Output;
        _logger = logger;
        int timeout = ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30;
        long buff = ctx.Config.BuffSize > 0 ? ctx.Config.BuffSize : 256 * 1024;
        _maxInMemoryBody = (int)Math.Min(int.MaxValue - 64, buff - ProtocolConstants.HeaderSize - 1);
        _frames = new FrameSession(connection, new FrameSessionOptions
        {
            NetworkTimeout = TimeSpan.FromSeconds(timeout),
            MaxInMemoryBody = _maxInMemoryBody,
            BadLengthStatus = Errno.EINVAL,
            CloseOnInvalidRequest = true, // as stock storage
        }, logger);
    }

    /// <summary>The current request's deadline (network_timeout, pushed forward by progress) or the connection's end.</summary>
    private CancellationToken Token => _frames.Token;

    /// <summary>Body bytes of the current request not read yet (handlers streaming a body keep it true).</summary>
    private long Remaining
    {
        get => _frames.Remaining;
        set => _frames.Remaining = value;
    }

    /// <summary>Serves requests until the peer leaves, the connection is aborted, or the server stops while the
    /// connection waits for its next request (<see cref="IFrameTransport.IdleEnd"/>); a request in progress completes.</summary>
    public Task RunAsync() => _frames.RunAsync(this);

    ValueTask<byte> IFrameHandler.HandleAsync(PacketHeader request) => DispatchAsync(request);

    bool IFrameHandler.TryMapFailure(PacketHeader request, Exception failure, out byte status)
    {
        switch (failure)
        {
            case Store.StoreIoException e:
                // The disk, not the client: answer the errno (ENOSPC, EIO...) and keep the connection.
                _logger.LogWarning("command {Command} failed: {Message}", request.Command, e.Message);
                status = e.Status == Errno.Ok ? Errno.EIO : e.Status;
                if (status is Errno.EIO or Store.StoreIoException.EROFS)
                {
                    _ctx.PathHealth.CheckSoon(); // a failing or read-only disk: take its path out of service now
                }

                return true;
            case FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException:
                // A file vanished or is unreadable between our checks and its use.
                _logger.LogWarning("command {Command} failed: {Message}", request.Command, failure.Message);
                status = failure is UnauthorizedAccessException ? Errno.EACCES : Errno.ENOENT;
                return true;
            default:
                status = 0;
                return false;
        }
    }

    void IFrameHandler.OnServed(PacketHeader request, byte status, long startedTimestamp)
    {
        _ctx.Metrics?.RecordCommand(request.Cmd, status, startedTimestamp);
        if (_ctx.AccessLog is { } accessLog && Logging.StorageAccessLog.ActionOf(request.Cmd) is { } action)
        {
            try
            {
                accessLog.Write(RemoteAddress, action, _accessName, status, startedTimestamp, request.BodyLength,
                    status == Errno.Ok ? _replyBodyLength : 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // The reply is still to be sent: a log line is never worth a request.
                _logger.LogWarning("access log line lost: {Message}", e.Message);
            }
        }

        _accessName = null;
        _replyBodyLength = 0;
    }

    /// <summary>The file the current request names or created (the access log's filename column).</summary>
    private string? _accessName;

    /// <summary>The body length of the current request's reply (the access log's resp_len, with the header added).</summary>
    private long _replyBodyLength;

    private ValueTask<byte> DispatchAsync(PacketHeader request) => request.Cmd switch
    {
        Protocol.Messages.HttpPortQuery.Command => new ValueTask<byte>(ReplyHttpPort(request)),
        Protocol.Messages.TrunkSpaceQuery.Command => new ValueTask<byte>(ReplyTrunkSpace(request)),
        Protocol.Messages.IntegrityQuery.Command => new ValueTask<byte>(ReplyIntegrityStatus(request)),
        Protocol.Messages.ScrubStart.Command => StartScrubAsync(request),
        Protocol.Messages.ListFiles.Command => ListFilesAsync(request),
        Protocol.Messages.ImportFile.Command => ImportFileAsync(request),
        Protocol.Messages.PeerAuth.Hello => PeerHelloAsync(request),
        Protocol.Messages.PeerAuth.Proof => PeerProofAsync(request),
        FdfsCommand.UploadFile => UploadAsync(request, appender: false),
        FdfsCommand.UploadAppenderFile => UploadAsync(request, appender: true),
        FdfsCommand.UploadSlaveFile => UploadSlaveAsync(request),
        FdfsCommand.DownloadFile => DownloadAsync(request),
        FdfsCommand.DeleteFile => DeleteAsync(request),
        FdfsCommand.SetMetadata => SetMetadataAsync(request),
        FdfsCommand.GetMetadata => GetMetadataAsync(request),
        FdfsCommand.QueryFileInfo => QueryFileInfoAsync(request),
        FdfsCommand.AppendFile => AppendAsync(request),
        FdfsCommand.ModifyFile => ModifyAsync(request),
        FdfsCommand.TruncateFile => TruncateAsync(request),
        FdfsCommand.RegenerateAppenderFilename => RegenerateAppenderNameAsync(request),
        FdfsCommand.ActiveTest => new ValueTask<byte>(request.BodyLength == 0 ? ReplyEmpty() : Errno.EINVAL),
        _ => DispatchSyncAsync(request),
    };

    private byte ReplyEmpty()
    {
        _output.WriteResponseHeader(0);
        return Errno.Ok;
    }

    private void RefreshTimeout() => _frames.RefreshTimeout();

    private void RestartTimeout() => _frames.RestartTimeout();

    private Memory<byte> Scratch(int length) => _frames.Scratch(length);

    private ValueTask<Memory<byte>> ReadBodyAsync(int length) => _frames.ReadBodyAsync(length);

    private ValueTask<Memory<byte>> ReadSmallBodyAsync(PacketHeader request, int minimum) => _frames.ReadSmallBodyAsync(request, minimum);

    private void CheckGroup(ReadOnlySpan<byte> groupField) => CheckGroup(FixedString.Read(groupField));

    private void CheckGroup(string group)
    {
        if (group != _ctx.GroupName)
        {
            throw new ProtocolException("group name is not ours");
        }
    }

    /// <summary>
    /// The group of a request for an existing file (download, file info, metadata, delete): ours, or another group for a
    /// well-formed name of a plain file of our store paths, as a file moved here from that group (IMPORT_FILE) keeps its
    /// old ID. A moved file deleted since then is answered as any deleted file (ENOENT), not as a request for a group we
    /// are not. That gives no access the right group name would not give: a logic name embeds the storage that created
    /// it, its timestamp and random bits, so two groups never hold distinct files under one name. Other names (malformed,
    /// trunk-stored: the slot would be looked up in our trunk files) are refused as before. Uploads and the
    /// storage-to-storage commands keep <see cref="CheckGroup(string)"/>.
    /// </summary>
    private void CheckGroupOfStoredFile(ReadOnlySpan<byte> groupField, string logicName)
    {
        if (FixedString.Read(groupField) != _ctx.GroupName && !_ctx.TryParsePlainFileName(logicName, out _))
        {
            throw new ProtocolException("group name is not ours");
        }
    }

    /// <summary>Validates a logic name (spec 5) and maps it to its file under the store path.</summary>
    private (string LogicName, StoredFilePath Stored, string FullPath) Resolve(string logicName)
    {
        int nul = logicName.IndexOf('\0');
        if (nul >= 0)
        {
            logicName = logicName[..nul];
        }

        _accessName ??= logicName;
        if (!StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored))
        {
            throw new ProtocolException($"invalid file name '{logicName}'");
        }

        return (logicName, stored, _ctx.Paths.FullPath(stored));
    }

    /// <summary>Enters the disk of store path <paramref name="storePathIndex"/> for this request (see <see cref="Store.DiskGate"/>).</summary>
    private ValueTask<Store.DiskGate.Section> EnterDiskAsync(int storePathIndex) => _ctx.Paths[storePathIndex].Gate.EnterAsync(Token);

    private static bool EntryExists(string fullPath, out bool isDirectory, out bool isLink)
    {
        isDirectory = Directory.Exists(fullPath);
        var info = new FileInfo(fullPath);
        isLink = info.LinkTarget is not null;
        return isDirectory || info.Exists || isLink;
    }

    /// <summary>Finds an existing appender file for APPEND/MODIFY/TRUNCATE/REGENERATE (ENOENT first, then EINVAL).</summary>
    private (string LogicName, StoredFilePath Stored, string FullPath) ResolveAppender(string logicName)
    {
        var target = Resolve(logicName);
        if (!EntryExists(target.FullPath, out bool isDirectory, out _))
        {
            throw new ProtocolException("no such file", Errno.ENOENT);
        }

        if (isDirectory || !FileNameCodec.TryDecode(target.LogicName, out var info) || !info.IsAppender)
        {
            throw new ProtocolException("not an appender file");
        }

        EnsureSingleWriter(target.LogicName, info);
        return target;
    }

    /// <summary>
    /// A file is changed in place only by its source storage (stock's QUERY_UPDATE sends updates there). While the
    /// source is a member of the group, another member refuses with EAGAIN: two members appending to one file while the
    /// source is down would each send the other its whole copy, and the copies could cross. With the source gone from
    /// the group (deleted), any member may change the file. A file moved here from another group (IMPORT_FILE) names a
    /// storage of that group, which is no member of ours: any member may change it (storage ids are unique in a cluster;
    /// only on a host running storages of both groups, in names carrying IP addresses, is the file taken for our member's
    /// on that host, the member stock's QUERY_UPDATE rule picks for it as well).
    /// </summary>
    private void EnsureSingleWriter(string logicName, FileNameInfo info)
    {
        if (info.SourceRaw == _ctx.SourceRaw || (info.SourceIsStorageId && info.Source == _ctx.StorageId))
        {
            return;
        }

        foreach (var member in _ctx.Group.Servers)
        {
            bool isSource = info.SourceIsStorageId ? member.Id == info.Source : member.IpAddr == info.Source;
            if (isSource && member.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.None))
            {
                throw new ProtocolException($"{logicName} is changed only on its source storage {member.Id} ({member.Status.ToMonitorName()})", Errno.EAGAIN);
            }
        }
    }

    private void Count(Protocol.Messages.StorageStatCounters.Counter counter, long by = 1) => _ctx.Counters.Increment(counter, by);

    public ValueTask DisposeAsync()
    {
        _frames.Dispose();
        return ValueTask.CompletedTask;
    }
}
