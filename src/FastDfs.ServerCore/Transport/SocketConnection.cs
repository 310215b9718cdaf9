using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.ServerCore.Transport;

/// <summary>
/// One accepted client socket as a duplex pipe for the session. Both pipes work straight on the socket
/// (no pump loops in between): a read receives into the reader's pooled buffer on the calling thread when
/// data is there, and a flush has sent every buffered byte to the socket when it completes. That last point
/// is what lets <see cref="SendFileAsync"/> hand a file range to the kernel (<c>sendfile</c>) after the
/// reply header without anything overtaking it.
/// </summary>
public sealed class SocketConnection : IFrameTransport, IAsyncDisposable
{
    /// <summary>Receive buffer per read (pooled, returned as soon as its bytes are consumed).</summary>
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>A file range goes to the kernel in pieces of this size, so network_timeout can be re-armed between them.</summary>
    private const int SendFilePieceSize = 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationTokenSource _idleEnd;
    private SendPacketsOperation? _sendPackets;
    private int _aborted;

    /// <param name="socket">the accepted socket</param>
    /// <param name="serverStopping">cancelled when the server stops: ends <see cref="IdleEnd"/></param>
    public SocketConnection(Socket socket, CancellationToken serverStopping = default)
    {
        _idleEnd = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, serverStopping);
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: false);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: ReceiveBufferSize, minimumReadSize: 4096, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Cancelled when the connection is aborted (server kill or forced stop).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>
    /// Cancelled when the connection is aborted or the server stops: a session passes it to
    /// <see cref="WaitForInputAsync"/>, so stopping ends connections that wait for their next request (peers'
    /// long-lived connections would hold the shutdown otherwise) while a request in progress completes.
    /// </summary>
    public CancellationToken IdleEnd => _idleEnd.Token;

    /// <summary>
    /// Waits until request bytes are buffered or can be received, without holding a receive buffer while
    /// the connection idles between requests (a zero-byte receive only waits for readability).
    /// </summary>
    public async ValueTask WaitForInputAsync(CancellationToken cancellationToken)
    {
        if (Input.TryRead(out var buffered))
        {
            Input.AdvanceTo(buffered.Buffer.Start);
            return;
        }

        try
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw new IOException("receive failed", e);
        }

        // A zero-byte receive may complete with nothing to read (the socket engine still held an old readiness). Wait
        // here, still cancellable, until a byte or the end of the stream is really there: the caller's header read
        // runs under network_timeout and would hold a stopping server that long.
        var result = await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        Input.AdvanceTo(result.Buffer.Start);
    }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> with
    /// <c>sendfile</c> (Socket.SendPacketsAsync), after flushing everything written to <see cref="Output"/>.
    /// <paramref name="progress"/> runs after each piece (the caller re-arms its timeout there). The handle
    /// must be opened with <see cref="FileOptions.Asynchronous"/> (SendPacketsElement requires it; on Linux
    /// that changes nothing else about the handle).
    /// </summary>
    public async ValueTask SendFileAsync(SafeFileHandle file, long offset, long count, Action progress, CancellationToken cancellationToken)
    {
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        // The stream only carries the handle to SendPacketsElement: it is not disposed (the caller owns
        // the handle) and has nothing to flush, so its finalizer is not needed either.
        var stream = new FileStream(file, FileAccess.Read, bufferSize: 0, isAsync: true);
        GC.SuppressFinalize(stream);
        var operation = _sendPackets ??= new SendPacketsOperation();
        using var abortOnCancel = cancellationToken.UnsafeRegister(static state => ((SocketConnection)state!).Abort(), this);
        while (count > 0)
        {
            int piece = (int)Math.Min(count, SendFilePieceSize);
            operation.SendPacketsElements = [new SendPacketsElement(stream, offset, piece, endOfPacket: true)];
            try
            {
                await operation.SendAsync(_socket).ConfigureAwait(false);
            }
            catch (ObjectDisposedException e)
            {
                throw new IOException("connection aborted during sendfile", e);
            }
            finally
            {
                operation.SendPacketsElements = null;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (operation.SocketError != SocketError.Success)
            {
                throw new IOException($"sendfile failed: {operation.SocketError}", new SocketException((int)operation.SocketError));
            }

            if (operation.BytesTransferred != piece)
            {
                // The file shrank after the reply header went out: the client cannot be told, so the
                // connection has to end.
                throw new EndOfStreamException($"sendfile sent {operation.BytesTransferred} of {piece} bytes");
            }

            offset += piece;
            count -= piece;
            progress();
        }
    }

    /// <summary>Ends the connection at once: pending socket operations fail, <see cref="Closed"/> is cancelled.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _closed.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }

        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _aborted) == 0)
        {
            try
            {
                await Output.CompleteAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The peer is gone; nothing left to deliver.
            }
        }

        await Input.CompleteAsync().ConfigureAwait(false);
        Abort();
        _sendPackets?.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _idleEnd.Dispose();
        // _closed is not disposed: the listener may abort this connection from another thread while it
        // ends by itself, and a source without a timer holds nothing that needs releasing.
    }

    /// <summary>A reusable SendPacketsAsync awaited as a ValueTask (no allocation per send).</summary>
    private sealed class SendPacketsOperation() : SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true), IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _completion;

        public ValueTask SendAsync(Socket socket)
        {
            _completion.Reset();
            if (!socket.SendPacketsAsync(this))
            {
                _completion.SetResult(true);
            }

            return new ValueTask(this, _completion.Version);
        }

        protected override void OnCompleted(SocketAsyncEventArgs e) => _completion.SetResult(true);

        public void GetResult(short token) => _completion.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _completion.OnCompleted(continuation, state, token, flags);
    }
}
