using System.Buffers;
using System.IO.Pipelines;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Transport;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Session;

/// <summary>
/// One client connection: reads requests, dispatches by command and writes replies. Split by command
/// family into partial files. Handlers consume their body through the helpers here so that the session
/// always knows how much of the body is left: after an error that keeps the connection (ENOENT, EEXIST,
/// ENOSPC...) the rest is skipped; after EINVAL the connection is closed, as stock does.
/// </summary>
internal sealed partial class StorageSession : IAsyncDisposable
{
    private const int DownloadChunkSize = 256 * 1024;

    /// <summary>
    /// The most body bytes read and dropped after a refusal to keep the connection; beyond it the reply goes out and the
    /// connection is closed (a client that sends its whole body before reading then sees a closed connection).
    /// </summary>
    private const long MaxSkippedBody = 64L << 20;

    private bool _closeAfterReply;
    private bool _served;

    private readonly StorageContext _ctx;
    private readonly IFrameTransport _connection;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ILogger _logger;
    private readonly CancellationToken _connectionClosed;
    private CancellationTokenSource _requestTimeout;
    private long _timeoutArmedAt;
    private bool _timeoutArmed;
    private readonly TimeSpan _networkTimeout;
    private readonly long _timeoutRefreshMillis;
    private readonly int _maxInMemoryBody;
    private byte[]? _scratch;
    private long _remaining;

