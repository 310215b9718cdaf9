using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

public sealed class QueryFetchTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static async Task<StorageEndpoint> FetchOneAsync(RawConnection client, string name, FdfsCommand command = FdfsCommand.QueryFetchOne)
    {
        var body = await client.RequestOkAsync(command, Frames.GroupAnd("group1", name));
        Assert.Equal(39, body.Length);
        var response = QueryFetchResponse.Parse(body);
        Assert.Equal("group1", response.Group);
        return Assert.Single(response.Storages);
    }

    private static async Task<List<string>> FetchManyAsync(RawConnection client, string name, int count)
    {
        var ips = new List<string>();
        for (int i = 0; i < count; i++)
        {
            ips.Add((await FetchOneAsync(client, name)).Ip);
        }

        return ips;
    }

    [Fact]
    public async Task FreshFile_IsServedOnlyByItsSource_UntilPeersSyncedPastIt()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var source = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await using var peer = await tracker.ActiveStorageAsync(localIp: "127.0.0.3");
        await using var client = await tracker.ConnectAsync();
        long uploaded = Now - 10;
        string name = Frames.FileName("127.0.0.2", uploaded);

        // Rule 1 only: the peer has not synced anything.
        Assert.All(await FetchManyAsync(client, name, 4), ip => Assert.Equal("127.0.0.2", ip));
        Assert.Equal("127.0.0.2", (await FetchOneAsync(client, name, FdfsCommand.QueryUpdate)).Ip);
        var all = QueryFetchResponse.Parse(await client.RequestOkAsync(FdfsCommand.QueryFetchAll, Frames.GroupAnd("group1", name)));
        Assert.Equal([new StorageEndpoint("127.0.0.2", 23000)], all.Storages);

        // Rule 3: the peer reports it applied the source's records up to a later timestamp.
        await peer.SyncReportAsync(("127.0.0.2", (int)uploaded + 1));
        Assert.Equal(["127.0.0.2", "127.0.0.3"], (await FetchManyAsync(client, name, 4)).Distinct().Order());
        all = QueryFetchResponse.Parse(await client.RequestOkAsync(FdfsCommand.QueryFetchAll, Frames.GroupAnd("group1", name)));
        Assert.Equal(16 + 2 * 23, all.Size(16));

        // Updates still go to the source.
        Assert.Equal("127.0.0.2", (await FetchOneAsync(client, name, FdfsCommand.QueryUpdate)).Ip);
    }

    [Fact]
    public async Task OldFile_Rule2_AndSyncedWithinMaxTime_Rule4()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var source = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await using var peer = await tracker.ActiveStorageAsync(localIp: "127.0.0.3");
        await using var client = await tracker.ConnectAsync();

        // Rule 2: older than storage_sync_file_max_delay, everybody has it.
        string old = Frames.FileName("127.0.0.2", Now - 90_000);
        Assert.Equal(["127.0.0.2", "127.0.0.3"], (await FetchManyAsync(client, old, 4)).Distinct().Order());

        // Rule 4: uploaded 400 s ago (> max_time 300) and the peer synced up to one second before it.
        long uploaded = Now - 400;
        string name = Frames.FileName("127.0.0.2", uploaded);
        await peer.SyncReportAsync(("127.0.0.2", (int)uploaded - 5));
        Assert.All(await FetchManyAsync(client, name, 3), ip => Assert.Equal("127.0.0.2", ip));
        await peer.SyncReportAsync(("127.0.0.2", (int)uploaded - 1));
        Assert.Equal(["127.0.0.2", "127.0.0.3"], (await FetchManyAsync(client, name, 4)).Distinct().Order());
    }

    [Fact]
    public async Task SourceFirst_AppenderFiles_AndFallbackWhenSourceIsGone()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { DownloadServer = DownloadServerSelection.SourceFirst });
        await using var a = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        var b = await tracker.ActiveStorageAsync(localIp: "127.0.0.3");
        await using var client = await tracker.ConnectAsync();

        string old = Frames.FileName("127.0.0.3", Now - 90_000);
        Assert.All(await FetchManyAsync(client, old, 3), ip => Assert.Equal("127.0.0.3", ip));

        string appender = Frames.FileName("127.0.0.3", Now - 90_000, appender: true);
        Assert.Equal("127.0.0.3", (await FetchOneAsync(client, appender)).Ip);

        // Source gone: an appender falls back to the first writable storage.
        await b.DisposeAsync();
        await tracker.WaitUntilAsync(async () =>
            await client.StatusOfStorageAsync("group1", "127.0.0.3") == StorageStatus.Offline, "OFFLINE");
        Assert.Equal("127.0.0.2", (await FetchOneAsync(client, appender)).Ip);
        Assert.Equal("127.0.0.2", (await FetchOneAsync(client, appender, FdfsCommand.QueryUpdate)).Ip);
    }

    [Fact]
    public async Task BadRequests_Einval_UnknownGroup_Enoent()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync();
        await using var client = await tracker.ConnectAsync();
        string name = Frames.FileName("127.0.0.1", Now);

        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.QueryFetchOne, Frames.GroupAnd("group9", name)));
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.QueryUpdate, Frames.GroupAnd("group9", name)));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.QueryFetchOne, Frames.GroupAnd("group1", new string('x', 21))));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.QueryFetchOne, Frames.GroupAnd("group1", new string('x', 128))));

        // 22 characters is accepted (the tracker does not validate the name).
        Assert.Equal("127.0.0.1", (await FetchOneAsync(client, new string('x', 22))).Ip);
        Assert.Equal("127.0.0.1", (await FetchOneAsync(client, name)).Ip);
    }
}
