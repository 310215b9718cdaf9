using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;

namespace FastDfs.Client.Connections;

/// <summary>
/// One TCP connection to a tracker or storage, framed with System.IO.Pipelines. Operations run through
/// <see cref="RunAsync{T}"/>, which applies the network timeout and turns socket/protocol failures into
/// <see cref="FastDfsException"/>s; any such failure (or an EINVAL reply, after which a storage closes the
/// connection) marks the connection <see cref="IsBroken"/> so its pool discards it.
/// </summary>
public sealed class FastDfsConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _networkTimeout;
    private readonly int _bufferSize;
    private readonly bool _blocking;
    private CancellationTokenSource? _operationTimeout;
    private CancellationTokenSource? _timeoutSource;
    private int _disposed;

    private FastDfsConnection(FastDfsEndpoint endpoint, Socket socket, FastDfsClientOptions options)
    {
        Endpoint = endpoint;
        _socket = socket;
        _stream = options.BlockingSockets ? new BlockingNetworkStream(socket, options.NetworkTimeout) : new NetworkStream(socket, ownsSocket: true);
        _networkTimeout = options.NetworkTimeout;
        _blocking = options.BlockingSockets;
        _bufferSize = Math.Max(4096, options.StreamBufferSize);
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: _bufferSize, leaveOpen: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: _bufferSize, leaveOpen: true));
        LastUsed = Environment.TickCount64;
    }

    public FastDfsEndpoint Endpoint { get; }

    public PipeReader Reader { get; }

    public PipeWriter Writer { get; }

    /// <summary>The connection saw an I/O error, a protocol error, a timeout or EINVAL: do not reuse it.</summary>
    public bool IsBroken { get; private set; }

    internal long LastUsed { get; set; }

    /// <summary>The connection was taken from the idle pool (not opened for the current operation).</summary>
    internal bool FromPool { get; set; }

    /// <summary>Some bytes of the current operation's request were handed to the socket.</summary>
    internal bool RequestFlushed { get; private set; }

    /// <summary>A reply header of the current operation was received.</summary>
    internal bool ReplyStarted { get; private set; }

    /// <summary>Bytes the current operation read from the caller's content stream.</summary>
    internal long ContentRead { get; private set; }

    /// <summary>Opens a connection within the connect timeout.</summary>
    public static async ValueTask<FastDfsConnection> ConnectAsync(FastDfsEndpoint endpoint, FastDfsClientOptions options, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            EndPoint target = IPAddress.TryParse(endpoint.Host, out var ip)
                ? new IPEndPoint(ip, endpoint.Port)
                : new DnsEndPoint(endpoint.Host, endpoint.Port);
            if (options.BlockingSockets)
            {
                ConnectBlocking(socket, target, options.ConnectTimeout);
            }
            else
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(options.ConnectTimeout);
                await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
            }

            return new FastDfsConnection(endpoint, socket, options);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new FastDfsConnectionException(endpoint, Errno.ETIMEDOUT,
                $"connect to server {endpoint} fail, error no: {Errno.ETIMEDOUT}, error info: {Errno.Describe(Errno.ETIMEDOUT)}");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            int code = SocketErrno(ex);
            throw new FastDfsConnectionException(endpoint, code, $"connect to server {endpoint} fail, error no: {code}, error info: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A blocking connect: an asynchronous one would switch the socket to non-blocking mode for good, and its
    /// blocking calls would then be emulated through the readiness engine. Linux bounds a blocking connect by
    /// the send timeout, so that carries the connect timeout until the stream sets the network timeout.
    /// </summary>
    private static void ConnectBlocking(Socket socket, EndPoint target, TimeSpan connectTimeout)
    {
        socket.SendTimeout = BlockingNetworkStream.SocketTimeoutMs(connectTimeout);
        try
        {
            socket.Connect(target);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.InProgress or SocketError.WouldBlock or SocketError.TimedOut)
        {
            throw new OperationCanceledException("connect timed out", ex);
        }
    }

    /// <summary>
    /// Runs one request/response exchange with the network timeout (restarted by <see cref="Progress"/>),
    /// translating failures and marking the connection broken when its state is unknown.
    /// </summary>
    public async ValueTask<T> RunAsync<T>(Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CancellationTokenSource? timeout = null;
        CancellationTokenRegistration callerCancels = default;
        if (!_blocking)
        {
            // One timeout source per connection, reset between exchanges (a new one only after it fired);
            // the caller's token cancels it through a registration instead of a linked source per exchange.
            // Blocking sockets carry the network timeout themselves.
            if (_timeoutSource is null || !_timeoutSource.TryReset())
            {
                _timeoutSource?.Dispose();
                _timeoutSource = new CancellationTokenSource();
            }

            timeout = _timeoutSource;
            timeout.CancelAfter(_networkTimeout);
            callerCancels = ct.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), timeout);
        }

        _operationTimeout = timeout;
        RequestFlushed = false;
        ReplyStarted = false;
        ContentRead = 0;
        try
        {
            return await exchange(this, timeout?.Token ?? ct).ConfigureAwait(false);
        }
        catch (FastDfsException)
        {
            throw;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            IsBroken = true;
            throw;
        }
        catch (OperationCanceledException ex)
        {
            IsBroken = true;
            throw new FastDfsConnectionException(Endpoint, Errno.ETIMEDOUT,
                $"{Endpoint}: network timeout after {_networkTimeout.TotalSeconds:0.#} s, error no: {Errno.ETIMEDOUT}, error info: {Errno.Describe(Errno.ETIMEDOUT)}", ex);
        }
        catch (ProtocolException ex)
        {
            IsBroken = true;
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            IsBroken = true;
            var socketError = ex as SocketException ?? ex.InnerException as SocketException;
            int code = socketError != null ? SocketErrno(socketError) : Errno.EIO;
            throw new FastDfsConnectionException(Endpoint, code, $"{Endpoint}: connection failed: {ex.Message}", ex);
        }
        catch
        {
            IsBroken = true;
            throw;
        }
        finally
        {
            callerCancels.Dispose();
            _operationTimeout = null;
            LastUsed = Environment.TickCount64;
        }
    }

    /// <summary>Restarts the network timeout: called as a streamed body makes progress.</summary>
    public void Progress() => _operationTimeout?.CancelAfter(_networkTimeout);

    /// <summary>Writes a request header plus the fixed part of its body; the rest (if any) is streamed after.</summary>
    public void WriteRequest(FdfsCommand command, ReadOnlySpan<byte> fixedPart, long totalBodyLength = -1, byte status = 0)
    {
        ClientTelemetry.NameExchange(command);
        Writer.WriteRequest(command, fixedPart, totalBodyLength, status);
    }

    public async ValueTask FlushAsync(CancellationToken ct)
    {
        var result = await Writer.FlushAsync(ct).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new IOException("the connection was closed while sending");
        }

        RequestFlushed = true;
    }

    /// <summary>Streams exactly <paramref name="length"/> bytes of <paramref name="content"/>, flushing per chunk.</summary>
    public async ValueTask WriteBodyAsync(Stream content, long length, CancellationToken ct)
    {
        long remaining = length;
        while (remaining > 0)
        {
            // Sized to what is left, so a small body joins the request header in the current buffer
            // and leaves in one send (a 64 KB hint would start a new buffer: two sends, two wake-ups).
            var memory = Writer.GetMemory((int)Math.Min(remaining, _bufferSize));
            int want = (int)Math.Min(memory.Length, remaining);
            int read = await content.ReadAsync(memory[..want], ct).ConfigureAwait(false);
            if (read == 0)
            {
                // The header promised `length` bytes: the peer would wait for the rest, so this connection is unusable.
                IsBroken = true;
                throw new EndOfStreamException($"the content stream ended {remaining} bytes before the announced length {length}");
            }

            Writer.Advance(read);
            ContentRead += read;
            remaining -= read;
            await FlushAsync(ct).ConfigureAwait(false);
            Progress();
        }

        await FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads a response header; throws <see cref="FastDfsException"/> for an errno status. Returns the body length.</summary>
    public async ValueTask<long> ReadResponseAsync(CancellationToken ct)
    {
        var header = await Reader.ReadHeaderAsync(ct).ConfigureAwait(false)
            ?? throw new EndOfStreamException("the server closed the connection without a reply");
        ReplyStarted = true;
        if (header.Cmd != FdfsCommand.Response)
        {
            throw new ProtocolException($"reply command byte is {header.Command}, expected {(byte)FdfsCommand.Response}");
        }

        if (header.BodyLength < 0)
        {
            throw new ProtocolException($"reply body length {header.BodyLength} is negative");
        }

        if (header.Status != 0)
        {
            if (header.BodyLength > 0)
            {
                await Reader.SkipAsync(header.BodyLength, ct).ConfigureAwait(false);
            }

            if (header.Status == Errno.EINVAL)
            {
                // Storages close the connection after an EINVAL reply (spec 1.4).
                IsBroken = true;
            }

            throw new FastDfsException(header.Status);
        }

        return header.BodyLength;
    }

    /// <summary>Reads a small body (bounded by <paramref name="maxLength"/>) into a new array.</summary>
    public async ValueTask<byte[]> ReadBodyAsync(long length, long maxLength, CancellationToken ct)
    {
        if (length > maxLength)
        {
            throw new ProtocolException($"reply body of {length} bytes exceeds the expected maximum {maxLength}");
        }

        var body = new byte[length];
        if (length > 0)
        {
            await Reader.ReadIntoAsync(body, ct).ConfigureAwait(false);
        }

        return body;
    }

    /// <summary>Sends a request whose body is entirely <paramref name="body"/> and returns the reply body (bounded).</summary>
    public async ValueTask<byte[]> ExchangeAsync(FdfsCommand command, ReadOnlyMemory<byte> body, long maxReplyLength, CancellationToken ct, byte status = 0)
    {
        WriteRequest(command, body.Span, status: status);
        await FlushAsync(ct).ConfigureAwait(false);
        long length = await ReadResponseAsync(ct).ConfigureAwait(false);
        return await ReadBodyAsync(length, maxReplyLength, ct).ConfigureAwait(false);
    }

    /// <summary>Streams <paramref name="length"/> reply bytes into <paramref name="destination"/>.</summary>
    public ValueTask CopyBodyAsync(long length, Stream destination, CancellationToken ct) =>
        Reader.CopyToAsync(length, async segment =>
        {
            await destination.WriteAsync(segment, ct).ConfigureAwait(false);
            Progress();
        }, ct);

    /// <summary>True when an idle connection was closed by the peer (readable with no data, or errored).</summary>
    internal bool LooksClosedByPeer()
    {
        try
        {
            return _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    internal void MarkBroken() => IsBroken = true;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        IsBroken = true;
        Reader.Complete();
        Writer.Complete();
        _stream.Dispose();
        _timeoutSource?.Dispose();
    }

    private static int SocketErrno(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => 111,
        SocketError.TimedOut => Errno.ETIMEDOUT,
        SocketError.HostUnreachable => 113,
        SocketError.NetworkUnreachable => 101,
        SocketError.ConnectionReset => 104,
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => Errno.ENOENT,
        _ => ex.NativeErrorCode > 0 && ex.NativeErrorCode < 256 ? ex.NativeErrorCode : Errno.EIO,
    };
}
