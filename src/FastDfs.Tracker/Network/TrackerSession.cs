using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Transport;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>
/// One tracker connection: reads a frame, dispatches it, writes the reply. Errors are answered with a
/// header-only status and the connection stays open (stock tracker); only framing violations close it.
/// Split by command family: Client (section 4), Storage (section 6), Monitor (stats).
/// </summary>
internal sealed partial class TrackerSession
{
    private readonly TrackerRuntime _runtime;
    private readonly IFrameTransport _connection;
    private readonly ILogger _logger;
    private readonly PipeWriter _output;
    private readonly ClusterState _cluster;
    private readonly TrackerConfig _options;
    private readonly string _peer;

    public TrackerSession(TrackerRuntime runtime, IFrameTransport connection, ILogger logger)
    {
        _runtime = runtime;
        _connection = connection;
        _logger = logger;
        _output = connection.Output;
        _cluster = runtime.Cluster;
        _options = runtime.Config;
        RemoteIp = IpText(connection.RemoteEndPoint?.Address);
        _peer = connection.RemoteEndPoint?.ToString() ?? "?";
    }

    /// <summary>The caller's address as text (IPv4-mapped addresses shown as IPv4, loopback accepted).</summary>
    private string RemoteIp { get; }

    private static string IpText(IPAddress? address)
    {
        if (address is null)
        {
            return "";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 ? address.ToString().Split('%')[0] : address.ToString();
    }

    private int NetworkTimeoutSeconds => _options.NetworkTimeout > 0 ? _options.NetworkTimeout : 60;

    /// <summary>
    /// Serves requests until the peer leaves or the connection is aborted; the tracker stopping ends the connection
    /// while it waits for its next request (<see cref="IFrameTransport.IdleEnd"/>). Timeouts as stock's: a connection
    /// must send its first whole request within <c>network_timeout</c>, each request (header, body) must arrive and its
    /// reply leave within it; a connection that has been served may idle between requests (storages, pools).
    /// </summary>
    public async Task RunAsync()
    {
        var closed = _connection.Closed;
        var input = _connection.Input;
        var timeout = TimeSpan.FromSeconds(NetworkTimeoutSeconds);
        var request = CancellationTokenSource.CreateLinkedTokenSource(closed);
        bool served = false;
        try
        {
            while (!closed.IsCancellationRequested)
            {
                if (served)
                {
                    // No receive buffer is held while a storage's or peer's connection idles between requests.
                    await _connection.WaitForInputAsync(_connection.IdleEnd).ConfigureAwait(false);
                }
                else
                {
                    using var first = CancellationTokenSource.CreateLinkedTokenSource(_connection.IdleEnd);
                    first.CancelAfter(timeout);
                    await _connection.WaitForInputAsync(first.Token).ConfigureAwait(false);
                }

                if (!request.TryReset())
                {
                    request.Dispose();
                    request = CancellationTokenSource.CreateLinkedTokenSource(closed);
                }

                request.CancelAfter(timeout);
                var header = await input.ReadHeaderAsync(request.Token).ConfigureAwait(false);
                if (header is not { } h)
                {
                    break;
                }

                if (h.BodyLength < 0 || h.BodyLength > _options.MaxPackageSize - ProtocolConstants.HeaderSize)
                {
                    // Stock closes without a reply; we do it at once instead of waiting for the body.
                    _logger.LogWarning("{Peer}: cmd {Command} with pkg_len {Length} (max {Max}): closing",
                        _peer, h.Command, h.BodyLength, _options.MaxPackageSize);
                    break;
                }

                if (h.Cmd == FdfsCommand.Quit)
                {
                    break;
                }

                await ProcessAsync(input, h, request.Token).ConfigureAwait(false);
                await _output.FlushAsync(request.Token).ConfigureAwait(false);
                served = true;
                if (_closeAfterReply)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!closed.IsCancellationRequested && !_connection.IdleEnd.IsCancellationRequested)
        {
            _logger.LogWarning("{Peer}: no whole request or reply within network_timeout ({Seconds}s): closing", _peer, NetworkTimeoutSeconds);
        }
        catch (Exception ex) when (ex is OperationCanceledException or EndOfStreamException or IOException
                                       or SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("{Peer}: connection ended: {Reason}", _peer, ex.Message);
        }
        finally
        {
            request.Dispose();
            if (_joined is not null)
            {
                _cluster.Logout(_joined, this);
            }

            _runtime.DataStore.UnlockSysFiles(this);

            await input.CompleteAsync().ConfigureAwait(false);
            await _output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask ProcessAsync(PipeReader input, PacketHeader header, CancellationToken ct)
    {
        long started = Http.TrackerMetrics.StartTimestamp();
        await ProcessFrameAsync(input, header, ct).ConfigureAwait(false);
        _runtime.Metrics?.RecordCommand(header.Command, started);
    }

    private async ValueTask ProcessFrameAsync(PipeReader input, PacketHeader header, CancellationToken ct)
    {
        if (await TryHandlePeerProofAsync(input, header, ct).ConfigureAwait(false))
        {
            return;
        }

        int length = (int)header.BodyLength;
        if (header.Cmd == FdfsCommand.ServerSetTrunkServer)
        {
            // May run an election (network round trips to the storages): handled asynchronously.
            await SetTrunkServerAsync(input, length, ct).ConfigureAwait(false);
            return;
        }

        if (length == 0)
        {
            Dispatch(header, []);
            return;
        }

        var body = await input.ReadExactlyAsync(length, ct).ConfigureAwait(false);
        if (header.Cmd == FdfsCommand.StorageJoin && !await PrepareJoinAsync(body, ct).ConfigureAwait(false))
        {
            input.AdvanceTo(body.End);
            return;
        }

        try
        {
            if (body.IsSingleSegment)
            {
                Dispatch(header, body.FirstSpan);
            }
            else
            {
                byte[] rented = ArrayPool<byte>.Shared.Rent(length);
                try
                {
                    body.CopyTo(rented);
                    Dispatch(header, rented.AsSpan(0, length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
        finally
        {
            input.AdvanceTo(body.End);
        }
    }

    private void Dispatch(PacketHeader header, ReadOnlySpan<byte> body)
    {
        try
        {
            if (!TryDispatchClient(header.Cmd, body) && !TryDispatchStorage(header.Cmd, body) &&
                !TryDispatchMonitor(header.Cmd, body) && !TryDispatchPeer(header.Cmd, body))
            {
                throw new ProtocolException($"unknown command {header.Command}");
            }
        }
        catch (ProtocolException ex)
        {
            if (ex.Status == Errno.EINVAL)
            {
                _logger.LogWarning("{Peer}: cmd {Command}: {Message}", _peer, header.Command, ex.Message);
            }
            else
            {
                _logger.LogDebug("{Peer}: cmd {Command}: {Message} (errno {Status})", _peer, header.Command, ex.Message, ex.Status);
            }

            _output.WriteStatus(ex.Status);
        }
    }

    private static void ExpectLength(ReadOnlySpan<byte> body, int expected, FdfsCommand command)
    {
        if (body.Length != expected)
        {
            throw new ProtocolException($"{command}: body of {body.Length} bytes, expected {expected}");
        }
    }

    private static string ReadGroupName(ReadOnlySpan<byte> body) => FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]);

    /// <summary>A success reply whose body is built in place.</summary>
    private void Reply(int bodyLength, SpanAction<byte, TrackerSession> build)
    {
        _output.WriteResponseHeader(bodyLength);
        if (bodyLength == 0)
        {
            return;
        }

        var span = _output.GetSpan(bodyLength);
        if (span.Length >= bodyLength)
        {
            span = span[..bodyLength];
            span.Clear();
            build(span, this);
            _output.Advance(bodyLength);
            return;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(bodyLength);
        try
        {
            var buffer = rented.AsSpan(0, bodyLength);
            buffer.Clear();
            build(buffer, this);
            _output.Write(buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void ReplyEmpty() => _output.WriteStatus(Errno.Ok);

    private void Reply(ReadOnlySpan<byte> body) => _output.WriteResponse(body);
}
