using System.Buffers;
using FastDfs.Protocol;

namespace FastDfs.Client.Connections;

/// <summary>
/// Read-only stream over a download reply body, reading straight from the connection's pipe. Disposing it
/// returns the connection to its pool when the body was fully read, and closes it otherwise.
/// </summary>
internal sealed class DownloadStream(ConnectionPool pool, FastDfsConnection connection, long length, TimeSpan networkTimeout) : Stream
{
    private readonly long _length = length;
    private long _remaining = length;
    private int _disposed;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _length - _remaining;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(networkTimeout);
        try
        {
            var result = await connection.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            var available = result.Buffer;
            if (available.IsEmpty && result.IsCompleted)
            {
                throw new EndOfStreamException($"connection closed with {_remaining} body bytes outstanding");
            }

            int take = (int)Math.Min(Math.Min(buffer.Length, _remaining), available.Length);
            var slice = available.Slice(0, take);
            slice.CopyTo(buffer.Span);
            connection.Reader.AdvanceTo(slice.End);
            _remaining -= take;
            return take;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            connection.MarkBroken();
            throw new FastDfsConnectionException(connection.Endpoint, Errno.ETIMEDOUT, $"{connection.Endpoint}: network timeout while downloading", ex);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            connection.MarkBroken();
            throw new FastDfsConnectionException(connection.Endpoint, Errno.EIO, $"{connection.Endpoint}: connection failed while downloading: {ex.Message}", ex);
        }
        catch
        {
            connection.MarkBroken();
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_remaining != 0)
            {
                // The rest of the body is still in flight: the connection cannot serve another request.
                connection.MarkBroken();
            }

            pool.Return(connection);
        }

        base.Dispose(disposing);
    }
}
