using System.Text.RegularExpressions;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The stock tools <c>fdfs</c> runs itself when started through a link named like them (fdfs_crc32, fdfs_test,
/// fdfs_test1, fdfs_appender_test, fdfs_appender_test1, the stat tools, fdfs_monitor set_trunk_server): each link run
/// against a cluster, its output checked line by line against the stock tool's lines (docs/compatibility.md, "Drop-in
/// for the stock tools"); values that differ run to run (names, times) are matched by pattern.
/// </summary>
public sealed class StockTestProgramLinkTests
{
    private const string Name = @"M00/[0-9A-F]{2}/[0-9A-F]{2}/[A-Za-z0-9_-]{27,}";
    private const string Time = @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d";

    private sealed class Links(string root)
    {
        public string Bin { get; } = Path.Combine(root, "bin");

        public string Root { get; } = root;

        public static Links Create(string root)
        {
            var links = new Links(root);
            Directory.CreateDirectory(links.Bin);
            foreach (string tool in Cli.StockToolNames.Tools.Keys)
            {
                File.CreateSymbolicLink(Path.Combine(links.Bin, tool), Path.Combine(AppContext.BaseDirectory, "fdfs"));
            }

            return links;
        }

        public Task<(int Exit, string Output)> RunAsync(params string[] args) =>
            ProcessRunner.RunAsync(Path.Combine(Bin, args[0]), args.Skip(1), TimeSpan.FromSeconds(60), workingDirectory: Root);

        public string Conf(string trackerAddress)
        {
            string conf = Path.Combine(Root, "client.conf");
            File.WriteAllText(conf, $"base_path = {Root}\ntracker_server = {trackerAddress}\n");
            return conf;
        }
    }

    /// <summary>Each line of <paramref name="output"/> matches the pattern at its place, and there are as many lines as patterns.</summary>
    private static void AssertLines(string output, params string[] patterns)
    {
        string[] lines = output.Split('\n');
        lines = lines.Length > 0 && lines[^1].Length == 0 ? lines[..^1] : lines;
        for (int i = 0; i < Math.Min(lines.Length, patterns.Length); i++)
        {
            Assert.True(Regex.IsMatch(lines[i], "^" + patterns[i] + "$"), $"line {i + 1} '{lines[i]}' does not match '{patterns[i]}' in:\n{output}");
        }

        Assert.True(lines.Length == patterns.Length, $"{lines.Length} lines, expected {patterns.Length}:\n{output}");
    }

    /// <summary>The test programs' output after their banner (a version line, a paragraph, each followed by a blank line).</summary>
    private static string AfterBanner(string output)
    {
        Assert.StartsWith("This is FastDFS client test program v6.16.1\n\n", output);
        int paragraphEnd = output.IndexOf("\n\n", "This is FastDFS client test program v6.16.1\n\n".Length, StringComparison.Ordinal);
        return output[(paragraphEnd + 2)..];
    }

    [Fact]
    public async Task Fdfs_crc32_prints_the_crc32_of_a_local_file_as_stock_does()
    {
        string root = Path.Combine(Path.GetTempPath(), "fdfs-crc32-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var links = Links.Create(root);
            await File.WriteAllTextAsync(Path.Combine(root, "digits.txt"), "0123456789");
            await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "a");
            await File.WriteAllBytesAsync(Path.Combine(root, "empty"), []);

            var digits = await links.RunAsync("fdfs_crc32", "digits.txt");
            Assert.Equal((0, "a684c7c6\n"), digits);
            Assert.Equal((0, "e8b7be43\n"), await links.RunAsync("fdfs_crc32", "a.txt"));
            Assert.Equal((0, "0\n"), await links.RunAsync("fdfs_crc32", "empty")); // %x: no leading zeros

            var missing = await links.RunAsync("fdfs_crc32", "missing.txt");
            Assert.Equal(2, missing.Exit);
            AssertLines(missing.Output, "open file missing.txt fail, errno: 2, error info: No such file or directory");
            var directory = await links.RunAsync("fdfs_crc32", root);
            Assert.Equal(21, directory.Exit);
            Assert.Contains("errno: 21, error info: Is a directory", directory.Output);
            var usage = await links.RunAsync("fdfs_crc32");
            Assert.Equal(1, usage.Exit);
            AssertLines(usage.Output, Regex.Escape($"Usage: {Path.Combine(links.Bin, "fdfs_crc32")} <filename>"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Fdfs_test_runs_its_operations_with_stock_lines()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        var links = Links.Create(cluster.Root);
        string conf = links.Conf(cluster.TrackerAddress);
        await File.WriteAllTextAsync(Path.Combine(cluster.Root, "photo.jpg"), "0123456789", ct);
        int storagePort = cluster.Storages[0].EndPoint.Port;
        string storage = $"127\\.0\\.0\\.1, port={storagePort}";

        var upload = await links.RunAsync("fdfs_test", conf, "upload", "photo.jpg");
        Assert.True(upload.Exit == 0, upload.Output);
        string lines = AfterBanner(upload.Output);
        AssertLines(lines,
            "tracker_query_storage_store_list_without_group: ",
            $"\tserver 1. group_name=, ip_addr={storage}",
            "",
            $"group_name=group1, ip_addr={storage}",
            "storage_upload_by_filename",
            $"group_name=group1, remote_filename=({Name}\\.jpg)",
            "source ip address: 127.0.0.1",
            $"file timestamp={Time}",
            "file size=10",
            "file crc32=2793719750", // 0xa684c7c6, decoded from the name
            $"example file url: http://127.0.0.1/group1/{Name}\\.jpg",
            "storage_upload_slave_by_filename",
            $"group_name=group1, remote_filename={Name}_big\\.jpg",
            "source ip address: 127.0.0.1",
            $"file timestamp={Time}",
            "file size=10",
            "file crc32=2793719750", // asked from the storage (a slave file)
            $"example file url: http://127.0.0.1/group1/{Name}_big\\.jpg");
        string remote = Regex.Match(lines, $"remote_filename=({Name}\\.jpg)").Groups[1].Value;

        string storageLine = $"storage=127\\.0\\.0\\.1:{storagePort}";
        var getmeta = await links.RunAsync("fdfs_test", conf, "getmeta", "group1", remote);
        Assert.Equal(0, getmeta.Exit);
        string[] meta = AfterBanner(getmeta.Output).Split('\n')[2..^1];
        Assert.Equal(["ext_name=jpg", "file_size=115120", "height=80", "width=160"], meta.Order());
        AssertLines(AfterBanner(getmeta.Output), [storageLine, "get meta data success, meta count=4", .. meta.Select(Regex.Escape)]);

        var setmeta = await links.RunAsync("fdfs_test", conf, "setmeta", "group1", remote, "M", "width=200,author=me,junk");
        Assert.Equal(0, setmeta.Exit);
        AssertLines(AfterBanner(setmeta.Output), storageLine, "set meta data success");
        getmeta = await links.RunAsync("fdfs_test", conf, "getmeta", "group1", remote);
        Assert.Contains("get meta data success, meta count=5\n", getmeta.Output);
        Assert.Contains("\nwidth=200\n", getmeta.Output);
        Assert.Contains("\nauthor=me\n", getmeta.Output);

        var setmetaUsage = await links.RunAsync("fdfs_test", conf, "setmeta", "group1", remote);
        Assert.Equal(22, setmetaUsage.Exit);
        AssertLines(AfterBanner(setmetaUsage.Output), storageLine,
            Regex.Escape($"Usage: {Path.Combine(links.Bin, "fdfs_test")} <config_file> setmeta <group_name> <remote_filename> <op_flag> <metadata_list>"),
            "\top_flag: O for overwrite, M for merge", "\tmetadata_list: name1=value1,name2=value2,\\.\\.\\.");

        var query = await links.RunAsync("fdfs_test", conf, "query_servers", "group1", remote);
        Assert.Equal(0, query.Exit);
        AssertLines(AfterBanner(query.Output), "server list \\(1\\):", $"\t127\\.0\\.0\\.1:{storagePort}", "");

        var download = await links.RunAsync("fdfs_test", conf, "download", "group1", remote);
        Assert.Equal(0, download.Exit);
        string saved = remote[(remote.LastIndexOf('/') + 1)..];
        AssertLines(AfterBanner(download.Output), storageLine, Regex.Escape($"download file success, file size=10, file save to {saved}"));
        Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, saved), ct));
        download = await links.RunAsync("fdfs_test", conf, "download", "group1", remote, "copy.jpg");
        AssertLines(AfterBanner(download.Output), storageLine, "download file success, file size=10, file save to copy\\.jpg");
        Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "copy.jpg"), ct));

        var delete = await links.RunAsync("fdfs_test", conf, "delete", "group1", remote);
        Assert.Equal(0, delete.Exit);
        AssertLines(AfterBanner(delete.Output), storageLine, "delete file success");
        delete = await links.RunAsync("fdfs_test", conf, "delete", "group1", remote);
        Assert.Equal(2, delete.Exit); // stock exits 0 here
        AssertLines(AfterBanner(delete.Output), storageLine, "delete file fail, error no: 2, error info: No such file or directory");
        download = await links.RunAsync("fdfs_test", conf, "download", "group1", remote, "copy.jpg");
        AssertLines(AfterBanner(download.Output), storageLine, "download file fail, error no: 2, error info: No such file or directory");
        Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "copy.jpg"), ct)); // left as it was

        var missingGroup = await links.RunAsync("fdfs_test", conf, "download", "group9", remote);
        Assert.Equal(2, missingGroup.Exit);
        AssertLines(AfterBanner(missingGroup.Output),
            Regex.Escape($"tracker_query_storage_fetch fail, group_name=group9, filename={remote}, error no: 2, error info: No such file or directory"));

        var invalid = await links.RunAsync("fdfs_test", conf, "rename");
        Assert.Equal(22, invalid.Exit);
        AssertLines(AfterBanner(invalid.Output), "invalid operation: rename");
        var usage = await links.RunAsync("fdfs_test", conf);
        Assert.Equal(1, usage.Exit);
        AssertLines(AfterBanner(usage.Output),
            Regex.Escape($"Usage: {Path.Combine(links.Bin, "fdfs_test")} <config_file> <operation>"),
            "\toperation: upload, download, getmeta, setmeta, delete and query_servers");
    }

    [Fact]
    public async Task Fdfs_test1_runs_its_operations_on_file_ids_with_stock_lines()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        var links = Links.Create(cluster.Root);
        string conf = links.Conf(cluster.TrackerAddress);
        await File.WriteAllTextAsync(Path.Combine(cluster.Root, "notes.txt"), "0123456789", ct);
        int storagePort = cluster.Storages[0].EndPoint.Port;

        var upload = await links.RunAsync("fdfs_test1", conf, "upload", "notes.txt", "CALLBACK");
        Assert.True(upload.Exit == 0, upload.Output);
        string lines = AfterBanner(upload.Output);
        AssertLines(lines,
            "tracker_query_storage_store_list_with_group: ",
            $"\tserver 1. group_name=group1, ip_addr=127.0.0.1, port={storagePort}",
            "",
            $"group_name=group1, ip_addr=127.0.0.1, port={storagePort}",
            "storage_upload_by_callback",
            "source ip address: 127.0.0.1",
            $"file timestamp={Time}",
            "file size=10",
            "file crc32=2793719750",
            $"example file url: http://127.0.0.1/group1/{Name}\\.txt",
            "storage_upload_slave_by_callback",
            "source ip address: 127.0.0.1",
            $"file timestamp={Time}",
            "file size=10",
            "file crc32=2793719750",
            $"example file url: http://127.0.0.1/group1/{Name}_small\\.txt");
        string id = Regex.Match(lines, $"group1/{Name}\\.txt").Value;

        string storageLine = $"storage=127\\.0\\.0\\.1:{storagePort}";
        var setmeta = await links.RunAsync("fdfs_test1", conf, "setmeta", id, "O", "a=1,b=2");
        AssertLines(AfterBanner(setmeta.Output), storageLine, "set meta data success");
        var getmeta = await links.RunAsync("fdfs_test1", conf, "getmeta", id);
        Assert.Equal(0, getmeta.Exit);
        AssertLines(AfterBanner(getmeta.Output), storageLine, "get meta data success, meta count=2", "a=1", "b=2");

        var query = await links.RunAsync("fdfs_test1", conf, "query_servers", id);
        AssertLines(AfterBanner(query.Output), "server list \\(1\\):", $"\t127\\.0\\.0\\.1:{storagePort}", "");
        var download = await links.RunAsync("fdfs_test1", conf, "download", id, "copy.txt");
        AssertLines(AfterBanner(download.Output), storageLine, "download file success, file size=10, file save to copy\\.txt");
        Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(cluster.Root, "copy.txt"), ct));
        var delete = await links.RunAsync("fdfs_test1", conf, "delete", id);
        AssertLines(AfterBanner(delete.Output), storageLine, "delete file success");

        var bad = await links.RunAsync("fdfs_test1", conf, "query_servers", "bad");
        Assert.Equal(22, bad.Exit);
        AssertLines(AfterBanner(bad.Output), "tracker_query_storage_list1 fail, file_id=bad, error no: 22, error info: Invalid argument");
        var usage = await links.RunAsync("fdfs_test1", conf, "getmeta");
        Assert.Equal(22, usage.Exit);
        AssertLines(AfterBanner(usage.Output), Regex.Escape($"Usage: {Path.Combine(links.Bin, "fdfs_test1")} <config_file> getmeta <file_id>"));
    }

    [Fact]
    public async Task Fdfs_appender_test_and_test1_upload_truncate_append_and_modify()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        var links = Links.Create(cluster.Root);
        string conf = links.Conf(cluster.TrackerAddress);
        await File.WriteAllTextAsync(Path.Combine(cluster.Root, "log.txt"), "ABCDEFGHIJKLMN", ct);
        int storagePort = cluster.Storages[0].EndPoint.Port;
        string trackerHost = "127\\.0\\.0\\.1";

        string[] Attributes(long size, bool crc, string? url = null) =>
        [
            "source ip address: 127.0.0.1", $"file timestamp={Time}", $"file size={size}",
            .. (crc ? new[] { "file crc32=\\d+" } : []), .. (url is null ? [] : new[] { url }),
        ];

        var test = await links.RunAsync("fdfs_appender_test", conf, "log.txt", "BUFF");
        Assert.True(test.Exit == 0, test.Output);
        string url = $"file url: http://{trackerHost}/group1/{Name}\\.txt";
        AssertLines(AfterBanner(test.Output),
        [
            $"group_name=group1, ip_addr=127.0.0.1, port={storagePort}",
            "storage_upload_appender_by_filebuff",
            $"group_name=group1, remote_filename={Name}\\.txt",
            .. Attributes(14, true, url), .. Attributes(7, true, url),
            "storage_append_by_filebuff", "append file successfully\\.", .. Attributes(21, false),
            "storage_modify_by_filebuff", "modify file successfully\\.", .. Attributes(35, false),
        ]);

        var test1 = await links.RunAsync("fdfs_appender_test1", conf, "log.txt");
        Assert.True(test1.Exit == 0, test1.Output);
        AssertLines(AfterBanner(test1.Output),
        [
            $"group_name=group1, ip_addr=127.0.0.1, port={storagePort}",
            "storage_upload_appender_by_filename1",
            $"fild_id=group1/{Name}\\.txt", // stock's spelling
            .. Attributes(14, true, url), .. Attributes(0, true, url),
            "storage_append_by_filename", "append file successfully\\.", .. Attributes(14, false),
            "storage_modify_by_filename", "modify file successfully\\.", .. Attributes(28, false),
        ]);
        string id = Regex.Match(test1.Output, $"group1/{Name}\\.txt").Value;
        await using var client = cluster.CreateClient();
        Assert.Equal("ABCDEFGHIJKLMNABCDEFGHIJKLMN", System.Text.Encoding.ASCII.GetString(
            await client.DownloadBytesAsync(Protocol.FileIds.FileId.Parse(id), ct: ct)));

        var missing = await links.RunAsync("fdfs_appender_test", conf, "missing.txt");
        Assert.Equal(2, missing.Exit);
        AssertLines(AfterBanner(missing.Output),
            $"group_name=group1, ip_addr=127.0.0.1, port={storagePort}",
            "storage_upload_appender_by_filename",
            "upload file fail, error no: 2, error info: No such file or directory");
    }

    [Fact]
    public async Task Stat_tools_list_trackers_storages_and_volumes_as_stock_does()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        var links = Links.Create(cluster.Root);
        string conf = links.Conf(cluster.TrackerAddress);
        int storagePort = cluster.Storages[0].EndPoint.Port;
        string connections = @"connections \{alloc: \d+, current: \d+, max: \d+\}";

        var trackers = await links.RunAsync("fdfs_tracker_stat", "-c", conf, "-d");
        Assert.Equal(0, trackers.Exit);
        AssertLines(trackers.Output,
            "", $"{Regex.Escape(cluster.TrackerAddress)}, is_leader: 1, is_active: 1, {connections}",
            $"  version: 6\\.16\\.1, up_time: {Time}", "", "", "tracker server count: 1", "");
        Assert.Equal((0, ""), await links.RunAsync("fdfs_tracker_stat", "-c" + conf, "-F")); // no follower: nothing, as stock

        var storages = await links.RunAsync("fdfs_storage_stat", "-Ad", "-c", conf);
        Assert.Equal(0, storages.Exit);
        AssertLines(storages.Output,
            "", $"127\\.0\\.0\\.1:{storagePort} ACTIVE, {connections}",
            $"  version: 6\\.16\\.1, up_time: {Time}, last_heartbeat_time: {Time}", "", "", "storage server count: 1", "");
        Assert.Equal((0, ""), await links.RunAsync("fdfs_storage_stat", "-c", conf, "-N"));

        var volumes = await links.RunAsync("fdfs_volumn_stat", "-c", conf);
        Assert.Equal(0, volumes.Exit);
        string size = @"\d+(\.\d)? [KMGTPE]?B";
        AssertLines(volumes.Output,
            "", $"group1 disk_available: 1, disk space \\{{total: {size}, free: {size}, reserved: {size}, avail: {size}, util: \\d+\\.\\d\\d%\\}}",
            "", "storage volumn / group count: 1", "");

        var unknown = await links.RunAsync("fdfs_volumn_stat", "-c", conf, "-x");
        Assert.Equal(1, unknown.Exit);
        Assert.StartsWith($"{Path.Combine(links.Bin, "fdfs_volumn_stat")}: invalid option -- 'x'\nUsage: ", unknown.Output);
        var help = await links.RunAsync("fdfs_tracker_stat", "-h");
        Assert.Equal(0, help.Exit);
        Assert.Contains("\t[-L] list leader tracker\n", help.Output);
        var noConf = await links.RunAsync("fdfs_storage_stat", "-c", Path.Combine(cluster.Root, "missing.conf"));
        Assert.Equal(2, noConf.Exit);

        // Trunk files off: the leader refuses to set a trunk server, as stock's does.
        var trunk = await links.RunAsync("fdfs_monitor", conf, "set_trunk_server", "group1");
        Assert.Equal(95, trunk.Exit);
        Assert.EndsWith("\nset trunk server group1:: fail, error no: 95, error info: Operation not supported\n", trunk.Output);
    }

    [Fact]
    public async Task Fdfs_monitor_set_trunk_server_and_the_stat_tools_with_trunk_files()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(configureTracker: c => c with
        {
            UseTrunkFile = true,
            SlotMinSize = 256,
            SlotMaxSize = 64 * 1024,
            TrunkAllocAlignmentSize = 256,
            TrunkFileSize = 8 << 20,
        }, ct: ct);
        var links = Links.Create(cluster.Root);
        string conf = links.Conf(cluster.TrackerAddress);
        string preamble = $"tracker server count=1, current server index=0\n\ntracker server is {cluster.TrackerAddress}\n\n";

        var elected = await links.RunAsync("fdfs_monitor", conf, "set_trunk_server", "group1");
        Assert.Equal((0, preamble + "set trunk server group1:: success, new trunk server: 127.0.0.1\n"), elected);
        var again = await links.RunAsync("fdfs_monitor", conf, "-h", cluster.TrackerAddress, "set_trunk_server", "group1", "127.0.0.1");
        Assert.Equal((114, preamble + "set trunk server group1::127.0.0.1 fail, error no: 114, error info: Operation already in progress\n"), again);
        var unknown = await links.RunAsync("fdfs_monitor", conf, "set_trunk_server", "group9", "127.0.0.9");
        Assert.Equal(2, unknown.Exit);
        Assert.EndsWith("set trunk server group9::127.0.0.9 fail, error no: 2, error info: No such file or directory\n", unknown.Output);

        var storages = await links.RunAsync("fdfs_storage_stat", "-c", conf, "-T");
        Assert.Equal(0, storages.Exit);
        Assert.Contains($"\n127.0.0.1:{cluster.Storages[0].EndPoint.Port} ACTIVE, is_trunk_server: 1, connections {{", storages.Output);
        Assert.Equal((0, ""), await links.RunAsync("fdfs_storage_stat", "-c", conf, "-t"));
        var volumes = await links.RunAsync("fdfs_volumn_stat", "-c", conf);
        Assert.Matches(@"^\ngroup1 disk_available: 1, trunk_available: [01], disk space \{[^}]+\}, trunk free space: [^,]+, total available \{space: [^,]+, ratio: \d+\.\d\d%\}\n\n", volumes.Output);
    }
}
