using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

public sealed class QueryStoreTests
{
    [Fact]
    public async Task QueryStore_AnswersExactly40BytesNamingTheActiveStorage()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne));

        await using var storage = await tracker.ActiveStorageAsync(port: 23010);
        var body = await client.RequestOkAsync(FdfsCommand.QueryStoreWithoutGroupOne);
        Assert.Equal(40, body.Length);
        Assert.Equal(new QueryStoreResponse("group1", new StorageEndpoint("127.0.0.1", 23010), 0), QueryStoreResponse.Parse(body));
        Assert.Equal("group1", (await client.QueryStoreAsync("group1")).Group);
        Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.QueryStoreWithGroupOne, Frames.Group("group9")));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne, new byte[1]));

        var all = await client.RequestOkAsync(FdfsCommand.QueryStoreWithGroupAll, Frames.Group("group1"));
        Assert.Equal(16 + 23 + 1, all.Length);
    }

    [Theory]
    [InlineData(0, new[] { "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.2" })]
    [InlineData(1, new[] { "127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.2" })]
    [InlineData(2, new[] { "127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.3" })]
    public async Task StoreServer_Policies(int storeServer, string[] expected)
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { StoreServer = (StoreServerSelection)storeServer });
        await using var a = await tracker.ActiveStorageAsync(localIp: "127.0.0.2", uploadPriority: 10);
        await using var b = await tracker.ActiveStorageAsync(localIp: "127.0.0.3", uploadPriority: 1);
        await using var c = await tracker.ActiveStorageAsync(localIp: "127.0.0.4", uploadPriority: 5);
        await using var client = await tracker.ConnectAsync();

        var chosen = new List<string>();
        for (int i = 0; i < expected.Length; i++)
        {
            chosen.Add((await client.QueryStoreAsync()).Storage.Ip);
        }

        Assert.Equal(expected, chosen);
    }

    [Fact]
    public async Task StorePath_RoundRobin_SkipsFullPaths_LoadBalance_TakesMostFree()
    {
        await using (var tracker = await TestTracker.StartAsync(c => c with { StorePath = StorePathSelection.RoundRobin, ReservedStorageSpace = ReservedSpace.FromMegabytes(100) }))
        {
            await using var storage = await tracker.ActiveStorageAsync(storePathCount: 3);
            await storage.ReportDiskUsageAsync((1000, 500), (1000, 10), (1000, 600));
            await using var client = await tracker.ConnectAsync();
            var paths = new List<byte>();
            for (int i = 0; i < 4; i++)
            {
                paths.Add((await client.QueryStoreAsync()).StorePathIndex);
            }

            // Path 1 has 10 MB free, below 100/3 MB: skipped.
            Assert.Equal([0, 2, 0, 2], paths);
        }

        await using (var tracker = await TestTracker.StartAsync(c => c with { StorePath = StorePathSelection.LoadBalance, ReservedStorageSpace = ReservedSpace.FromMegabytes(100) }))
        {
            await using var storage = await tracker.ActiveStorageAsync(storePathCount: 3);
            await storage.ReportDiskUsageAsync((1000, 500), (1000, 900), (1000, 600));
            await using var client = await tracker.ConnectAsync();
            Assert.Equal(1, (await client.QueryStoreAsync()).StorePathIndex);
            Assert.Equal(1, (await client.QueryStoreAsync()).StorePathIndex);
            await storage.ReportDiskUsageAsync((1000, 500), (1000, 100), (1000, 600));
            Assert.Equal(2, (await client.QueryStoreAsync()).StorePathIndex);
        }
    }

    [Fact]
    public async Task StoreLookup_RoundRobinAlternatesGroups_LoadBalancePicksMostFree_SpecifiedGroup()
    {
        await using (var tracker = await TestTracker.StartAsync(c => c with { StoreLookup = StoreLookup.RoundRobin }))
        {
            await using var a = await tracker.ActiveStorageAsync(group: "group1", localIp: "127.0.0.2");
            await using var b = await tracker.ActiveStorageAsync(group: "group2", localIp: "127.0.0.3");
            await using var client = await tracker.ConnectAsync();
            var groups = new List<string>();
            for (int i = 0; i < 4; i++)
            {
                groups.Add((await client.QueryStoreAsync()).Group);
            }

            Assert.Equal(["group1", "group2", "group1", "group2"], groups);
        }

        await using (var tracker = await TestTracker.StartAsync(c => c with { StoreLookup = StoreLookup.LoadBalance }))
        {
            await using var a = await tracker.ActiveStorageAsync(group: "group1", localIp: "127.0.0.2", freeMb: 5000);
            await using var b = await tracker.ActiveStorageAsync(group: "group2", localIp: "127.0.0.3", freeMb: 9000);
            await using var client = await tracker.ConnectAsync();
            Assert.Equal("group2", (await client.QueryStoreAsync()).Group);
            Assert.Equal("group2", (await client.QueryStoreAsync()).Group);
            await a.ReportDiskUsageAsync((100_000, 20_000));
            Assert.Equal("group1", (await client.QueryStoreAsync()).Group);
        }

        await using (var tracker = await TestTracker.StartAsync(c => c with { StoreLookup = StoreLookup.SpecifiedGroup, StoreGroup = "group2" }))
        {
            await using var client = await tracker.ConnectAsync();
            await using var a = await tracker.ActiveStorageAsync(group: "group1", localIp: "127.0.0.2");
            Assert.Equal(Errno.ENOENT, await client.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne));
            await using var b = await tracker.ActiveStorageAsync(group: "group2", localIp: "127.0.0.3");
            Assert.Equal("group2", (await client.QueryStoreAsync()).Group);
            Assert.Equal("group2", (await client.QueryStoreAsync()).Group);
        }
    }

    [Fact]
    public async Task StoreLookup3_SpreadsUploadsByAvailableSpaceDampedByConnections_AndSkipsFullGroups()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with
        {
            StoreLookup = StoreLookup.Weighted, ReservedStorageSpace = ReservedSpace.FromMegabytes(1024),
        });
        await using var a = await tracker.ActiveStorageAsync(group: "group1", localIp: "127.0.0.2", freeMb: 4024);
        await using var b = await tracker.ActiveStorageAsync(group: "group2", localIp: "127.0.0.3", freeMb: 2024);
        await using var client = await tracker.ConnectAsync();

        async Task<Dictionary<string, int>> PicksAsync(int count, bool interleaved = true)
        {
            var picks = new Dictionary<string, int> { ["group1"] = 0, ["group2"] = 0 };
            var order = new List<string>();
            for (int i = 0; i < count; i++)
            {
                string group = (await client.QueryStoreAsync()).Group;
                picks[group]++;
                order.Add(group);
            }

            // Interleaved, never a burst: no more than 3 uploads in a row to one group at 3:1.
            if (interleaved)
            {
                Assert.DoesNotContain(string.Join(",", Enumerable.Repeat("group1", 4)), string.Join(",", order));
            }

            return picks;
        }

        // 3,000 and 1,000 MB available above the reserved space: 3 to 1, exactly, over whole cycles.
        Assert.Equal(new Dictionary<string, int> { ["group1"] = 300, ["group2"] = 100 }, await PicksAsync(400));

        // group1's storages busy (30 connections, group2's none; mean 15): 3,000 / 3 against 1,000 / 1, half each.
        await a.BeatAsync(new StorageStatCounters { ConnectionCurrentCount = 30 });
        var damped = await PicksAsync(100);
        Assert.InRange(damped["group1"], 49, 51);

        // A group without space above the reserve takes none.
        await b.ReportDiskUsageAsync((100_000, 1000));
        Assert.Equal(0, (await PicksAsync(20, interleaved: false))["group2"]);

        // Back with space: it takes its share at once, but no burst of catching up (credits start again).
        await a.BeatAsync(new StorageStatCounters { ConnectionCurrentCount = 0 });
        await b.ReportDiskUsageAsync((100_000, 4024));
        var back = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            back.Add((await client.QueryStoreAsync()).Group);
        }

        Assert.DoesNotContain("group2,group2", string.Join(",", back)); // equal weights: they alternate
        Assert.Equal(6, back.Count(g => g == "group2"));
    }

    [Fact]
    public async Task ReservedSpace_FullGroupAnswersEnospc_InMbAndRatioMode()
    {
        await using (var tracker = await TestTracker.StartAsync(c => c with { ReservedStorageSpace = ReservedSpace.FromMegabytes(1024) }))
        {
            await using var storage = await tracker.ActiveStorageAsync(freeMb: 1000, totalMb: 100_000);
            await using var client = await tracker.ConnectAsync();
            Assert.Equal(Errno.ENOSPC, await client.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne));
            Assert.Equal(Errno.ENOSPC, await client.StatusOfAsync(FdfsCommand.QueryStoreWithGroupOne, Frames.Group("group1")));
            await storage.ReportDiskUsageAsync((100_000, 2000));
            Assert.Equal("group1", (await client.QueryStoreAsync()).Group);
        }

        await using (var tracker = await TestTracker.StartAsync(c => c with { ReservedStorageSpace = ReservedSpace.FromRatio(0.2) }))
        {
            await using var storage = await tracker.ActiveStorageAsync(freeMb: 19_000, totalMb: 100_000);
            await using var client = await tracker.ConnectAsync();
            Assert.Equal(Errno.ENOSPC, await client.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne));
            var group = GroupStat.Parse(await client.RequestOkAsync(FdfsCommand.ServerListOneGroup, Frames.Group("group1")));
            Assert.Equal(20_000, group.ReservedMb);
            await storage.ReportDiskUsageAsync((100_000, 21_000));
            Assert.Equal("group1", (await client.QueryStoreAsync()).Group);
        }
    }
}
