using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.ServerCore.Peers;

namespace FastDfs.ServerCore.Tests;

/// <summary>A reply streamed to a file (FETCH_ONE_PATH_BINLOG): an ordinary length, or stock's open-ended form with its trailer.</summary>
public sealed class PeerChannelStreamTests
{
    private const long Streamed = 1L << 58;

    private static readonly CancellationToken Ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    /// <summary>A one-shot server: reads one request frame, writes <paramref name="reply"/> in small pieces, closes.</summary>
    private static async Task<(PeerChannel Channel, Task Server)> ServeOnceAsync(byte[] reply)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(Ct);
            listener.Stop();
            var header = new byte[ProtocolConstants.HeaderSize];
            await socket.ReceiveAsync(header, SocketFlags.None, Ct);
            var body = new byte[PacketHeader.Read(header).BodyLength];
            for (int read = 0; read < body.Length;)
            {
                read += await socket.ReceiveAsync(body.AsMemory(read), SocketFlags.None, Ct);
            }

            for (int sent = 0; sent < reply.Length; sent += 7)
            {
                await socket.SendAsync(reply.AsMemory(sent, Math.Min(7, reply.Length - sent)), SocketFlags.None, Ct);
            }

            socket.Shutdown(SocketShutdown.Both);
        }, Ct);
        var options = new PeerChannelOptions(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), null, null);
        var channel = await PeerChannel.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, options, "storage", Ct);
        return (channel, server);
    }

    private static byte[] Reply(long declared, byte[] body, long? trailer = null)
    {
        var bytes = new byte[ProtocolConstants.HeaderSize + body.Length + (trailer is null ? 0 : 8)];
        PacketHeader.Response(declared).WriteTo(bytes);
        body.CopyTo(bytes, ProtocolConstants.HeaderSize);
        if (trailer is { } length)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(bytes.Length - 8), length);
        }

        return bytes;
    }

    private static readonly byte[] Records = "1700000000 C M00/00/00/a.bin\n1700000001 c M00/00/01/b.bin\n"u8.ToArray();

    [Theory]
    [InlineData(true)] // stock's open-ended form: copied without its trailer
    [InlineData(false)] // an ordinary reply: copied whole
    public async Task A_reply_in_either_form_is_copied_as_its_records(bool openEnded)
    {
        var (channel, server) = await ServeOnceAsync(openEnded ? Reply(Streamed, Records, Records.Length) : Reply(Records.Length, Records));
        await using var _ = channel;
        using var copy = new MemoryStream();
        var (status, length) = await channel.RequestToStreamAsync(FdfsCommand.FetchOnePathBinlog, new byte[17], copy, Streamed, Ct);
        await server;
        Assert.Equal((0, (long)Records.Length), (status, length));
        Assert.Equal(Records, copy.ToArray());
    }

    [Theory]
    [InlineData(1)] // a trailer that does not match what came
    [InlineData(-1)] // no trailer at all: the peer closed early
    public async Task An_open_ended_reply_without_its_matching_length_is_an_error(int variant)
    {
        byte[] reply = variant == 1 ? Reply(Streamed, Records, Records.Length + 1) : Reply(Streamed, Records[..5]);
        var (channel, server) = await ServeOnceAsync(reply);
        await using var _ = channel;
        using var copy = new MemoryStream();
        await Assert.ThrowsAsync<IOException>(() => channel.RequestToStreamAsync(FdfsCommand.FetchOnePathBinlog, new byte[17], copy, Streamed, Ct));
        await server;
    }
}
