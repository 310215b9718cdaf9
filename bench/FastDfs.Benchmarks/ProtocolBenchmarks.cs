using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Benchmarks;

/// <summary>The per-request protocol work: header parse, file-ID encode/decode, request and reply decode.</summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private readonly byte[] _header = new PacketHeader(4096 + UploadFileRequest.FixedSize, FdfsCommand.UploadFile).ToArray();
    private readonly byte[] _uploadFixed = new byte[UploadFileRequest.FixedSize];
    private readonly byte[] _downloadRequest = new byte[DownloadFileRequest.FixedSize + 44];
    private readonly byte[] _queryStoreReply = new byte[QueryStoreResponse.Size(IpFieldSize.V4)];
    private readonly uint _source = FileNameCodec.SourceFromIp("10.98.0.2");
    private string _logicName = "";
    private string _fileId = "";
    private ReadOnlySequence<byte> _headerSequence;

    [GlobalSetup]
    public void Setup()
    {
        _headerSequence = new ReadOnlySequence<byte>(_header);
        new UploadFileRequest(0, 4096, "jpg").Write(_uploadFixed);
        _logicName = FileNameCodec.BuildLogicName(0, 0x12, 0x34, _source, 1_764_000_000, FileNameCodec.MakeSizeField(4096, false, false, 12345), 0xDEADBEEF, FileNameCodec.FormatExtension("jpg", new Random(1)));
        _fileId = "group1/" + _logicName;
        new DownloadFileRequest(0, 0, "group1", _logicName).Write(_downloadRequest);
        new QueryStoreResponse("group1", new StorageEndpoint("10.98.0.2", 23000), 0).Write(_queryStoreReply, IpFieldSize.V4);
    }

    [Benchmark]
    public long HeaderReadSpan() => PacketHeader.Read(_header).BodyLength;

    [Benchmark]
    public long HeaderTryReadSequence()
    {
        var buffer = _headerSequence;
        return PacketHeader.TryRead(ref buffer, out var header) ? header.BodyLength : -1;
    }

    [Benchmark]
    public string FileNameEncode() =>
        FileNameCodec.BuildLogicName(0, 0x12, 0x34, _source, 1_764_000_000, FileNameCodec.MakeSizeField(4096, false, false, 12345), 0xDEADBEEF, FileNameCodec.FormatExtension("jpg", new Random(1)));

    [Benchmark]
    public uint FileNameDecode() => FileNameCodec.TryDecode(_logicName, out var info) ? info.Crc32 : 0;

    [Benchmark]
    public int FileIdParse() => FileId.TryParse(_fileId, out var id) ? id.LogicName.Length : 0;

    [Benchmark]
    public int StoredPathParse() => StoredFilePath.TryParse(_logicName, 1, out var stored) ? stored.StorePathIndex : -1;

    [Benchmark]
    public long UploadFixedPartParse() => UploadFileRequest.Parse(_uploadFixed).FileSize;

    [Benchmark]
    public long DownloadRequestParse() => DownloadFileRequest.Parse(_downloadRequest).Offset;

    [Benchmark]
    public int QueryStoreReplyParse() => QueryStoreResponse.Parse(_queryStoreReply).Storage.Port;
}
