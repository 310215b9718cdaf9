using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;

namespace FastDfs.Client.Tests.Fakes;

/// <summary>A request as the fake server received it (body captured up to a limit, the rest drained).</summary>
public sealed record ReceivedRequest(int ConnectionIndex, PacketHeader Header, byte[] CapturedBody)
{
    public FdfsCommand Command => Header.Cmd;

    /// <summary>Header + captured body: the exact bytes on the wire when the body was fully captured.</summary>
    public byte[] Frame => [.. Header.ToArray(), .. CapturedBody];
}

/// <summary>What the fake answers to one request.</summary>
public sealed record FakeReply(byte[]? Bytes, bool Close = false, bool Hang = false)
{
    public static FakeReply Ok(ReadOnlySpan<byte> body) => new([.. PacketHeader.Response(body.Length).ToArray(), .. body]);

    public static FakeReply Ok() => Ok([]);

    /// <summary>Header-only errno reply; <paramref name="close"/> mimics a storage closing after EINVAL.</summary>
    public static FakeReply Error(byte status, bool close = false) => new(PacketHeader.Response(0, status).ToArray(), close);

    public static FakeReply Raw(byte[] frame) => new(frame);

    public static readonly FakeReply CloseWithoutReply = new(null, Close: true);

    /// <summary>Never answer (for timeout and cancellation tests).</summary>
    public static readonly FakeReply NoReply = new(null, Hang: true);
}

/// <summary>
/// A scripted FastDFS server on 127.0.0.1:0: reads frames, records them, answers what the handler says.
/// Large bodies are drained through one buffer per connection (nothing proportional to the body is allocated).
/// </summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ReceivedRequest, FakeReply> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly int _captureLimit;
    private int _connections;

    private FakeServer(Func<ReceivedRequest, FakeReply> handler, int captureLimit)
    {
        _handler = handler;
        _captureLimit = captureLimit;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = new FastDfsEndpoint("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
        _tasks.Add(AcceptLoopAsync());
    }

    public static FakeServer Start(Func<ReceivedRequest, FakeReply> handler, int captureLimit = 1 << 20) => new(handler, captureLimit);

    public FastDfsEndpoint Endpoint { get; }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Total body bytes received (captured + drained).</summary>
    public long BodyBytesReceived => Interlocked.Read(ref _bodyBytes);

    private long _bodyBytes;

    /// <summary>An address where nothing listens (a listener bound then stopped).</summary>
    public static FastDfsEndpoint ClosedEndpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new FastDfsEndpoint("127.0.0.1", port);
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                int index = Interlocked.Increment(ref _connections) - 1;
                lock (_tasks)
                {
                    _tasks.Add(ServeAsync(client, index));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, int index)
    {
        using var _ = client;
        var stream = client.GetStream();
        var header = new byte[ProtocolConstants.HeaderSize];
        var drain = new byte[64 * 1024];
        try
        {
            while (true)
            {
                if (!await ReadFullyAsync(stream, header))
                {
                    return;
                }

                var parsed = PacketHeader.Read(header);
                var captured = new byte[Math.Min(parsed.BodyLength, _captureLimit)];
                await stream.ReadExactlyAsync(captured, _stop.Token);
                long rest = parsed.BodyLength - captured.Length;
                while (rest > 0)
                {
                    int n = await stream.ReadAsync(drain.AsMemory(0, (int)Math.Min(drain.Length, rest)), _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    rest -= n;
                }

                Interlocked.Add(ref _bodyBytes, parsed.BodyLength);
                var request = new ReceivedRequest(index, parsed, captured);
                Requests.Enqueue(request);
                var reply = _handler(request);
                if (reply.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                if (reply.Bytes != null)
                {
                    await stream.WriteAsync(reply.Bytes, _stop.Token);
                }

                if (reply.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or EndOfStreamException)
        {
        }
    }

    private async Task<bool> ReadFullyAsync(NetworkStream stream, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read), _stop.Token);
            if (n == 0)
            {
                return read == 0 ? false : throw new EndOfStreamException();
            }

            read += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _stop.Dispose();
    }
}
