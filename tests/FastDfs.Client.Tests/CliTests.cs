using System.Text;
using FastDfs.Cli;
using FastDfs.Client.Tests.Fakes;
using FastDfs.TestSupport;
using FastDfs.Protocol;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client.Tests;

/// <summary>The <c>fdfs</c> client commands, invoked through the real root command against fake servers.</summary>
public class CliTests
{
    private const string SampleId = "group1/M00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt";

    [Fact]
    public async Task Upload_prints_the_file_id()
    {
        var frames = HexCapture.Load("client-upload-file.hex");
        await using var storage = FakeServer.Start(_ => FakeReply.Raw(frames[3].Bytes));
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        string file = Path.Combine(Path.GetTempPath(), $"fdfs-cli-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, "hello fastdfs\n");
        try
        {
            var (code, output, error) = await RunAsync("upload", file, "--tracker", tracker.Endpoint.ToString());

            Assert.Equal(0, code);
            Assert.Equal(string.Empty, error);
            Assert.Equal("group1/M00/00/00/Ck0AAmsE142AEeCFAAAADg4Qul0049.txt", output.Trim());
            Assert.Equal(frames[2].Bytes, Assert.Single(storage.Requests).Frame);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Delete_of_a_missing_file_exits_2_with_the_stock_error_text()
    {
        await using var storage = FakeServer.Start(_ => FakeReply.Error(Errno.ENOENT));
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));

        var (code, output, error) = await RunAsync("delete", SampleId, "-t", tracker.Endpoint.ToString());

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Equal("error no: 2, error info: No such file or directory", error.Trim());
    }

    [Fact]
    public async Task Unreachable_tracker_names_the_address_and_exits_non_zero()
    {
        var dead = FakeServer.ClosedEndpoint();

        var (code, _, error) = await RunAsync("delete", SampleId, "--tracker", dead.ToString());

        Assert.NotEqual(0, code);
        Assert.Contains(dead.ToString(), error);
    }

    [Fact]
    public async Task Info_of_a_normal_file_is_decoded_from_the_name()
    {
        var dead = FakeServer.ClosedEndpoint();

        var (code, output, _) = await RunAsync("info", SampleId, "--tracker", dead.ToString());

        Assert.Equal(0, code);
        Assert.Contains("source ip address: 10.99.0.3", output);
        Assert.Contains("file size: 14", output);
        Assert.Contains("file crc32: 235977309 (0x0e10ba5d)", output);
    }

    [Fact]
    public async Task Meta_set_then_get_round_trips_through_the_storage()
    {
        byte[]? stored = null;
        await using var storage = FakeServer.Start(r =>
        {
            if (r.Command == FdfsCommand.SetMetadata)
            {
                stored = Protocol.Messages.SetMetadataRequest.Parse(r.CapturedBody).PackedMetadata;
                return FakeReply.Ok();
            }

            return FakeReply.Ok(MetadataCodec.Pack(MetadataCodec.Sort(MetadataCodec.Parse(stored))));
        });
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        string t = tracker.Endpoint.ToString();

        var set = await RunAsync("meta", "set", SampleId, "width=160", "ext_name=jpg", "--merge", "--tracker", t);
        var get = await RunAsync("meta", "get", SampleId, "--tracker", t);

        Assert.Equal(0, set.Code);
        Assert.Equal((byte)'M', storage.Requests.First().CapturedBody[16]);
        Assert.Equal(0, get.Code);
        Assert.Equal("ext_name=jpg\nwidth=160\n", get.Output.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Monitor_prints_groups_and_storage_counters_with_stock_labels()
    {
        var frames = HexCapture.Load("client-monitor-list.hex");
        await using var tracker = FakeServer.Start(r => FakeReply.Raw(r.Command == FdfsCommand.ServerListAllGroups ? frames[1].Bytes : frames[3].Bytes));

        var (code, output, _) = await RunAsync("monitor", "--tracker", tracker.Endpoint.ToString());

        Assert.Equal(0, code);
        Assert.Contains("group count: 1", output);
        Assert.Contains("group name = group1", output);
        Assert.Contains("storage server count = 3", output);
        Assert.Contains("\t\tStorage 3:".Trim(), output);
        Assert.Contains("ACTIVE", output);
        Assert.Matches(@"\t\ttotal_upload_count = \d+", output);
        Assert.Matches(@"\t\tsuccess_file_write_count = \d+", output);
    }

    [Theory]
    [InlineData("tracker", "port = 1\n")]
    [InlineData("storage", "port = 1\ngroup_name = group1\nstore_path0 = {0}\ntracker_server = 127.0.0.1:1\n")]
    public async Task A_daemon_whose_conf_says_disabled_exits_125_at_start(string daemon, string settings)
    {
        string dir = Directory.CreateTempSubdirectory("fdfs-disabled-").FullName;
        try
        {
            string conf = Path.Combine(dir, $"{daemon}.conf");
            await File.WriteAllTextAsync(conf, $"disabled = true\nbase_path = {dir}\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, settings, dir));

            var (code, _, error) = await RunAsync(daemon, conf);

            Assert.Equal(125, code);
            Assert.Contains("disabled = true", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Invalid_file_id_is_a_usage_error()
    {
        var (code, _, error) = await RunAsync("delete", "not-a-file-id");

        Assert.Equal(2, code);
        Assert.Contains("invalid file id", error);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.InvokeAsync(args, output, error, Replies.Timeout());
        return (code, output.ToString(), error.ToString());
    }
}
