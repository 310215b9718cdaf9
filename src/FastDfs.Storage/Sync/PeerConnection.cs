using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Sync;

/// <summary>
/// A sync worker's connection to a peer storage: sends one request (fixed part, names, then optionally a
/// file range streamed from disk) and reads the header-only reply.
/// </summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private const int CopyBufferSize = 256 * 1024;
    private const int MaxReplyBody = 64 * 1024;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _networkTimeout;

    private PeerConnection(TcpClient client, TimeSpan networkTimeout)
    {
        _client = client;
        _stream = client.GetStream();
        _networkTimeout = networkTimeout;
    }

    /// <param name="peerKey">cluster_secret_key: proven right after connecting (see PeerHandshake), or null</param>
    public static async Task<PeerConnection> ConnectAsync(
        string host, int port, IPAddress? bindAddress, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        byte[]? peerKey = null)
    {
        var client = await TcpConnector.ConnectAsync(host, port, connectTimeout, ct, bindAddress).ConfigureAwait(false);
        var connection = new PeerConnection(client, networkTimeout);
        try
        {
            await PeerHandshake.ProveAsync(connection._stream, peerKey, $"storage {host}:{port}", networkTimeout, ct).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>
    /// Sends <paramref name="fixedPart"/> then <paramref name="contentLength"/> bytes of <paramref name="content"/>
    /// from <paramref name="contentOffset"/>, and returns the reply status.
    /// </summary>
    public async Task<byte> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> fixedPart, CancellationToken ct,
        SafeFileHandleSource? content = null, long contentOffset = 0, long contentLength = 0, byte headerStatus = 0)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_networkTimeout);
        var header = new byte[ProtocolConstants.HeaderSize];
        new PacketHeader(fixedPart.Length + contentLength, command, headerStatus).WriteTo(header);
        await _stream.WriteAsync(header, timeout.Token).ConfigureAwait(false);
        await _stream.WriteAsync(fixedPart, timeout.Token).ConfigureAwait(false);
        if (content is not null && contentLength > 0)
        {
            await CopyFileRangeAsync(content, contentOffset, contentLength, timeout).ConfigureAwait(false);
        }

        var reply = new byte[ProtocolConstants.HeaderSize];
        await _stream.ReadExactlyAsync(reply, timeout.Token).ConfigureAwait(false);
        var replyHeader = PacketHeader.Read(reply);
        if (replyHeader.Cmd != FdfsCommand.Response || replyHeader.BodyLength is < 0 or > MaxReplyBody)
        {
            throw new IOException($"peer answered {command} with cmd {replyHeader.Command}, body {replyHeader.BodyLength}");
        }

        if (replyHeader.BodyLength > 0)
        {
            var skip = new byte[replyHeader.BodyLength];
            await _stream.ReadExactlyAsync(skip, timeout.Token).ConfigureAwait(false);
        }

        return replyHeader.Status;
    }

    private async Task CopyFileRangeAsync(SafeFileHandleSource content, long offset, long length, CancellationTokenSource timeout)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, CopyBufferSize));
        try
        {
            long sent = 0;
            while (sent < length)
            {
                int want = (int)Math.Min(buffer.Length, length - sent);
                int read = await RandomAccess.ReadAsync(content.Handle, buffer.AsMemory(0, want), offset + sent, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    // The file shrank under us: the frame cannot be completed, drop the connection and retry later.
                    throw new IOException($"{content.Path} shrank while being pushed");
                }

                await _stream.WriteAsync(buffer.AsMemory(0, read), timeout.Token).ConfigureAwait(false);
                sent += read;
                timeout.CancelAfter(_networkTimeout);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var quit = new PacketHeader(0, FdfsCommand.Quit).ToArray();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await _stream.WriteAsync(quit, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }

    /// <summary>Drops the socket without a goodbye (simulated crash).</summary>
    public void Abort() => _client.Dispose();
}

/// <summary>A local file opened for a push, with its path for messages.</summary>
internal sealed class SafeFileHandleSource(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path) : IDisposable
{
    public Microsoft.Win32.SafeHandles.SafeFileHandle Handle { get; } = handle;
    public string Path { get; } = path;
    public long Length => RandomAccess.GetLength(Handle);

    public static SafeFileHandleSource? TryOpen(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return null;
            }

            return new SafeFileHandleSource(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Dispose() => Handle.Dispose();
}
