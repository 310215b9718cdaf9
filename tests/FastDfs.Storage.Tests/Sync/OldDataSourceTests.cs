using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>
/// A peer storage that answers every storage-to-storage request with success and records the file names of
/// SYNC_CREATE_FILE; <see cref="DropConnections"/> resets the open connections (the peer process died).
/// </summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, bool> _open = new();
    private readonly Task _accept;

    public FakePeer()
    {
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<string> Created { get; } = new();

    /// <summary>The status each command is answered with (default: success). EINVAL also closes the connection, as stock does.</summary>
    public Func<FdfsCommand, byte> Reply { get; set; } = _ => 0;

    public int Connections;

    public void DropConnections()
    {
        foreach (var client in _open.Keys)
        {
            client.Client.LingerState = new LingerOption(true, 0); // RST, as when the process is killed
            client.Dispose();
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref Connections);
                _open[client] = true;
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            while (true)
            {
                var headerBytes = new byte[ProtocolConstants.HeaderSize];
                await stream.ReadExactlyAsync(headerBytes, _stop.Token);
                var header = PacketHeader.Read(headerBytes);
                var body = new byte[header.BodyLength];
                await stream.ReadExactlyAsync(body, _stop.Token);
                if (header.Cmd == FdfsCommand.Quit)
                {
                    return;
                }

                if (header.Cmd == FdfsCommand.SyncCreateFile)
                {
                    int nameLength = (int)BinaryPrimitives.ReadInt64BigEndian(body);
                    Created.Enqueue(FixedString.Read(body.AsSpan(8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen, nameLength)));
                }

                byte status = Reply(header.Cmd);
                await stream.WriteAsync(PacketHeader.Response(0, status).ToArray(), _stop.Token);
                if (status == Errno.EINVAL)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException)
        {
        }
        finally
        {
            _open.TryRemove(client, out _);
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        DropConnections();
        _stop.Dispose();
    }
}

/// <summary>
/// The designated old-data source of a new peer (spec 12.4, 12.5) whose group list lags the tracker: it still
/// lists the peer WAIT_SYNC after the copy was pushed and reported done. When the connection then drops (the
/// peer process was killed), the source must neither push the whole binlog again nor report the peer SYNCING
/// again: a late SYNCING moved an ACTIVE storage back into SYNCING, where it stayed (ProcessKillTests).
/// </summary>
public sealed class OldDataSourceTests
{
    private const string PeerId = "127.0.0.9";
    private const long Until = 1_795_000_000;

    private static byte[] JoinReply()
    {
        var body = new byte[StorageJoinResponse.Size];
        new StorageJoinResponse(StorageStatus.Active, "").Write(body);
        return body;
    }

    [Fact]
    public async Task SourceWithALaggingViewDoesNotStartTheCopyOverWhenTheConnectionDrops()
    {
        await using var peer = new FakePeer();
        var peerStatus = StorageStatus.WaitSync;
        bool peerListed = false;
        byte[] Notification()
        {
            // Port 0 stands for our own (ephemeral) port; we are 127.0.0.1, the source the tracker names.
            List<StorageBrief> servers = [new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1")];
            if (Volatile.Read(ref peerListed))
            {
                servers.Add(new StorageBrief(peerStatus, peer.Port, PeerId, "127.0.0.1"));
            }

            var change = new ChangeNotification(ChangeFlags.GroupServers, null, null, servers);
            var body = new byte[change.Size];
            change.Write(body);
            return body;
        }

        byte[] SourceReply()
        {
            var body = new byte[SyncSourceBody.Size];
            new SyncSourceBody("127.0.0.1", Until).Write(body);
            return body;
        }

        await using var tracker = new ScriptedTracker(command => command switch
        {
            FdfsCommand.StorageJoin => JoinReply(),
            FdfsCommand.StorageBeat or FdfsCommand.StorageReportDiskUsage or FdfsCommand.StorageSyncReport => Notification(),
            FdfsCommand.StorageSyncSrcReq => SourceReply(),
            _ => null,
        });
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", tracker.Port)],
            SyncWaitMsec = 20,
        });
        var old = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            old.Add(await storage.UploadAsync([(byte)i, 1, 2, 3]));
        }

        int Reports(StorageStatus status) => tracker.Frames.Count(f => f.Command == FdfsCommand.StorageReportStatus &&
            StorageBrief.Parse(f.Body.AsSpan(ProtocolConstants.GroupNameMaxLen)) is { Id: PeerId } brief && brief.Status == status);

        // The peer appears as WAIT_SYNC and stays so in our view: the copy is pushed, SYNCING then OFFLINE reported.
        Volatile.Write(ref peerListed, true);
        await tracker.WaitForAsync(_ => Reports(StorageStatus.Offline) == 1, storage.Timeout);
        Assert.Equal(1, Reports(StorageStatus.Syncing));
        Assert.Equal(old.Order(), peer.Created.Order());

        // The peer dies. Our view still says WAIT_SYNC; the tracker names the same assignment.
        peer.DropConnections();
        await tracker.WaitForAsync(_ => Reports(StorageStatus.Offline) >= 2, storage.Timeout); // repeated, not parked
        Assert.Equal(1, Reports(StorageStatus.Syncing));
        Assert.Equal(old.Order(), peer.Created.Order());

        // The peer turns ACTIVE in our view: new records reach it, the old ones are not pushed again.
        peerStatus = StorageStatus.Active;
        string later = await storage.UploadAsync([9, 9, 9]);
        await Eventually(() => peer.Created.Contains(later), storage.Timeout);
        Assert.Equal(old.Append(later).Order(), peer.Created.Order());
        Assert.Equal(1, Reports(StorageStatus.Syncing));
    }

    private static async Task Eventually(Func<bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 30 s");
            await Task.Delay(50, ct);
        }
    }
}
