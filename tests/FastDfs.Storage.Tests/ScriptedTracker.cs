using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Storage.Tests;

/// <summary>A tracker whose replies a test scripts per command; it records every frame it receives.</summary>
internal sealed class ScriptedTracker : IAsyncDisposable
{

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly Func<FdfsCommand, byte[]?> _script;
    private readonly Func<FdfsCommand, byte[], (byte Status, byte[] Body)?>? _respond;
    private readonly string _parameters;

    /// <summary>
    /// A tracker that makes the storage ACTIVE in a group with one more member, the peer at <paramref name="peerPort"/>
    /// (named <paramref name="peerId"/>), listed while <paramref name="peerListed"/> holds (always by default).
    /// </summary>
    public static ScriptedTracker GroupWithOnePeer(int peerPort, string peerId, Func<bool>? peerListed = null)
    {
        byte[] Active()
        {
            var body = new byte[StorageJoinResponse.Size];
            new StorageJoinResponse(StorageStatus.Active, "").Write(body);
            return body;
        }

        byte[] Group()
        {
            List<StorageBrief> servers = [new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1")];
            if (peerListed?.Invoke() ?? true)
            {
                servers.Add(new StorageBrief(StorageStatus.Active, peerPort, peerId, "127.0.0.1"));
            }

            var change = new ChangeNotification(ChangeFlags.GroupServers, null, null, servers);
            var body = new byte[change.Size];
            change.Write(body);
            return body;
        }

        return new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => Active(),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Group(),
            FdfsCommand.StorageSyncSrcReq => [],
            _ => null,
        });
    }

    /// <param name="respond">the status and body for a command given its request body (error statuses too), or null for the other script</param>
    public ScriptedTracker(Func<FdfsCommand, byte[], (byte Status, byte[] Body)?> respond, Func<FdfsCommand, byte[]?>? script = null)
        : this(script)
    {
        _respond = respond;
    }

    /// <param name="script">the reply body for a command, or null for the default reply</param>
    /// <param name="reservedSpace">the reserved_storage_space the tracker hands out in its parameters</param>
    public ScriptedTracker(Func<FdfsCommand, byte[]?>? script = null, string reservedSpace = "20.00%")
    {
        _script = script ?? (_ => null);
        _parameters =
            "use_storage_id=0\nid_type_in_filename=ip\ntrust_storage_server_id=0\nresponse_ip_addr_size=16\n" +
            "storage_ip_changed_auto_adjust=0\nstorage_sync_file_max_delay=86400\nstore_path=0\n" +
            $"reserved_storage_space={reservedSpace}\nuse_trunk_file=0\nslot_min_size=256\nslot_max_size=1048576\n" +
            "store_slave_file_use_link=0\n";
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<(FdfsCommand Command, byte[] Body)> Frames { get; } = new();

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        try
        {
            while (true)
            {
                var headerBytes = new byte[ProtocolConstants.HeaderSize];
                await stream.ReadExactlyAsync(headerBytes, _stop.Token);
                var header = PacketHeader.Read(headerBytes);
                var body = new byte[header.BodyLength];
                await stream.ReadExactlyAsync(body, _stop.Token);
                Frames.Enqueue((header.Cmd, body));
                if (header.Cmd == FdfsCommand.Quit)
                {
                    return;
                }

                var (status, reply) = _respond?.Invoke(header.Cmd, body) ?? (Errno.Ok, _script(header.Cmd) ?? header.Cmd switch
                {
                    FdfsCommand.StorageParameterReq => Encoding.ASCII.GetBytes(_parameters),
                    FdfsCommand.StorageJoin => InitJoinReply(),
                    FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => [0],
                    _ => [],
                });
                var frame = new byte[ProtocolConstants.HeaderSize + reply.Length];
                PacketHeader.Response(reply.Length, status).WriteTo(frame);
                reply.CopyTo(frame, ProtocolConstants.HeaderSize);
                await stream.WriteAsync(frame, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException)
        {
        }
    }

    private static byte[] InitJoinReply()
    {
        var body = new byte[StorageJoinResponse.Size];
        new StorageJoinResponse(StorageStatus.Init, "").Write(body);
        return body;
    }

    /// <param name="clock">The storage's fake clock, moved a second per look: its heartbeats come without waiting for them.</param>
    public async Task WaitForAsync(Func<IReadOnlyList<(FdfsCommand Command, byte[] Body)>, bool> condition, CancellationToken ct,
        FakeTimeProvider? clock = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition(Frames.ToArray()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the storage did not send the expected frames: " +
                string.Join(",", Frames.Select(f => $"{f.Command}/{f.Body.Length}")));
            if (clock is null)
            {
                await Task.Delay(50, ct);
            }
            else
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(10, ct);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}
