using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Sessions;
using FastDfs.ServerCore.Transport;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>
/// One tracker connection: reads a frame, dispatches it, writes the reply. Errors are answered with a
/// header-only status and the connection stays open (stock tracker); only framing violations close it.
/// Split by command family: Client (section 4), Storage (section 6), Monitor (stats).
/// </summary>
internal sealed partial class TrackerSession : IFrameHandler
{
    private readonly TrackerRuntime _runtime;
    private readonly IFrameTransport _connection;
    private readonly FrameSession _frames;
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
        int bodyLimit = (int)Math.Clamp(_options.MaxPackageSize - ProtocolConstants.HeaderSize, 0, int.MaxValue - 64);
        _frames = new FrameSession(connection, new FrameSessionOptions
        {
            NetworkTimeout = TimeSpan.FromSeconds(NetworkTimeoutSeconds),
            MaxInMemoryBody = bodyLimit,
            MaxBodyLength = bodyLimit,
            BadLengthStatus = null, // stock tracker closes without a reply
            CloseOnInvalidRequest = false, // stock tracker answers EINVAL and keeps the connection
        }, logger);
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
        try
        {
            await _frames.RunAsync(this).ConfigureAwait(false);
        }
        finally
        {
            _frames.Dispose();
            if (_joined is not null)
            {
                _cluster.Logout(_joined, this);
            }

            _runtime.DataStore.UnlockSysFiles(this);

            await _connection.Input.CompleteAsync().ConfigureAwait(false);
            await _output.CompleteAsync().ConfigureAwait(false);
        }
    }

    void IFrameHandler.OnServed(PacketHeader request, byte status, long startedTimestamp) =>
        _runtime.Metrics?.RecordCommand(request.Command, startedTimestamp);

    bool IFrameHandler.TryMapFailure(PacketHeader request, Exception failure, out byte status)
    {
        status = 0;
        return false;
    }

    async ValueTask<byte> IFrameHandler.HandleAsync(PacketHeader header)
    {
        if (await TryHandlePeerProofAsync(header).ConfigureAwait(false) is { } proofStatus)
        {
            return proofStatus;
        }

        int length = (int)header.BodyLength;
        if (header.Cmd == FdfsCommand.ServerSetTrunkServer)
        {
            // May run an election (network round trips to the storages): handled asynchronously.
            return await SetTrunkServerAsync(header).ConfigureAwait(false);
        }

        var body = length == 0 ? Memory<byte>.Empty : await _frames.ReadBodyAsync(length).ConfigureAwait(false);
        if (header.Cmd == FdfsCommand.StorageJoin && !await PrepareJoinAsync(body, _frames.Token).ConfigureAwait(false))
        {
            return Errno.EAGAIN;
        }

        if (!TryDispatchClient(header.Cmd, body.Span) && !TryDispatchStorage(header.Cmd, body.Span) &&
            !TryDispatchMonitor(header.Cmd, body.Span) && !TryDispatchPeer(header.Cmd, body.Span))
        {
            throw new ProtocolException($"unknown command {header.Command}");
        }

        return Errno.Ok;
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
