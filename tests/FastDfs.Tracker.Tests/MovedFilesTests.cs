using System.Net;
using System.Text;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>The moved-files map (ADD_MOVED_FILES, <c>fdfs rebalance</c>): queries of moved IDs, the file, the admin gate.</summary>
public sealed class MovedFilesTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>group1 = 127.0.0.2, group2 = 127.0.0.3 and 127.0.0.4, group3 = 127.0.0.5 (all port 23000, ACTIVE).</summary>
    private static async Task<FakeStorage[]> ThreeGroupsAsync(TestTracker tracker) =>
    [
        await tracker.ActiveStorageAsync("group1", localIp: "127.0.0.2"),
        await tracker.ActiveStorageAsync("group2", localIp: "127.0.0.3"),
        await tracker.ActiveStorageAsync("group2", localIp: "127.0.0.4"),
        await tracker.ActiveStorageAsync("group3", localIp: "127.0.0.5"),
    ];

    private static Task<byte[]> AddAsync(RawConnection client, params MovedFile[] entries) =>
        client.RequestOkAsync(AddMovedFiles.Command, AddMovedFiles.Request(entries));

    private static async Task<QueryFetchResponse> QueryAsync(RawConnection client, FdfsCommand command, string group, string name) =>
        QueryFetchResponse.Parse(await client.RequestOkAsync(command, Frames.GroupAnd(group, name)));

    private static async Task<(string Group, string Ip)> FetchOneAsync(RawConnection client, string group, string name, FdfsCommand command = FdfsCommand.QueryFetchOne)
    {
        var response = await QueryAsync(client, command, group, name);
        return (response.Group, Assert.Single(response.Storages).Ip);
    }

    private static async Task DisposeAllAsync(FakeStorage[] storages)
    {
        foreach (var storage in storages)
        {
            await storage.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_moved_ID_is_answered_by_the_target_group_and_an_unmoved_one_exactly_as_before()
    {
        await using var tracker = await TestTracker.StartAsync();
        var storages = await ThreeGroupsAsync(tracker);
        await using var client = await tracker.ConnectAsync();
        // Uploaded 10 s ago to group1's storage: no replica may serve it yet by the timing rules.
        string moved = Frames.FileName("127.0.0.2", Now - 10);
        string stays = Frames.FileName("127.0.0.2", Now - 11);
        string appender = Frames.FileName("127.0.0.2", Now - 12, appender: true);
        var before = new List<byte[]>();
        foreach (var command in new[] { FdfsCommand.QueryFetchOne, FdfsCommand.QueryFetchAll, FdfsCommand.QueryUpdate })
        {
            before.Add(await client.RequestOkAsync(command, Frames.GroupAnd("group1", stays)));
        }

        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group1", moved));
        Assert.Empty(await AddAsync(client, new MovedFile("group1", moved, "group2"), new MovedFile("group1", appender, "group2")));

        // Reads go round robin over group2 (both had the file before the entry), the reply naming group2.
        var reads = new List<(string, string)>();
        for (int i = 0; i < 4; i++)
        {
            reads.Add(await FetchOneAsync(client, "group1", moved));
        }

        Assert.Equal([("group2", "127.0.0.3"), ("group2", "127.0.0.4")], reads.Distinct().Order());
        var all = await QueryAsync(client, FdfsCommand.QueryFetchAll, "group1", moved);
        Assert.Equal("group2", all.Group);
        Assert.Equal([new StorageEndpoint("127.0.0.3", 23000), new StorageEndpoint("127.0.0.4", 23000)], all.Storages);

        // Changes always go to one member: the first in id order.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(("group2", "127.0.0.3"), await FetchOneAsync(client, "group1", moved, FdfsCommand.QueryUpdate));
        }

        // An appender is read where its appends go.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(("group2", "127.0.0.3"), await FetchOneAsync(client, "group1", appender));
        }

        Assert.Equal([new StorageEndpoint("127.0.0.3", 23000)], (await QueryAsync(client, FdfsCommand.QueryFetchAll, "group1", appender)).Storages);

        // The unmoved file: the very same bytes as before the map had entries.
        int c = 0;
        foreach (var command in new[] { FdfsCommand.QueryFetchOne, FdfsCommand.QueryFetchAll, FdfsCommand.QueryUpdate })
        {
            Assert.Equal(before[c++], await client.RequestOkAsync(command, Frames.GroupAnd("group1", stays)));
        }

        // The same logic name named in another group is not moved.
        Assert.Equal("group3", (await QueryAsync(client, FdfsCommand.QueryFetchAll, "group3", moved)).Group);
        Assert.Equal(2, tracker.Server.Cluster.MovedFiles.Count);
        await DisposeAllAsync(storages);
    }

    [Fact]
    public async Task Moves_chain_a_move_back_and_an_entry_to_its_own_group_remove_mappings()
    {
        await using var tracker = await TestTracker.StartAsync();
        var storages = await ThreeGroupsAsync(tracker);
        await using var client = await tracker.ConnectAsync();
        string name = Frames.FileName("127.0.0.2", Now - 100);

        await AddAsync(client, new MovedFile("group1", name, "group2"));
        await AddAsync(client, new MovedFile("group2", name, "group3"));
        Assert.Equal(("group3", "127.0.0.5"), await FetchOneAsync(client, "group1", name));
        Assert.Equal(("group3", "127.0.0.5"), await FetchOneAsync(client, "group2", name, FdfsCommand.QueryUpdate));

        // Back to group1: group1's own ID is no longer redirected (no cycle), the others follow to group1.
        await AddAsync(client, new MovedFile("group3", name, "group1"));
        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group1", name));
        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group2", name));
        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group3", name));

        // target == source removes the mapping.
        await AddAsync(client, new MovedFile("group2", name, "group2"));
        Assert.Equal("group2", (await QueryAsync(client, FdfsCommand.QueryFetchAll, "group2", name)).Group);
        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group3", name));
        Assert.Equal(1, tracker.Server.Cluster.MovedFiles.Count);
        await DisposeAllAsync(storages);
    }

    [Fact]
    public async Task Unknown_target_group_is_ENOENT_with_nothing_applied_bad_bodies_EINVAL_and_other_hosts_EPERM()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { AdminHosts = ["127.0.0.1"] });
        var storages = await ThreeGroupsAsync(tracker);
        await using var client = await tracker.ConnectAsync();
        string name = Frames.FileName("127.0.0.2", Now - 100);

        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(AddMovedFiles.Command,
            AddMovedFiles.Request([new MovedFile("group1", name, "group2"), new MovedFile("group1", "M00/00/00/other.txt", "group9")])));
        Assert.Equal(0, tracker.Server.Cluster.MovedFiles.Count);
        Assert.Equal(("group1", "127.0.0.2"), await FetchOneAsync(client, "group1", name));

        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(AddMovedFiles.Command, new byte[5]));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(AddMovedFiles.Command,
            AddMovedFiles.Request([new MovedFile("group1", "M00/00/00/a b.txt", "group2")])));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(AddMovedFiles.Command,
            AddMovedFiles.Request([new MovedFile("group1", "M00/00/00/a\nb.txt", "group2")])));

        // admin_hosts lists 127.0.0.1 only.
        await using var stranger = await tracker.ConnectAsync(localIp: "127.0.0.2");
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(AddMovedFiles.Command, AddMovedFiles.Request([new MovedFile("group1", name, "group2")])));
        Assert.Equal(0, tracker.Server.Cluster.MovedFiles.Count);
        Assert.False(File.Exists(Path.Combine(tracker.BasePath, "data", "moved_files.dat")));

        // The connection stays usable after the refusals.
        Assert.Empty(await AddAsync(client, new MovedFile("group1", name, "group2")));
        Assert.Equal("group2", (await FetchOneAsync(client, "group1", name)).Group);
        await DisposeAllAsync(storages);
    }

    [Fact]
    public async Task The_map_survives_a_restart_and_a_torn_last_line_and_a_file_of_mostly_dead_lines_is_compacted()
    {
        string basePath = TestTracker.NewBasePath();
        string file = Path.Combine(basePath, "data", "moved_files.dat");
        string name = Frames.FileName("127.0.0.2", Now - 100);
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            var storages = await ThreeGroupsAsync(tracker);
            await using var client = await tracker.ConnectAsync();
            await AddAsync(client, new MovedFile("group1", name, "group2"), new MovedFile("group1", "M00/00/00/b.txt", "group3"));
            await AddAsync(client, new MovedFile("group1", "M00/00/00/b.txt", "group1"));
            // On disk when the reply came.
            Assert.Matches($"^group1 {name} group2 [0-9]+\ngroup1 M00/00/00/b.txt group3 [0-9]+\ngroup1 M00/00/00/b.txt group1 [0-9]+\n$", File.ReadAllText(file));
            await DisposeAllAsync(storages);
        }

        // A crash in the middle of an append.
        File.AppendAllText(file, "group1 M00/00/00/torn.txt gro");
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            var map = tracker.Server.Cluster.MovedFiles;
            Assert.Equal(1, map.Count);
            Assert.Equal("group2", map.Resolve("group1", name)?.Group);
            Assert.Null(map.Resolve("group1", "M00/00/00/b.txt"));
            Assert.Null(map.Resolve("group1", "M00/00/00/torn.txt"));

            // The torn tail is cut: the next append starts a line of its own.
            await using var group2 = await tracker.ActiveStorageAsync("group2", localIp: "127.0.0.4");
            await using var client = await tracker.ConnectAsync();
            Assert.Equal(("group2", "127.0.0.4"), await FetchOneAsync(client, "group1", name));
            await AddAsync(client, new MovedFile("group1", "M00/00/00/c.txt", "group2"));
            Assert.Matches("group1 M00/00/00/b.txt group1 [0-9]+\ngroup1 M00/00/00/c.txt group2 [0-9]+\n$", File.ReadAllText(file));
        }

        // 1,500 lines for 1 live entry: rewritten at start.
        var lines = new StringBuilder();
        for (int i = 0; i < 750; i++)
        {
            lines.Append($"group1 M00/00/00/n{i}.txt group2\ngroup1 M00/00/00/n{i}.txt group1\n");
        }

        File.WriteAllText(file, lines + $"group1 {name} group3\n");
        await using (var tracker = await TestTracker.StartAsync(basePath: basePath))
        {
            Assert.Equal("group3", tracker.Server.Cluster.MovedFiles.Resolve("group1", name)?.Group);
        }

        Assert.Equal($"group1 {name} group3 0\n", File.ReadAllText(file)); // a line without its time reads as added long ago
        Assert.Empty(Directory.GetFiles(Path.Combine(basePath, "data"), "*.tmp"));
        Directory.Delete(basePath, recursive: true);
    }

    [Fact]
    public async Task A_target_member_started_after_the_move_serves_the_moved_file_only_once_it_may_have_it()
    {
        await using var tracker = await TestTracker.StartAsync();
        var storages = await ThreeGroupsAsync(tracker);
        await using var client = await tracker.ConnectAsync();
        string name = Frames.FileName("127.0.0.2", Now - 100);
        await AddAsync(client, new MovedFile("group1", name, "group2"));
        // A second member of group2 whose process started after the move (it was down then): it gets the file by
        // replication, so until its sync timestamp passes the move it is not sent the reads of the moved file.
        await using var late = await tracker.ActiveStorageAsync("group2", localIp: "127.0.0.6", upTime: Now + 1);
        Assert.Equal(["127.0.0.3", "127.0.0.4"], (await QueryAsync(client, FdfsCommand.QueryFetchAll, "group1", name)).Storages.Select(s => s.Ip).Order());
        for (int i = 0; i < 6; i++)
        {
            Assert.NotEqual("127.0.0.6", (await FetchOneAsync(client, "group1", name)).Ip);
        }

        // A file moved after it started is its like any member's.
        string later = Frames.FileName("127.0.0.2", Now - 50);
        await Task.Delay(TimeSpan.FromSeconds(2.1));
        await AddAsync(client, new MovedFile("group1", later, "group2"));
        Assert.Equal(3, (await QueryAsync(client, FdfsCommand.QueryFetchAll, "group1", later)).Storages.Count);
        await DisposeAllAsync(storages);
    }

    [Fact]
    public async Task The_HTTP_gateway_redirects_a_moved_ID_to_a_target_storage_keeping_the_old_path()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with
        {
            HttpServerPort = 0,
            Http = c.Http with { Enabled = true, StorageServerPort = 8890 },
        });
        var storages = await ThreeGroupsAsync(tracker);
        await using var client = await tracker.ConnectAsync();
        string name = Frames.FileName("127.0.0.2", Now - 100);
        await AddAsync(client, new MovedFile("group1", name, "group3"));

        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var gateway = $"http://127.0.0.1:{tracker.Server.HttpEndPoint!.Port}";
        // The fake storages answer no HTTP-port query: the tracker falls back to http.storage_server_port.
        using (var response = await http.GetAsync($"{gateway}/group1/{name}?token=t&ts=1", tracker.Ct))
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal($"http://127.0.0.5:8890/group1/{name}?token=t&ts=1", response.Headers.Location!.ToString());
        }

        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{gateway}/group1/M00/00/00/unmoved.txt"), tracker.Ct))
        {
            Assert.Equal(HttpStatusCode.Found, head.StatusCode);
            Assert.Equal("http://127.0.0.2:8890/group1/M00/00/00/unmoved.txt", head.Headers.Location!.ToString());
        }

        // The dashboard's document counts the entries.
        Assert.Contains("\"movedFiles\":1", await http.GetStringAsync($"{gateway}/api/cluster", tracker.Ct));
        await DisposeAllAsync(storages);
    }

    [Fact]
    public async Task The_client_sends_many_entries_in_requests_under_the_package_size_to_every_tracker()
    {
        await using var first = await TestTracker.StartAsync();
        await using var second = await TestTracker.StartAsync();
        await using var a = await first.ActiveStorageAsync("group2", localIp: "127.0.0.3");
        await using var b = await second.ActiveStorageAsync("group2", localIp: "127.0.0.3");
        var entries = Enumerable.Range(0, 1_500)
            .Select(i => new MovedFile("group1", $"M00/{i % 256:X2}/00/{Frames.FileName("127.0.0.2", 1_700_000_000 + i)[10..]}", "group2"))
            .ToList();
        Assert.True(entries.Sum(AddMovedFiles.EntrySize) > 10 * AddMovedFiles.MaxRequestBody);
        using var trackers = new TrackerClient(FastDfsClientOptions.Default with
        {
            Trackers = [new FastDfsEndpoint("127.0.0.1", first.EndPoint.Port), new FastDfsEndpoint("127.0.0.1", second.EndPoint.Port)],
        });
        await trackers.AddMovedFilesAsync(entries, first.Ct);
        Assert.Equal(1_500, first.Server.Cluster.MovedFiles.Count);
        Assert.Equal(1_500, second.Server.Cluster.MovedFiles.Count);
        Assert.Equal("group2", second.Server.Cluster.MovedFiles.Resolve("group1", entries[^1].LogicName)?.Group);

        var refused = await Assert.ThrowsAnyAsync<FastDfsException>(() =>
            trackers.AddMovedFilesAsync([new MovedFile("group1", "M00/00/00/x.txt", "group9")], first.Ct));
        Assert.Equal(Errno.ENOENT, refused.ErrorCode);
    }
}