    public StorageSession(StorageContext ctx, IFrameTransport connection, ILogger logger)
    {
        _ctx = ctx;
        _connection = connection;
        _input = connection.Input;
        _output = connection.Output;
        _logger = logger;
        _connectionClosed = connection.Closed;
        _requestTimeout = CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed);
        int timeout = ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30;
        _networkTimeout = TimeSpan.FromSeconds(timeout);
        _timeoutRefreshMillis = Math.Min(1000, timeout * 1000L / 8);
        long buff = ctx.Config.BuffSize > 0 ? ctx.Config.BuffSize : 256 * 1024;
        _maxInMemoryBody = (int)Math.Min(int.MaxValue - 64, buff - ProtocolConstants.HeaderSize - 1);
    }

    private CancellationToken Token => _requestTimeout.Token;

    /// <summary>Serves requests until the peer leaves, the connection is aborted, or the server stops while the
    /// connection waits for its next request (<see cref="IFrameTransport.IdleEnd"/>); a request in progress completes.</summary>
    public async Task RunAsync()
    {
        var idleEnd = _connection.IdleEnd;
        try
        {
            while (true)
            {
                if (_served)
                {
                    await _connection.WaitForInputAsync(idleEnd).ConfigureAwait(false);
                }
                else
                {
                    // As stock: a connection must send its first whole request within network_timeout (idle sockets would
                    // otherwise take every connection); once served it may idle between requests (pools, peers).
                    using var first = CancellationTokenSource.CreateLinkedTokenSource(idleEnd);
                    first.CancelAfter(_networkTimeout);
                    await _connection.WaitForInputAsync(first.Token).ConfigureAwait(false);
                }

                // The timer, left armed between requests, may have fired while the connection was idle. A header must
                // then arrive whole within network_timeout.
                _timeoutArmed = false;
                RestartTimeout();
                var header = await _input.ReadHeaderAsync(Token).ConfigureAwait(false);
                if (header is not { } request || request.Cmd == FdfsCommand.Quit)
                {
                    return;
                }

                _served = true;

                _remaining = request.BodyLength;
                byte status = await ProcessAsync(request).ConfigureAwait(false);
                if (status != Errno.Ok)
                {
                    _output.WriteStatus(status);
                }

                await _output.FlushAsync(Token).ConfigureAwait(false);
                if (status == Errno.EINVAL || _closeAfterReply)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!_connectionClosed.IsCancellationRequested && !_connection.IdleEnd.IsCancellationRequested)
        {
            _logger.LogWarning("{Remote}: no whole request within network_timeout ({Seconds}s): closing", RemoteAddress, _networkTimeout.TotalSeconds);
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException)
        {
            // Peer gone, network_timeout or shutdown: nothing can be replied.
            _logger.LogDebug("connection ended: {Reason}", e.Message);
        }
    }

    private async ValueTask<byte> ProcessAsync(PacketHeader request)
    {
        byte status;
        long started = Metrics.StorageMetrics.StartTimestamp();
        try
        {
            // Stock waits for a negative or absurd body forever; we refuse it at once.
            status = request.BodyLength < 0 ? Errno.EINVAL : await DispatchAsync(request).ConfigureAwait(false);
        }
        catch (ProtocolException e)
        {
            _logger.LogDebug("command {Command}: {Message}", request.Command, e.Message);
            status = e.Status == Errno.Ok ? Errno.EINVAL : e.Status;
        }
        catch (Store.StoreIoException e)
        {
            // The disk, not the client: answer the errno (ENOSPC, EIO...) and keep the connection.
            _logger.LogWarning("command {Command} failed: {Message}", request.Command, e.Message);
            status = e.Status == Errno.Ok ? Errno.EIO : e.Status;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            // A file vanished or is unreadable between our checks and its use.
            _logger.LogWarning("command {Command} failed: {Message}", request.Command, e.Message);
            status = e is UnauthorizedAccessException ? Errno.EACCES : Errno.ENOENT;
        }

        _ctx.Metrics?.RecordCommand(request.Cmd, status, started);
        if (status != Errno.EINVAL && _remaining > MaxSkippedBody)
        {
            // A refused request with a huge body (a declared 2^62-byte upload): answer now and close rather than read it all.
            _closeAfterReply = true;
        }
        else if (status != Errno.EINVAL && _remaining > 0)
        {
            await _input.SkipAsync(_remaining, Token).ConfigureAwait(false);
            _remaining = 0;
        }

        return status;
    }

    private ValueTask<byte> DispatchAsync(PacketHeader request) => request.Cmd switch
    {
        Protocol.Messages.HttpPortQuery.Command => new ValueTask<byte>(ReplyHttpPort(request)),
        Protocol.Messages.TrunkSpaceQuery.Command => new ValueTask<byte>(ReplyTrunkSpace(request)),
        Protocol.Messages.IntegrityQuery.Command => new ValueTask<byte>(ReplyIntegrityStatus(request)),
        Protocol.Messages.ScrubStart.Command => StartScrubAsync(request),
        Protocol.Messages.ListFiles.Command => ListFilesAsync(request),
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

    /// <summary>
    /// Pushes the network_timeout deadline forward. Re-arming the timer costs a timer-queue update, so it
    /// is done at most once a second (an eighth of network_timeout when that is shorter): the
    /// deadline is then at least seven eighths of network_timeout after the last activity. The timer stays armed
    /// between requests (a firing while idle is noticed when the next request starts).
    /// </summary>
    private void RefreshTimeout()
    {
        long now = Environment.TickCount64;
        if (!_timeoutArmed || now - _timeoutArmedAt >= _timeoutRefreshMillis)
        {
            _requestTimeout.CancelAfter(_networkTimeout);
            _timeoutArmedAt = now;
            _timeoutArmed = true;
        }
    }

    /// <summary>A full network_timeout from now, also after the timer fired (while idle, or during a sync_ack_replicas wait).</summary>
    private void RestartTimeout()
    {
        if (_requestTimeout.IsCancellationRequested)
        {
            _requestTimeout.Dispose();
            _requestTimeout = CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed);
            _timeoutArmed = false;
        }

        RefreshTimeout();
    }

    private Memory<byte> Scratch(int length)
    {
        _scratch ??= ArrayPool<byte>.Shared.Rent(Math.Max(_maxInMemoryBody, 4096));
        return _scratch.AsMemory(0, length);
    }

    /// <summary>Reads the next <paramref name="length"/> body bytes into the session buffer.</summary>
    private async ValueTask<Memory<byte>> ReadBodyAsync(int length)
    {
        if (length > _remaining)
        {
            throw new ProtocolException("body shorter than its fields");
        }

        var memory = Scratch(length);
        await _input.ReadIntoAsync(memory, Token).ConfigureAwait(false);
        _remaining -= length;
        return memory;
    }

    /// <summary>Reads a whole request body that stock processes from memory (must fit buff_size).</summary>
    private ValueTask<Memory<byte>> ReadSmallBodyAsync(PacketHeader request, int minimum)
    {
        if (request.BodyLength < minimum || request.BodyLength > _maxInMemoryBody)
        {
            throw new ProtocolException($"body of {request.BodyLength} bytes");
        }

        return ReadBodyAsync((int)request.BodyLength);
    }

    private void CheckGroup(ReadOnlySpan<byte> groupField) => CheckGroup(FixedString.Read(groupField));

    private void CheckGroup(string group)
    {
        if (group != _ctx.GroupName)
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

        if (!StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored))
        {
            throw new ProtocolException($"invalid file name '{logicName}'");
        }

        return (logicName, stored, _ctx.Paths.FullPath(stored));
    }

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
    /// the group (deleted), any member may change the file.
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

    public async ValueTask DisposeAsync()
    {
        _requestTimeout.Dispose();
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }

        await ValueTask.CompletedTask.ConfigureAwait(false);
    }
}
