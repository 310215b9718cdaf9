using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.ServerCore.Transport;

/// <summary>
/// An in-memory connection: the server session runs on this transport, the test plays the client through
/// <see cref="ClientOutput"/> (what the client sends) and <see cref="ClientInput"/> (what the server answered), so it can
/// deliver a frame one byte at a time, cut it, or send garbage, without sockets or timing.
/// </summary>
public sealed class PipeTransport : IFrameTransport, IAsyncDisposable
{
    private const int FilePieceSize = 64 * 1024;

    private readonly Pipe _toServer = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationTokenSource _idleEnd;

    /// <param name="remote">the address the session sees as its peer</param>
    /// <param name="serverStopping">cancelled when the server stops (ends <see cref="IdleEnd"/>)</param>
    public PipeTransport(IPEndPoint? remote = null, CancellationToken serverStopping = default)
    {
        RemoteEndPoint = remote ?? new IPEndPoint(IPAddress.Loopback, 40000);
        _idleEnd = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, serverStopping);
    }

    public PipeReader Input => _toServer.Reader;

    public PipeWriter Output => _toClient.Writer;

    /// <summary>The client's sending side: what is written here is the session's input.</summary>
    public PipeWriter ClientOutput => _toServer.Writer;

    /// <summary>The client's receiving side: the session's replies.</summary>
    public PipeReader ClientInput => _toClient.Reader;

    public IPEndPoint? RemoteEndPoint { get; }

    public CancellationToken Closed => _closed.Token;

    public CancellationToken IdleEnd => _idleEnd.Token;

    public async ValueTask WaitForInputAsync(CancellationToken cancellationToken)
    {
        var result = await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        Input.AdvanceTo(result.Buffer.Start);
    }

    public async ValueTask SendFileAsync(SafeFileHandle file, long offset, long count, Action progress, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FilePieceSize);
        try
        {
            while (count > 0)
            {
                int read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, (int)Math.Min(count, FilePieceSize)), offset, cancellationToken)
                    .ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"the file ended {count} bytes early");
                }

                await Output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                offset += read;
                count -= read;
                progress();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Abort()
    {
        _closed.Cancel();
        _toServer.Writer.Complete();
        _toClient.Writer.Complete();
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync().ConfigureAwait(false);
        await _toClient.Writer.CompleteAsync().ConfigureAwait(false);
        _idleEnd.Dispose();
    }
}
