using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Transport;
using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Sessions;

/// <summary>
/// The one frame loop both servers run per connection: waits for a request (within <c>network_timeout</c> for a new
/// connection, without a deadline or a receive buffer once it has been served), reads the header, refuses a bad
/// declared length, lets the role's <see cref="IFrameHandler"/> handle the request, maps its failures to an errno
/// reply, drops what it left of the body (or closes when that is too much), records the metrics and flushes the reply.
/// Handlers read their body through <see cref="ReadBodyAsync"/> and friends, or straight from <see cref="Input"/>
/// while keeping <see cref="Remaining"/> true, so the loop always knows where the next header starts.
/// </summary>
public sealed class FrameSession : IDisposable
{
    private const int MinimumScratch = 4096;

    private readonly IFrameTransport _transport;
    private readonly FrameSessionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationToken _closed;
    private readonly long _timeoutRefreshMillis;
    private CancellationTokenSource _deadline;
    private long _deadlineArmedAt;
    private bool _deadlineArmed;
    private byte[]? _scratch;

    public FrameSession(IFrameTransport transport, FrameSessionOptions options, ILogger logger)
    {
        _transport = transport;
        _options = options;
        _logger = logger;
        _closed = transport.Closed;
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(_closed);
        _timeoutRefreshMillis = Math.Min(1000, (long)options.NetworkTimeout.TotalMilliseconds / 8);
        Peer = transport.RemoteEndPoint?.ToString() ?? "?";
        Progress = RefreshTimeout;
    }

    /// <summary><see cref="RefreshTimeout"/> as a delegate made once (a send-file callback per download would allocate one each).</summary>
    public Action Progress { get; }

    public IFrameTransport Transport => _transport;

    public PipeReader Input => _transport.Input;

    public PipeWriter Output => _transport.Output;

    /// <summary>The peer's address and port, for logs.</summary>
    public string Peer { get; }

    /// <summary>Ends with the connection, or when the request in progress overruns <c>network_timeout</c>.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>Body bytes of the current request not read yet.</summary>
    public long Remaining { get; set; }

    /// <summary>Set by a handler to end the connection after its reply (a failed proof, a body too large to drop).</summary>
    public bool CloseAfterReply { get; set; }

    /// <summary>Whether a request was served on this connection (it may then idle without a deadline).</summary>
    public bool Served { get; private set; }

    /// <summary>The largest body a handler may read into memory (<see cref="ReadSmallBodyAsync"/>).</summary>
    public int MaxInMemoryBody => _options.MaxInMemoryBody;

