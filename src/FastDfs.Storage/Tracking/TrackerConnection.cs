using System.Net;
using FastDfs.Protocol;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Tracking;

/// <summary>A storage's connection to one tracker (a <see cref="PeerChannel"/>): join, beats, reports.</summary>
internal sealed class TrackerConnection : IAsyncDisposable
{
    private const int MaxResponseBody = 64 * 1024;

    private readonly PeerChannel _channel;

    private TrackerConnection(PeerChannel channel) => _channel = channel;

    public string Host => _channel.Host;

    public IPEndPoint? LocalEndPoint => _channel.LocalEndPoint;

    /// <summary>Connects to the first of <paramref name="hosts"/> (a tracker's addresses) that answers.</summary>
    /// <param name="bindAddress">the address to connect from (storage.conf bind_addr with client_bind), or null</param>
    /// <param name="peerKey">cluster_secret_key: proven right after connecting, or null</param>
    public static async Task<TrackerConnection> ConnectAsync(
        IReadOnlyList<string> hosts, int port, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        IPAddress? bindAddress = null, byte[]? peerKey = null)
    {
        var options = new PeerChannelOptions(connectTimeout, networkTimeout, bindAddress, peerKey);
        IOException? last = null;
        foreach (string host in hosts)
        {
            try
            {
                return new TrackerConnection(await PeerChannel.ConnectAsync(host, port, options, "tracker", ct).ConfigureAwait(false));
            }
            catch (IOException e)
            {
                last = e;
            }
        }

        throw new IOException($"cannot connect to tracker {string.Join(",", hosts)}:{port}: {last?.Message}", last);
    }

    /// <summary>Sends one request and returns the reply's status and body (empty when status != 0).</summary>
    public Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct) =>
        _channel.RequestAsync(command, body, MaxResponseBody, ct);

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
