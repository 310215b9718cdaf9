using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;

namespace FastDfs.Tracker.Tests.Infrastructure;

/// <summary>A raw FastDFS frame connection over a real socket, optionally from a chosen loopback address.</summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly CancellationToken _ct;

    private RawConnection(TcpClient client, CancellationToken ct)
    {
        _client = client;
        _stream = client.GetStream();
        _ct = ct;
    }

    /// <summary>The socket's stream (for a handshake run by the code under test).</summary>
    public NetworkStream Stream => _stream;

    /// <summary>The tracker this connection goes to.</summary>
    public IPEndPoint RemoteEndPoint => (IPEndPoint)_client.Client.RemoteEndPoint!;

    public static async Task<RawConnection> ConnectAsync(IPEndPoint tracker, CancellationToken ct, string? localIp = null)
    {
        var client = localIp is null ? new TcpClient() : new TcpClient(new IPEndPoint(IPAddress.Parse(localIp), 0));
        await client.ConnectAsync(tracker, ct);
        return new RawConnection(client, ct);
    }

    public async Task SendAsync(FdfsCommand command, ReadOnlyMemory<byte> body, long? declaredLength = null)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        new PacketHeader(declaredLength ?? body.Length, command).WriteTo(frame);
        body.Span.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
        await _stream.WriteAsync(frame, _ct);
    }

    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes, _ct);

    public async Task<(PacketHeader Header, byte[] Body)> ReceiveAsync()
    {
        var headerBytes = new byte[ProtocolConstants.HeaderSize];
        await _stream.ReadExactlyAsync(headerBytes, _ct);
        var header = PacketHeader.Read(headerBytes);
        Assert.Equal((byte)FdfsCommand.Response, header.Command);
        var body = new byte[header.BodyLength];
        await _stream.ReadExactlyAsync(body, _ct);
        return (header, body);
    }

    /// <summary>Sends a request and returns the reply status and body (a non-zero status always has no body).</summary>
    public async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body = default)
    {
        await SendAsync(command, body);
        var (header, reply) = await ReceiveAsync();
        if (header.Status != 0)
        {
            Assert.Empty(reply);
        }

        return (header.Status, reply);
    }

    /// <summary>Sends a request that must succeed and returns its body.</summary>
    public async Task<byte[]> RequestOkAsync(FdfsCommand command, ReadOnlyMemory<byte> body = default)
    {
        var (status, reply) = await RequestAsync(command, body);
        Assert.True(status == 0, $"{command} answered errno {status} ({Errno.Describe(status)})");
        return reply;
    }

    public async Task<byte> StatusOfAsync(FdfsCommand command, ReadOnlyMemory<byte> body = default) =>
        (await RequestAsync(command, body)).Status;

    /// <summary>True when the server closed the connection (end of stream) before sending anything.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        var buffer = new byte[1];
        try
        {
            return await _stream.ReadAsync(buffer, _ct) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
