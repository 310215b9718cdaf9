using System.Text.RegularExpressions;
using FastDfs.Cli.Commands;
using FastDfs.Client.Tests.Fakes;
using FastDfs.TestSupport;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client.Tests;

/// <summary>
/// `fdfs monitor` and `fdfs info` against the text the stock 6.16.1 tools printed for the same frames
/// (Golden/Stock, see its README). Times are compared in UTC, as the stock tools were run with TZ=UTC.
/// </summary>
public partial class StockOutputTests
{
    private static readonly string StockDirectory = Path.Combine(AppContext.BaseDirectory, "Golden", "Stock");

    [Theory]
    [InlineData("captured-list", "list", null)]
    [InlineData("captured-list-group1", "list", "group1")]
    [InlineData("captured-list-nosuchgroup", "list", "nosuchgroup")]
    [InlineData("synthetic-list", "list", null)]
    [InlineData("empty-list", "list", null)]
    public async Task Monitor_list_prints_what_stock_fdfs_monitor_prints(string scenario, string op, string? group)
    {
        var (groups, storages) = scenario switch
        {
            "synthetic-list" => Replies(Path.Combine(StockDirectory, "monitor-synthetic.hex"), 0, 1),
            "empty-list" => Replies(Path.Combine(StockDirectory, "monitor-empty.hex"), 0, -1),
            _ => Replies("client-monitor-list.hex", 1, 3),
        };
        await using var tracker = FakeServer.Start(r => r.Command switch
        {
            FdfsCommand.ServerListAllGroups => FakeReply.Raw(groups),
            FdfsCommand.ServerListStorage when storages != null => FakeReply.Raw(storages),
            _ => FakeReply.CloseWithoutReply,
        });

        var (code, output) = await MonitorAsync(tracker.Endpoint, op, group, null);

        Assert.Equal(0, code);
        Assert.Equal(Expected($"monitor-{scenario}.txt", tracker.Endpoint), output);
    }

    [Theory]
    [InlineData("delete-storage-ok", StorageStatus.Offline, 0, "group1", "10.77.0.2")]
    [InlineData("delete-storage-ebusy", StorageStatus.Active, 0, "group1", "10.77.0.2")]
    [InlineData("delete-storage-enoent", null, 0, "group1", "10.77.0.9")]
    [InlineData("delete-storage-ealready", StorageStatus.Offline, Errno.EALREADY, "group1", "10.77.0.2")]
    [InlineData("delete-group-ok", null, 0, "group1", null)]
    [InlineData("delete-group-enoent", null, Errno.ENOENT, "group9", null)]
    public async Task Monitor_delete_prints_what_stock_fdfs_monitor_prints(string scenario, StorageStatus? listed, byte deleteStatus, string group, string? storageId)
    {
        await using var tracker = FakeServer.Start(r => r.Command switch
        {
            FdfsCommand.ServerListStorage => FakeReply.Ok(listed is { } status ? OneStorage(status) : []),
            FdfsCommand.ServerDeleteStorage or FdfsCommand.ServerDeleteGroup => deleteStatus == 0 ? FakeReply.Ok() : FakeReply.Error(deleteStatus),
            _ => FakeReply.CloseWithoutReply,
        });

        var (code, output) = await MonitorAsync(tracker.Endpoint, "delete", group, storageId);

        string expected = Expected($"monitor-{scenario}.txt", tracker.Endpoint);
        Assert.Equal(expected, output);
        Assert.Equal(scenario.EndsWith("-ok", StringComparison.Ordinal) ? 0 : ErrnoIn(expected), code);
        bool deleteSent = tracker.Requests.Any(r => r.Command is FdfsCommand.ServerDeleteStorage or FdfsCommand.ServerDeleteGroup);
        Assert.Equal(scenario is not ("delete-storage-ebusy" or "delete-storage-enoent"), deleteSent);
    }

    [Fact]
    public async Task Info_decodes_normal_file_names_like_stock_fdfs_file_info_without_a_server()
    {
        var dead = FakeServer.ClosedEndpoint();
        await using var client = new FastDfsClient(Fakes.Replies.Options(dead));
        int checkedCount = 0;
        foreach (var (fileId, expected) in FileInfoGolden().Where(g => g.Expected.StartsWith("GET FROM SERVER: false", StringComparison.Ordinal)))
        {
            var info = await client.GetFileInfoAsync(FileId.Parse(fileId), Fakes.Replies.Timeout());
            Assert.Equal(expected, InfoCommand.Format(info, TimeZoneInfo.Utc));
            checkedCount++;
        }

        Assert.Equal(21, checkedCount);
    }

