using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;

namespace FastDfs.Storage.Tests;

/// <summary>A real storage server on 127.0.0.1 port 0 in a temporary directory.</summary>
internal sealed class TestStorage : IAsyncDisposable
{
    public const string Group = "group1";

    private TestStorage(string basePath, StorageServer server, TimeProvider? clock)
    {
        BasePath = basePath;
        Server = server;
        Clock = clock;
    }

    public string BasePath { get; }

    /// <summary>The clock the server runs on when the test gave one (a FakeTimeProvider), else null (the system clock).</summary>
    public TimeProvider? Clock { get; }
    public StorageServer Server { get; private set; }
    public CancellationToken Timeout { get; } = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    public static StorageConfig MakeConfig(string basePath, int subdirs = 4, IReadOnlyList<TrackerAddress>? trackers = null) => new()
    {
        GroupName = Group,
        BasePath = basePath,
        BindAddr = "127.0.0.1",
        Port = 0,
        StorePaths = [new StorePath(basePath)],
        SubdirCountPerPath = subdirs,
        TrackerServers = trackers ?? [],
        HeartBeatInterval = 1,
        StatReportInterval = 1,
        SyncBinlogBuffInterval = 1,
    };

    public static async Task<TestStorage> StartAsync(int subdirs = 4, string? basePath = null, Func<StorageConfig, StorageConfig>? tweak = null,
        Microsoft.Extensions.Logging.ILoggerFactory? loggers = null, TimeProvider? clock = null)
    {
        basePath ??= Directory.CreateTempSubdirectory("fdfs-storage-").FullName;
        var config = MakeConfig(basePath, subdirs);
        if (tweak is not null)
        {
            config = tweak(config);
        }

        var server = new StorageServer(config, loggers, clock);
        await server.StartAsync();
        TrustLoopbackPeer(server);
        return new TestStorage(basePath, server, clock);
    }

