using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests;

/// <summary>A tracker whose replies a test scripts per command; it records every frame it receives.</summary>
internal sealed class ScriptedTracker : IAsyncDisposable
{
    private const string Parameters =
        "use_storage_id=0\nid_type_in_filename=ip\ntrust_storage_server_id=0\nresponse_ip_addr_size=16\n" +
        "storage_ip_changed_auto_adjust=0\nstorage_sync_file_max_delay=86400\nstore_path=0\n" +
        "reserved_storage_space=1%\nuse_trunk_file=0\nslot_min_size=256\nslot_max_size=1048576\n" +
        "store_slave_file_use_link=0\n";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly Func<FdfsCommand, byte[]?> _script;

    /// <param name="script">the reply body for a command, or null for the defaults (an empty or a one-byte 0 body)</param>
    public ScriptedTracker(Func<FdfsCommand, byte[]?> script)
    {
        _script = script;
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
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
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

                byte[] reply = _script(header.Cmd) ?? header.Cmd switch
                {
                    FdfsCommand.StorageParameterReq => Encoding.ASCII.GetBytes(Parameters),
                    FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => [0],
                    _ => [],
                };
                var frame = new byte[ProtocolConstants.HeaderSize + reply.Length];
                PacketHeader.Response(reply.Length).WriteTo(frame);
                reply.CopyTo(frame, ProtocolConstants.HeaderSize);
                await stream.WriteAsync(frame, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException)
        {
        }
    }

    public async Task WaitForAsync(Func<IReadOnlyList<(FdfsCommand Command, byte[] Body)>, bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition(Frames.ToArray()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the storage did not send the expected frames: " +
                string.Join(",", Frames.Select(f => $"{f.Command}/{f.Body.Length}")));
            await Task.Delay(50, ct);
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

/// <summary>
/// CHANGE_STATUS (59) toward a follower, as seen in a mixed cluster (docs/compatibility.md "Mixed clusters"): our
/// storage, restarted on an empty directory, pushed the leader's lagging WAIT_SYNC onto a stock follower that
/// had already received OFFLINE from the source's REPORT_STATUS; the stock follower stayed WAIT_SYNC for good.
/// </summary>
public class ChangeStatusTests
{
    private static byte[] JoinReply(StorageStatus status)
    {
        var body = new byte[StorageJoinResponse.Size];
        new StorageJoinResponse(status, "").Write(body);
        return body;
    }

    private static byte[] Brief(StorageStatus status, int port)
    {
        var body = new byte[StorageBrief.Size];
        new StorageBrief(status, port, "127.0.0.1", "127.0.0.1").Write(body);
        return body;
    }

    /// <summary>
    /// A leader that lists us as WAIT_SYNC and a follower that answered JOIN with INIT and answers GET_STATUS (71)
    /// with <paramref name="followerNow"/>; returns the follower's frames once it was asked GET_STATUS.
    /// </summary>
    private static async Task<(FdfsCommand Command, byte[] Body)[]> RunAsync(StorageStatus followerNow)
    {
        // Port 0 in a brief stands for "our port" (the storage listens on an ephemeral one).
        const int storagePort = 0;
        ScriptedTracker? leader = null;
        leader = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(StorageStatus.WaitSync),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Notification(),
            _ => null,
        });
        await using var _ = leader;
        await using var follower = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(StorageStatus.Init),
            FdfsCommand.StorageGetStatus => Brief(followerNow, storagePort),
            _ => null,
        });

        byte[] Notification()
        {
            var change = new ChangeNotification(ChangeFlags.TrackerLeader | ChangeFlags.GroupServers,
                new StorageBrief(StorageStatus.Init, leader!.Port, "127.0.0.1", "127.0.0.1"), null,
                [new StorageBrief(StorageStatus.WaitSync, storagePort, "127.0.0.1", "127.0.0.1")]);
            var body = new byte[change.Size];
            change.Write(body);
            return body;
        }

        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", leader.Port), new TrackerAddress("127.0.0.1", follower.Port)],
        });

        // The leader is known after its first beat reply; the follower is then asked for its view after a beat.
        await leader.WaitForAsync(f => f.Count(x => x.Command == FdfsCommand.StorageBeat) >= 2, storage.Timeout);
        await follower.WaitForAsync(f => f.Any(x => x.Command == FdfsCommand.StorageGetStatus), storage.Timeout);
        int beats = follower.Frames.Count(f => f.Command == FdfsCommand.StorageBeat);
        await follower.WaitForAsync(f => f.Count(x => x.Command == FdfsCommand.StorageBeat) >= beats + 2, storage.Timeout);
        return follower.Frames.ToArray();
    }

    [Fact]
    public async Task Follower_that_moved_past_the_leaders_lagging_view_is_not_pushed_back()
    {
        var frames = await RunAsync(StorageStatus.Offline);
        var ask = frames.First(f => f.Command == FdfsCommand.StorageGetStatus).Body;
        Assert.Equal("group1", FixedString.Read(ask.AsSpan(0, ProtocolConstants.GroupNameMaxLen)));
        Assert.StartsWith("127.0.0.1:", Encoding.ASCII.GetString(ask, ProtocolConstants.GroupNameMaxLen, ask.Length - ProtocolConstants.GroupNameMaxLen));
        Assert.DoesNotContain(frames, f => f.Command == FdfsCommand.StorageChangeStatus);
    }

    [Fact]
    public async Task Follower_behind_the_leader_is_told_the_leaders_view()
    {
        var frames = await RunAsync(StorageStatus.Init);
        var change = Assert.Single(frames, f => f.Command == FdfsCommand.StorageChangeStatus);
        Assert.Equal([(byte)StorageStatus.WaitSync], change.Body);
    }
}
