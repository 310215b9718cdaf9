using System.Net.Sockets;

namespace FastDfs.Client.Connections;

/// <summary>
/// A network stream whose asynchronous reads and writes block the calling thread in the socket call and
/// return completed tasks (<see cref="FastDfsClientOptions.BlockingSockets"/>). An operation then runs start
/// to end on its caller's thread: no readiness polling and no thread-pool hand-over per receive, which on
/// small requests costs more than the request itself. The network timeout is the socket's send/receive
/// timeout; cancellation is seen between socket calls only.
/// </summary>
internal sealed class BlockingNetworkStream : NetworkStream
{
    public BlockingNetworkStream(Socket socket, TimeSpan networkTimeout)
        : base(socket, ownsSocket: true)
    {
        int timeoutMs = SocketTimeoutMs(networkTimeout);
        socket.ReceiveTimeout = timeoutMs;
        socket.SendTimeout = timeoutMs;
    }

    /// <summary>A timeout as the socket's send/receive timeout: milliseconds, 0 = none.</summary>
    internal static int SocketTimeoutMs(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? 0 : (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            return new ValueTask<int>(Read(buffer.Span));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
