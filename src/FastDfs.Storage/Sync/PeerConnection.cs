using System.Net;
using FastDfs.Protocol;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Sync;

/// <summary>
/// A sync worker's connection to a peer storage (a <see cref="PeerChannel"/>): sends one request (fixed part, names,
/// then optionally a file range streamed from disk) and reads the header-only reply.
/// </summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private readonly PeerChannel _channel;

    private PeerConnection(PeerChannel channel) => _channel = channel;

    /// <param name="peerKey">cluster_secret_key: proven right after connecting, or null</param>
    public static async Task<PeerConnection> ConnectAsync(
        string host, int port, IPAddress? bindAddress, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        byte[]? peerKey = null) =>
        new(await PeerChannel.ConnectAsync(host, port, new PeerChannelOptions(connectTimeout, networkTimeout, bindAddress, peerKey), "storage", ct)
            .ConfigureAwait(false));

    /// <summary>
    /// Sends <paramref name="fixedPart"/> then <paramref name="contentLength"/> bytes of <paramref name="content"/>
    /// from <paramref name="contentOffset"/>, and returns the reply status.
    /// </summary>
    public Task<byte> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> fixedPart, CancellationToken ct,
        SafeFileHandleSource? content = null, long contentOffset = 0, long contentLength = 0, byte headerStatus = 0) =>
        _channel.RequestWithFileAsync(command, fixedPart, content?.Handle, content?.Path ?? "", contentOffset, contentLength, ct, headerStatus);

    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    /// <summary>Drops the socket without a goodbye (simulated crash).</summary>
    public void Abort() => _channel.Abort();
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