    /// <summary>
    /// Without a tracker the storage knows no group member, and refuses storage-to-storage commands from anyone: the
    /// tests' raw clients on 127.0.0.1 play a member (a test of refusals connects from another address).
    /// </summary>
    private static void TrustLoopbackPeer(StorageServer server)
    {
        if (server.Config.TrackerServers.Count == 0)
        {
            server.Context.Group.Apply(new ChangeNotification(ChangeFlags.GroupServers, null, null,
                [new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1")]));
        }
    }

    /// <summary>Stops the server and starts a new one on the same directory.</summary>
    public async Task RestartAsync()
    {
        var config = Server.Config;
        await Server.DisposeAsync();
        Server = new StorageServer(config, timeProvider: Clock);
        await Server.StartAsync();
        TrustLoopbackPeer(Server);
    }

    public async Task<RawClient> ConnectAsync() => await RawClient.ConnectAsync(Server.EndPoint.Port, Timeout);

    public string FullPath(string logicName) => Path.Combine(BasePath, "data", logicName[4..]);

    public string[] BinlogLines()
    {
        Server.FlushState();
        return File.ReadAllLines(Path.Combine(BasePath, "data", "sync", "binlog.000"));
    }

    public async Task<string> UploadAsync(byte[] content, string ext = "txt", bool appender = false)
    {
        await using var client = await ConnectAsync();
        var (status, body) = await client.RequestAsync(appender ? FdfsCommand.UploadAppenderFile : FdfsCommand.UploadFile, Requests.Upload(content, ext));
        Assert.Equal(0, status);
        return StoredFileResponse.Parse(body).LogicName;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(BasePath, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Waits until a sync worker streams to a peer (the group's other member is connected).</summary>
    public async Task WaitForPeerStreamingAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Server.Context.Replication.Workers.Any(w => w.IsStreaming))
        {
            Assert.True(DateTime.UtcNow < deadline, "the sync worker never connected to the peer");
            await Task.Delay(50, Timeout);
        }
    }
}

/// <summary>Raw frames over a TcpClient, as a stock client sends them.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly CancellationToken _ct;

    private RawClient(TcpClient client, CancellationToken ct)
    {
        _client = client;
        _stream = client.GetStream();
        _ct = ct;
    }

    public NetworkStream Stream => _stream;

    public static RawClient Wrap(TcpClient client, CancellationToken ct) => new(client, ct);

    public static async Task<RawClient> ConnectAsync(int port, CancellationToken ct)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, ct);
        return new RawClient(client, ct);
    }

    public async Task SendAsync(FdfsCommand command, byte[] body, byte status = 0, long? declaredLength = null)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        new PacketHeader(declaredLength ?? body.Length, command, status).WriteTo(frame);
        body.CopyTo(frame, ProtocolConstants.HeaderSize);
        await _stream.WriteAsync(frame, _ct);
    }

    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes, _ct);

    public async Task<(byte Status, byte[] Body)> ReceiveAsync()
    {
        var header = new byte[ProtocolConstants.HeaderSize];
        await _stream.ReadExactlyAsync(header, _ct);
        var h = PacketHeader.Read(header);
        Assert.Equal((byte)FdfsCommand.Response, h.Command);
        var body = new byte[h.BodyLength];
        await _stream.ReadExactlyAsync(body, _ct);
        return (h.Status, body);
    }

    public async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, byte[] body, byte status = 0)
    {
        await SendAsync(command, body, status);
        return await ReceiveAsync();
    }

    /// <summary>True when the server closed the connection (read returns 0 or the socket resets).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        try
        {
            var one = new byte[1];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            return await _stream.ReadAsync(one, timeout.Token) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Request bodies built with the protocol codecs.</summary>
internal static class Requests
{
    public static byte[] Upload(byte[] content, string ext, sbyte storePath = -1)
    {
        var body = new byte[UploadFileRequest.FixedSize + content.Length];
        new UploadFileRequest(storePath, content.Length, ext).Write(body);
        content.CopyTo(body, UploadFileRequest.FixedSize);
        return body;
    }

    public static byte[] GroupAndName(string name, string group = TestStorage.Group)
    {
        var body = new byte[16 + Encoding.ASCII.GetByteCount(name)];
        FixedString.Write(body.AsSpan(0, 16), group);
        Encoding.ASCII.GetBytes(name, body.AsSpan(16));
        return body;
    }

    public static byte[] Download(string name, long offset = 0, long length = 0, string group = TestStorage.Group)
    {
        var request = new DownloadFileRequest(offset, length, group, name);
        var body = new byte[request.Size];
        request.Write(body);
        return body;
    }

    public static byte[] Slave(string master, string prefix, string ext, byte[] content)
    {
        var request = new UploadSlaveFileRequest(master, content.Length, prefix, ext);
        var body = new byte[request.HeaderSize + content.Length];
        request.Write(body);
        content.CopyTo(body, request.HeaderSize);
        return body;
    }

    public static byte[] Append(string name, byte[] content)
    {
        var request = new AppendFileRequest(name, content.Length);
        var body = new byte[request.HeaderSize + content.Length];
        request.Write(body);
        content.CopyTo(body, request.HeaderSize);
        return body;
    }

    public static byte[] Modify(string name, long offset, byte[] content)
    {
        var request = new ModifyFileRequest(name, offset, content.Length);
        var body = new byte[request.HeaderSize + content.Length];
        request.Write(body);
        content.CopyTo(body, request.HeaderSize);
        return body;
    }

    public static byte[] Truncate(string name, long size)
    {
        var request = new TruncateFileRequest(name, size);
        var body = new byte[request.Size];
        request.Write(body);
        return body;
    }

    public static byte[] SetMetadata(string name, char op, byte[] packed)
    {
        var request = new SetMetadataRequest(TestStorage.Group, name, (Protocol.Metadata.MetadataOp)op, packed);
        var body = new byte[request.Size];
        request.Write(body);
        return body;
    }

    public static long ReadInt64(byte[] body, int offset) => BinaryPrimitives.ReadInt64BigEndian(body.AsSpan(offset));
}
