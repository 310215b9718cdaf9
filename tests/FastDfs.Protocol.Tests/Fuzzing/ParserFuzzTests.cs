using System.Text;
using CsCheck;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;
using FastDfs.TestSupport;
using FastDfs.TestSupport.Fuzzing;

namespace FastDfs.Protocol.Tests.Fuzzing;

/// <summary>
/// Every parser of bytes or text from the network or a file, fed random input and the captured frames of stock with
/// random edits (tests/FastDfs.TestSupport/testdata is the corpus). A parser either returns or throws the exception that
/// means "bad input" (ProtocolException, FormatException, InvalidDataException, ConfigException); nothing else, no hang,
/// and no allocation out of proportion to the input. <c>FASTDFS_FUZZ_ITERATIONS</c> runs longer.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly long Iterations = FuzzInputs.Iterations(4000);

    /// <summary>Bodies of every captured frame, requests and replies (replies are what the clients parse).</summary>
    private static readonly byte[][] Bodies =
    [
        .. Directory.EnumerateFiles(TestData.Directory, "*.hex").Order(StringComparer.Ordinal)
            .SelectMany(path => HexCapture.Load(Path.GetFileName(path)))
            .Where(f => f.Bytes.Length > ProtocolConstants.HeaderSize)
            .Select(f => f.Body.ToArray()),
    ];

    /// <summary>The file ids of file-ids.tsv and the names in the captures: seeds for the text parsers.</summary>
    private static readonly byte[][] Names =
    [
        .. File.ReadLines(TestData.PathOf("file-ids.tsv"))
            .SelectMany(line => line.Split('\t'))
            .Where(field => field.Contains("M0", StringComparison.Ordinal))
            .Select(Encoding.ASCII.GetBytes),
    ];

    public static TheoryData<string> ByteParsers => ParserNames(ByteParserTable.Keys);

    public static TheoryData<string> TextParsers => ParserNames(TextParserTable.Keys);

    private static TheoryData<string> ParserNames(IEnumerable<string> keys)
    {
        var data = new TheoryData<string>();
        foreach (string key in keys.Order(StringComparer.Ordinal))
        {
            data.Add(key);
        }

        return data;
    }

    private static readonly Dictionary<string, Action<byte[]>> ByteParserTable = new()
    {
        ["PacketHeader"] = b => _ = b.Length >= ProtocolConstants.HeaderSize ? PacketHeader.Read(b) : default,
        ["StorageJoinRequest"] = b => StorageJoinRequest.Parse(b),
        ["FetchPathBinlogRequest"] = b => FetchPathBinlogRequest.Parse(b),
        ["StorePathHealthReport"] = b => StorePathHealthReport.Parse(b),
        ["RecoveryProgressReport"] = b => RecoveryProgressReport.Parse(b),
        ["FetchFilesRequest"] = b => FetchFilesRequest.Parse(b),
        ["StorageJoinResponse"] = b => StorageJoinResponse.Parse(b),
        ["SyncSourceBody"] = b => SyncSourceBody.Parse(b),
        ["QueryStoreResponse"] = b => QueryStoreResponse.Parse(b),
        ["QueryStoreAllResponse"] = b => QueryStoreAllResponse.Parse(b),
        ["GroupFileRequest"] = b => GroupFileRequest.Parse(b),
        ["QueryFetchResponse"] = b => QueryFetchResponse.Parse(b),
        ["GroupStat"] = b => GroupStat.ParseList(b),
        ["StorageStat"] = b => StorageStat.ParseList(b),
        ["StorageStat16"] = b => StorageStat.Parse(b, 16),
        ["StorageStat46"] = b => StorageStat.Parse(b, 46),
        ["StorageSyncStatus"] = b => StorageSyncStatus.Parse(b),
        ["StorageBrief"] = b => StorageBrief.Parse(b),
        ["ChangeNotification"] = b => ChangeNotification.Parse(b),
        ["ListFilesRequest"] = b => ListFiles.ParseRequest(b),
        ["ListFilesResponse"] = b => ListFiles.ParseResponse(b),
        ["TrunkSpace"] = b => TrunkSpaceQuery.ParseResponse(b),
        ["HttpPort"] = b => HttpPortQuery.ParseResponse(b),
        ["UploadFileRequest"] = b => UploadFileRequest.Parse(b),
        ["UploadSlaveFileRequest"] = b => UploadSlaveFileRequest.Parse(b),
        ["UploadSlavePeekLengths"] = b => _ = b.Length >= 16 ? UploadSlaveFileRequest.PeekLengths(b) : default,
        ["DownloadFileRequest"] = b => DownloadFileRequest.Parse(b),
        ["SetMetadataRequest"] = b => SetMetadataRequest.Parse(b),
        ["StoredFileResponse"] = b => StoredFileResponse.Parse(b),
        ["FileInfoResponse"] = b => FileInfoResponse.Parse(b),
        ["StorageStatCounters"] = b => StorageStatCounters.Parse(b),
        ["IntegrityStatus"] = b => IntegrityStatus.Parse(b),
        ["Metadata"] = b => MetadataCodec.Parse(b),
        ["FixedString"] = b => FixedString.Read(b),
        ["DiskUsageReport"] = b => DiskUsageReport.Parse(b, b.Length / DiskUsageReport.EntrySize),
        ["SyncReport"] = b => SyncReport.Parse(b),
        ["TrackerStatusReply"] = b => TrackerStatusReply.Parse(b),
        ["JoinLeaderRequest"] = b => JoinLeaderRequest.Parse(b),
        ["PingLeaderRequest"] = b => PingLeaderRequest.Parse(b),
        ["GroupTrunkServer"] = b => GroupTrunkServer.Decode(b),
        ["SyncFileFixed"] = b => SyncFileFixed.Parse(b.AsSpan(0, Math.Min(b.Length, SyncFileFixed.Size))),
        ["SyncRangeFixed"] = b => SyncRangeFixed.Parse(b),
        ["SyncDeleteRequest"] = b => SyncDeleteRequest.Parse(b),
        ["SyncLinkFixed"] = b => SyncLinkFixed.Parse(b),
        ["ParameterReply"] = b => ParameterReply.Parse(b),
        ["TrunkSlotInfo"] = b => TrunkSlotInfo.Parse(b),
        ["TrunkAllocRequest"] = b => TrunkAllocRequest.Parse(b),
        ["TrunkSlotRequest"] = b => TrunkSlotRequest.Parse(b),
        ["TrunkBinlogSizeReply"] = b => TrunkBinlogSizeReply.Parse(b),
        ["TrunkFileIdBody"] = b => TrunkFileIdBody.Parse(b),
        ["TrunkFreeReport"] = b => TrunkFreeReport.Parse(b),
        ["SetTrunkServerRequest"] = b => SetTrunkServerRequest.Parse(b),
        ["SetTrunkServerReply"] = b => SetTrunkServerReply.Parse(b),
    };

    private static readonly Dictionary<string, Action<string>> TextParserTable = new()
    {
        ["FileId"] = s => FileId.TryParse(s, out _),
        ["FileName"] = s => FileNameCodec.TryDecode(s, out _),
        ["FileNameDecode"] = s => FileNameCodec.Decode(s),
        ["ContentPromise"] = s => FileNameCodec.TryGetContentPromise(s, out _, out _),
        ["Base64"] = s => FdfsBase64.Decode(s),
        ["StoredFilePath"] = s => StoredFilePath.TryParse(s, 2, out _),
        ["FileUrl"] = s => FileUrl.TryParse(s, true, "group1", out _),
        ["FileUrlWithoutGroup"] = s => FileUrl.TryParse(s, false, "group1", out _),
        ["TrackerAddress"] = s => TrackerAddress.Parse(s),
        ["Ini"] = s => TrackerConfig.FromIni(IniFile.Parse(s, "/nonexistent")),
        ["StorageIni"] = s => StorageConfig.FromIni(IniFile.Parse(s, "/nonexistent")),
        ["ReservedSpace"] = s => ReservedSpace.Parse(s),
        ["HostAllowList"] = s => HostAllowList.Parse(s.Split('\n'), _ => []),
        ["MimeTypes"] = s => MimeTypeMap.Parse(new StringReader(s)),
    };

    private static readonly byte[][] IniSeeds =
    [
        "base_path = /d\nport = 22122\nstore_lookup = 2\nallow_hosts = 10.0.0.[1-3]\nreserved_storage_space = 20%\n"u8.ToArray(),
        "group_name = group1\nbase_path = /d\nstore_path_count = 2\nstore_path0 = /a\nstore_path1 = /b\ntracker_server = 10.0.0.1:22122\n"u8.ToArray(),
        "text/html html htm\nimage/jpeg jpg jpeg\n# comment\n"u8.ToArray(),
        "10.0.0.[1-15,20]\n192.168.0.0/24\nhost[01-03].example\n*\n"u8.ToArray(),
    ];

    [Theory]
    [MemberData(nameof(ByteParsers))]
    public void A_byte_parser_refuses_bad_input_with_a_protocol_error_only(string parser)
    {
        var parse = ByteParserTable[parser];
        Run(FuzzInputs.Bytes(Bodies), bytes => Expect(() => parse(bytes), bytes.Length, 0), FuzzInputs.Hex);
    }

    [Theory]
    [MemberData(nameof(TextParsers))]
    public void A_text_parser_refuses_bad_input_with_a_format_error_only(string parser)
    {
        var parse = TextParserTable[parser];
        var seeds = (byte[][])[.. Names, .. IniSeeds];
        // Configuration may expand (allow_hosts ranges: at most 65,536 hosts); what comes off the network may not.
        long allowance = ConfigParsers.Contains(parser) ? 32L << 20 : 0;
        Run(FuzzInputs.Bytes(seeds).Select(b => Encoding.Latin1.GetString(b)), text => Expect(() => parse(text), text.Length, allowance),
            text => text.Length <= 300 ? text : text[..300]);
    }

    /// <summary>Cases the fuzzer found (each failed before its fix): kept as fixed inputs, whatever the seed.</summary>
    [Theory]
    [InlineData("ChangeNotification", "22")]
    [InlineData("IntegrityStatus", "0000000302A33490F57173227E806596442CE2715EC051B77D7A6B7195CCCCA28DCC105AF8098082FA3098CAE557220031D980")]
    [InlineData("ListFilesResponse", "67726F7570310000000000000032A0BA04CBB3EF7751D529EC39A0D737A7252A9AC6322DF4BFA712451E7695883AB8DAED2F00000031302E320000302E37372E302E3200000000000059D800")]
    [InlineData("UploadSlaveFileRequest", "67726F757031006500000000000000004D30302F30302F30302F436B3041416D73453135474548447A7041414141414449656251553233312E646100")]
    public void Inputs_the_fuzzer_found_are_refused_cleanly(string parser, string hex)
    {
        byte[] input = Convert.FromHexString(hex);
        Expect(() => ByteParserTable[parser](input), input.Length, 0);
    }

    private static void Run<T>(Gen<T> gen, Action<T> assert, Func<T, string> print)
    {
        // A hang fails the test instead of holding the suite.
        var run = Task.Run(() => gen.Sample(assert, iter: Iterations, print: print));
        Assert.True(run.Wait(TimeSpan.FromMinutes(2)), "a parser did not return within 2 minutes");
        run.GetAwaiter().GetResult();
    }

    private static readonly HashSet<string> ConfigParsers = ["Ini", "StorageIni", "HostAllowList", "MimeTypes"];

    private static void Expect(Action parse, int inputLength, long allowance)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            parse();
        }
        catch (Exception e) when (e is ProtocolException or FormatException or InvalidDataException or ConfigException)
        {
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Strings and lists proportional to the input are fine; a buffer sized by a length field inside it is not.
        Assert.True(allocated < allowance + 64 * 1024 + 64L * inputLength, $"{allocated} bytes allocated for {inputLength} bytes of input");
    }
}