    /// <summary>Serves requests until the peer leaves or QUITs, the connection is aborted, a reply asks to close, or the
    /// server stops while the connection waits for its next request; a request in progress completes.</summary>
    public async Task RunAsync(IFrameHandler handler)
    {
        var idleEnd = _transport.IdleEnd;
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                if (Served)
                {
                    await _transport.WaitForInputAsync(idleEnd).ConfigureAwait(false);
                }
                else
                {
                    // As stock: a connection must send its first whole request within network_timeout (idle sockets would
                    // otherwise take every connection); once served it may idle between requests (pools, peers).
                    using var first = CancellationTokenSource.CreateLinkedTokenSource(idleEnd);
                    first.CancelAfter(_options.NetworkTimeout);
                    await _transport.WaitForInputAsync(first.Token).ConfigureAwait(false);
                }

                // The deadline, left armed between requests, may have fired while the connection was idle: a header must
                // arrive whole within a fresh network_timeout.
                _deadlineArmed = false;
                RestartTimeout();
                var header = await Input.ReadHeaderAsync(Token).ConfigureAwait(false);
                if (header is not { } request || request.Cmd == FdfsCommand.Quit)
                {
                    return;
                }

                if (request.BodyLength < 0 || request.BodyLength > _options.MaxBodyLength)
                {
                    // Stock waits for such a body (or drops the connection); we answer, when the role does, and close at once.
                    _logger.LogWarning("{Peer}: command {Command} declares a body of {Length} bytes (at most {Max}): closing",
                        Peer, request.Command, request.BodyLength, _options.MaxBodyLength);
                    if (_options.BadLengthStatus is { } refusal)
                    {
                        Output.WriteStatus(refusal);
                        await Output.FlushAsync(Token).ConfigureAwait(false);
                    }

                    return;
                }

                Served = true;
                Remaining = request.BodyLength;
                byte status = await ProcessAsync(handler, request).ConfigureAwait(false);
                if (status != Errno.Ok)
                {
                    Output.WriteStatus(status);
                }

                await Output.FlushAsync(Token).ConfigureAwait(false);
                if (CloseAfterReply || (status == Errno.EINVAL && _options.CloseOnInvalidRequest))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!_closed.IsCancellationRequested && !idleEnd.IsCancellationRequested)
        {
            _logger.LogWarning("{Peer}: no whole request or reply within network_timeout ({Seconds}s): closing",
                Peer, _options.NetworkTimeout.TotalSeconds);
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException or SocketException
                                      or ObjectDisposedException)
        {
            // Peer gone, network_timeout or shutdown: nothing can be replied.
            _logger.LogDebug("{Peer}: connection ended: {Reason}", Peer, e.Message);
        }
        finally
        {
            ReturnScratch();
        }
    }

    private async ValueTask<byte> ProcessAsync(IFrameHandler handler, PacketHeader request)
    {
        long started = Stopwatch.GetTimestamp();
        byte status;
        try
        {
            status = await handler.HandleAsync(request).ConfigureAwait(false);
        }
        catch (ProtocolException e)
        {
            _logger.LogDebug("{Peer}: command {Command}: {Message} (errno {Status})", Peer, request.Command, e.Message, e.Status);
            status = e.Status == Errno.Ok ? Errno.EINVAL : e.Status;
        }
        catch (Exception e) when (handler.TryMapFailure(request, e, out status))
        {
            // The role answers this failure with an errno and keeps the connection (a full disk, a vanished file).
        }

        ReturnScratch();
        handler.OnServed(request, status, started);
        if (Remaining > 0 && !(status == Errno.EINVAL && _options.CloseOnInvalidRequest))
        {
            if (Remaining > _options.MaxSkippedBody)
            {
                // A refused request with a huge body (a declared 2^62-byte upload): answer now and close rather than read it all.
                CloseAfterReply = true;
            }
            else
            {
                await Input.SkipAsync(Remaining, Token).ConfigureAwait(false);
                Remaining = 0;
            }
        }

        return status;
    }

    /// <summary>
    /// Pushes the network_timeout deadline forward after progress (a piece of a body received or sent). Re-arming the timer
    /// costs a timer-queue update, so it is done at most once a second (an eighth of network_timeout when that is
    /// shorter): the deadline is then at least seven eighths of network_timeout after the last activity.
    /// </summary>
    public void RefreshTimeout()
    {
        long now = Environment.TickCount64;
        if (!_deadlineArmed || now - _deadlineArmedAt >= _timeoutRefreshMillis)
        {
            _deadline.CancelAfter(_options.NetworkTimeout);
            _deadlineArmedAt = now;
            _deadlineArmed = true;
        }
    }

    /// <summary>A full network_timeout from now, also after the deadline passed (while idle, or during a sync_ack_replicas wait).</summary>
    public void RestartTimeout()
    {
        if (_deadline.IsCancellationRequested)
        {
            _deadline.Dispose();
            _deadline = CancellationTokenSource.CreateLinkedTokenSource(_closed);
            _deadlineArmed = false;
        }

        RefreshTimeout();
    }

    /// <summary>
    /// A pooled buffer of at least <paramref name="length"/> bytes for the current request. What an earlier call returned is
    /// no longer valid; the buffer goes back to the pool when the request ends (idle connections hold none).
    /// </summary>
    public Memory<byte> Scratch(int length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            ReturnScratch();
            _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(length, MinimumScratch));
        }

        return _scratch.AsMemory(0, length);
    }

    /// <summary>Reads the next <paramref name="length"/> body bytes into the request's buffer.</summary>
    public async ValueTask<Memory<byte>> ReadBodyAsync(int length)
    {
        if (length > Remaining)
        {
            throw new ProtocolException("body shorter than its fields");
        }

        var memory = Scratch(length);
        await Input.ReadIntoAsync(memory, Token).ConfigureAwait(false);
        Remaining -= length;
        return memory;
    }

    /// <summary>Reads a whole request body that is processed in memory (at least <paramref name="minimum"/> bytes, at most <see cref="MaxInMemoryBody"/>).</summary>
    public ValueTask<Memory<byte>> ReadSmallBodyAsync(PacketHeader request, int minimum)
    {
        if (request.BodyLength < minimum || request.BodyLength > _options.MaxInMemoryBody)
        {
            throw new ProtocolException($"body of {request.BodyLength} bytes");
        }

        return ReadBodyAsync((int)request.BodyLength);
    }

    private void ReturnScratch()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }

    public void Dispose()
    {
        _deadline.Dispose();
        ReturnScratch();
    }
}