    [Fact]
    public async Task Info_asks_a_storage_for_appender_and_slave_files_like_stock_fdfs_file_info()
    {
        var reply = new FileInfoResponse(25, 1795479441, 0x8badf00d, "10.77.0.2");
        var body = new byte[FileInfoResponse.Size(IpFieldSize.V4)];
        reply.Write(body, IpFieldSize.V4);
        await using var storage = FakeServer.Start(r => r.Command == FdfsCommand.QueryFileInfo ? FakeReply.Ok(body) : FakeReply.CloseWithoutReply);
        await using var tracker = FakeServer.Start(Fakes.Replies.TrackerFor(storage.Endpoint));
        await using var client = new FastDfsClient(Fakes.Replies.Options(tracker.Endpoint));
        int checkedCount = 0;
        foreach (var (fileId, expected) in FileInfoGolden().Where(g => g.Expected.StartsWith("GET FROM SERVER: true", StringComparison.Ordinal)))
        {
            var info = await client.GetFileInfoAsync(FileId.Parse(fileId), Fakes.Replies.Timeout());
            Assert.Equal(expected, InfoCommand.Format(info, TimeZoneInfo.Utc));
            checkedCount++;
        }

        Assert.Equal(5, checkedCount);
        Assert.Equal(5, storage.Requests.Count(r => r.Command == FdfsCommand.QueryFileInfo));
    }

    [Theory]
    [InlineData(0, "0  B")]
    [InlineData(1, "1.0 MB")]
    [InlineData(1023, "1023 MB")]
    [InlineData(1024, "1.0 GB")]
    [InlineData(10188, "9.9 GB")]
    [InlineData(10189, "10 GB")]
    [InlineData(258019, "252 GB")]
    [InlineData(-1, "-1048576  B")]
    public void Human_sizes_round_like_stock(long mb, string expected) =>
        Assert.Equal(expected, MonitorFormat.HumanMb(mb));

    [Theory]
    [InlineData(0, "0 second")]
    [InlineData(-5, "0 second")]
    [InlineData(1, "1 second")]
    [InlineData(60, "1 minute")]
    [InlineData(3601, "1 hour 1 second")]
    [InlineData(90061, "1 day 1 hour 1 minute 1 second")]
    [InlineData(172800, "2 days")]
    public void Durations_are_worded_like_stock(long seconds, string expected) =>
        Assert.Equal(expected, MonitorFormat.HumanSeconds(seconds));

    private static async Task<(int Code, string Output)> MonitorAsync(FastDfsEndpoint tracker, string op, string? group, string? storageId)
    {
        await using var client = new FastDfsClient(Fakes.Replies.Options(tracker));
        var output = new StringWriter { NewLine = "\n" };
        int code = await MonitorCommand.RunAsync(client, op, group, storageId, output, TimeZoneInfo.Utc, Fakes.Replies.Timeout());
        return (code, output.ToString());
    }

    /// <summary>Reply frames of a capture by frame index (-1: none).</summary>
    private static (byte[] Groups, byte[]? Storages) Replies(string capture, int groupsFrame, int storagesFrame)
    {
        var frames = HexCapture.Load(capture);
        return (frames[groupsFrame].Bytes, storagesFrame >= 0 ? frames[storagesFrame].Bytes : null);
    }

    private static byte[] OneStorage(StorageStatus status)
    {
        var record = new StorageStat { Status = status, Id = "10.77.0.2", IpAddr = "10.77.0.2", StoragePort = 23000 };
        var body = new byte[StorageStat.Size(IpFieldSize.V4)];
        record.Write(body, IpFieldSize.V4);
        return body;
    }

    private static string Expected(string file, FastDfsEndpoint tracker) =>
        TrackerLine().Replace(File.ReadAllText(Path.Combine(StockDirectory, file)), $"tracker server is {tracker}");

    private static int ErrnoIn(string text) => int.Parse(ErrorNumber().Match(text).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<(string FileId, string Expected)> FileInfoGolden()
    {
        string text = File.ReadAllText(Path.Combine(StockDirectory, "file-info.txt"));
        foreach (string block in text.Split("== ", StringSplitOptions.RemoveEmptyEntries))
        {
            int newline = block.IndexOf('\n');
            yield return (block[..newline], block[(newline + 1)..]);
        }
    }

    [GeneratedRegex(@"tracker server is 127\.0\.0\.1:\d+")]
    private static partial Regex TrackerLine();

    [GeneratedRegex(@"error no: (\d+)")]
    private static partial Regex ErrorNumber();
}
