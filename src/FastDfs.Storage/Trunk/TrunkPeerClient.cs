using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// One request/response connection to another storage of the group for the trunk commands (spec 7.9), a
/// <see cref="PeerChannel"/>: the header, a small body, and the reply with its (small) body.
/// </summary>
internal sealed class TrunkPeerConnection : IAsyncDisposable
{
    private const int MaxReplyBody = 1024;

    private readonly PeerChannel _channel;

    private TrunkPeerConnection(PeerChannel channel) => _channel = channel;

    public string Host => _channel.Host;
    public int Port => _channel.Port;

    /// <param name="peerKey">cluster_secret_key: proven right after connecting, or null</param>
    public static async Task<TrunkPeerConnection> ConnectAsync(
        string host, int port, IPAddress? bindAddress, TimeSpan connectTimeout, TimeSpan networkTimeout, CancellationToken ct,
        byte[]? peerKey = null) =>
        new(await PeerChannel.ConnectAsync(host, port, new PeerChannelOptions(connectTimeout, networkTimeout, bindAddress, peerKey), "storage", ct)
            .ConfigureAwait(false));

    /// <summary>Sends one request and returns the reply status and body.</summary>
    public Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct, byte headerStatus = 0) =>
        _channel.RequestAsync(command, body, MaxReplyBody, ct, headerStatus);

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}

/// <summary>
/// The client side of TRUNK_ALLOC_SPACE (27), TRUNK_ALLOC_CONFIRM (28) and TRUNK_FREE_SPACE (29): a member that is
/// not the trunk server asks the one the tracker announced. Idle connections are pooled per trunk server.
/// </summary>
internal sealed class RemoteTrunkAllocator(StorageState ctx) : ITrunkSpaceAllocator, IAsyncDisposable
{
    private readonly ConcurrentBag<TrunkPeerConnection> _idle = [];

    public async ValueTask<TrunkBlock> AllocateAsync(int storePathIndex, int slotBytes, CancellationToken cancellationToken)
    {
        var body = new TrunkAllocRequest(ctx.GroupName, slotBytes, (byte)storePathIndex).ToArray();
        var (status, reply) = await RequestAsync(TrunkAllocRequest.Command, body, 0, cancellationToken).ConfigureAwait(false);
        if (status != Errno.Ok)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE answered {Errno.Describe(status)}", status);
        }

        if (reply.Length != TrunkSlotInfo.Size)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE answered {reply.Length} bytes", Errno.EIO);
        }

        var slot = TrunkBlock.FromSlotInfo(TrunkSlotInfo.Parse(reply));
        if (slot.File.StorePathIndex != storePathIndex || slot.Size < slotBytes)
        {
            throw new ProtocolException($"TRUNK_ALLOC_SPACE answered slot {slot} for {slotBytes} bytes on path {storePathIndex}", Errno.EIO);
        }

        return slot;
    }

    public async ValueTask ConfirmAsync(TrunkBlock slot, bool succeeded, CancellationToken cancellationToken)
    {
        var (status, _) = await RequestAsync(TrunkSlotRequest.ConfirmCommand, new TrunkSlotRequest(ctx.GroupName, slot.ToSlotInfo()).ToArray(),
            succeeded ? Errno.Ok : Errno.EIO, cancellationToken).ConfigureAwait(false);
        if (status != Errno.Ok)
        {
            throw new ProtocolException($"TRUNK_ALLOC_CONFIRM of {slot} answered {Errno.Describe(status)}", status);
        }
    }

    public async ValueTask FreeAsync(TrunkBlock slot, CancellationToken cancellationToken)
    {
        var (status, _) = await RequestAsync(TrunkSlotRequest.FreeCommand, new TrunkSlotRequest(ctx.GroupName, slot.ToSlotInfo()).ToArray(), 0,
            cancellationToken).ConfigureAwait(false);
        if (status != Errno.Ok)
        {
            throw new ProtocolException($"TRUNK_FREE_SPACE of {slot} answered {Errno.Describe(status)}", status);
        }
    }

    private async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, byte[] body, byte headerStatus, CancellationToken ct)
    {
        var trunkServer = ctx.Group.TrunkServer ?? throw new ProtocolException("no trunk server announced", Errno.EAGAIN);
        string host = trunkServer.IpAddr.Length > 0 ? trunkServer.IpAddr : trunkServer.Id;
        int port = trunkServer.Port > 0 ? trunkServer.Port : ctx.Port;
        var connection = await RentAsync(host, port, ct).ConfigureAwait(false);
        try
        {
            var result = await connection.RequestAsync(command, body, ct, headerStatus).ConfigureAwait(false);
            if (result.Status == Errno.EINVAL)
            {
                // The server closes the connection after EINVAL.
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                _idle.Add(connection);
            }

            return result;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new ProtocolException($"{command} to trunk server {host}:{port}: {e.Message}", Errno.EIO);
        }
    }

    private async Task<TrunkPeerConnection> RentAsync(string host, int port, CancellationToken ct)
    {
        while (_idle.TryTake(out var idle))
        {
            if (idle.Host == host && idle.Port == port)
            {
                return idle;
            }

            await idle.DisposeAsync().ConfigureAwait(false);
        }

        var config = ctx.Config;
        try
        {
            return await TrunkPeerConnection.ConnectAsync(host, port, ctx.ClientBindAddress,
                TimeSpan.FromSeconds(Math.Max(1, config.ConnectTimeout)), TimeSpan.FromSeconds(Math.Max(1, config.NetworkTimeout)), ct, ctx.PeerKey).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw new ProtocolException($"connecting to trunk server {host}:{port}: {e.Message}", Errno.EIO);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var idle))
        {
            await idle.DisposeAsync().ConfigureAwait(false);
        }
    }
}
