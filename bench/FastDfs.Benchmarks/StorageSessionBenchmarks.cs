using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;

namespace FastDfs.Benchmarks;

/// <summary>
/// Upload and download of one small file through a real storage session (a StorageServer on 127.0.0.1
/// port 0, no tracker). The <c>Raw*</c> cases send pre-encoded frames over a blocking socket, so their
/// allocation figure is the server's alone; the <c>Client*</c> cases go through the pooled StorageClient.
/// </summary>
[MemoryDiagnoser]
public class StorageSessionBenchmarks
{
    private readonly byte[] _reply = new byte[1 << 20];
    private string _root = "";
    private StorageServer _server = null!;
    private StorageClient _client = null!;
    private Socket _socket = null!;
    private byte[] _content = [];
    private byte[] _uploadFrame = [];
    private byte[] _downloadFrame = [];
    private FileId _file;
    private MemoryStream _uploadSource = null!;
    private MemoryStream _downloadSink = null!;

    [Params(4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "fdfs-bdn-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        // No tracker: the session is measured alone (no report loop runs).
        var config = StorageConfig.Default(_root, [new TrackerAddress("127.0.0.1", 1)]) with
        {
            BindAddr = "127.0.0.1", Port = 0, SubdirCountPerPath = 4, TrackerServers = [],
        };
        _server = new StorageServer(config);
        await _server.StartAsync();
        var endpoint = new FastDfsEndpoint("127.0.0.1", _server.EndPoint.Port);
        _client = new StorageClient(endpoint);
        _content = new byte[Size];
        new Random(1).NextBytes(_content);
        _uploadSource = new MemoryStream(_content, writable: false);
        _downloadSink = new MemoryStream(Size);
        _file = await _client.UploadAsync(new MemoryStream(_content), Size, "bin");

        _uploadFrame = new byte[ProtocolConstants.HeaderSize + UploadFileRequest.FixedSize + Size];
        new PacketHeader(UploadFileRequest.FixedSize + Size, FdfsCommand.UploadFile).WriteTo(_uploadFrame);
        new UploadFileRequest(0, Size, "bin").Write(_uploadFrame.AsSpan(ProtocolConstants.HeaderSize));
        _content.CopyTo(_uploadFrame.AsSpan(ProtocolConstants.HeaderSize + UploadFileRequest.FixedSize));

        var download = new DownloadFileRequest(0, 0, _file.Group, _file.LogicName);
        _downloadFrame = new byte[ProtocolConstants.HeaderSize + download.Size];
        new PacketHeader(download.Size, FdfsCommand.DownloadFile).WriteTo(_downloadFrame);
        download.Write(_downloadFrame.AsSpan(ProtocolConstants.HeaderSize));

        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, _server.EndPoint.Port));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _socket.Dispose();
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark]
    public long RawUpload() => Exchange(_uploadFrame);

    [Benchmark]
    public long RawDownload() => Exchange(_downloadFrame);

    [Benchmark]
    public async Task<int> ClientUpload()
    {
        _uploadSource.Position = 0;
        var id = await _client.UploadAsync(_uploadSource, Size, "bin", storePathIndex: 0);
        return id.LogicName.Length;
    }

    [Benchmark]
    public async Task<long> ClientDownload()
    {
        _downloadSink.Position = 0;
        return await _client.DownloadAsync(_file, _downloadSink);
    }

    /// <summary>Sends one frame and reads the whole reply (header + body) with blocking calls that allocate nothing.</summary>
    private long Exchange(byte[] frame)
    {
        _socket.Send(frame);
        ReceiveExactly(_reply.AsSpan(0, ProtocolConstants.HeaderSize));
        long body = BinaryPrimitives.ReadInt64BigEndian(_reply);
        if (_reply[9] != 0)
        {
            throw new InvalidOperationException($"status {_reply[9]}");
        }

        ReceiveExactly(_reply.AsSpan(0, (int)body));
        return body;
    }

    private void ReceiveExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = _socket.Receive(destination);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            destination = destination[n..];
        }
    }
}
