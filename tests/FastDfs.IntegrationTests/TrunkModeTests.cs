using System.Collections.Concurrent;
using System.Diagnostics;
using FastDfs.Cli.Commands;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace FastDfs.IntegrationTests;

/// <summary>
/// Trunk mode end to end: a tracker with use_trunk_file=true and one storage, which (as the only member of
/// its group, with no trunk server announced) acts as its own trunk server.
/// </summary>
public sealed class TrunkModeTests(ITestOutputHelper output)
{
    private const int SlotMaxSize = 64 * 1024;

    private static Task<TestCluster> StartTrunkClusterAsync(CancellationToken ct, bool http = false) => TestCluster.StartAsync(
        configureTracker: c => c with
        {
            UseTrunkFile = true,
            SlotMinSize = 256,
            SlotMaxSize = SlotMaxSize,
            TrunkAllocAlignmentSize = 256,
            TrunkFileSize = 8 << 20,
            TrunkFreeSpaceMerge = true,
        },
        ct: ct,
        http: http);

    private static async Task WaitForTrunkServerAsync(StorageServer storage, CancellationToken ct) =>
        await Eventually.TrueAsync(
            () => Task.FromResult(storage.Context.Parameters.Trunk.UseTrunkFile && storage.Context.Trunk.Locator.Resolve() == TrunkServerRole.Self),
            TimeSpan.FromSeconds(30), "the storage to act as its own trunk server", ct);

    [Fact]
    public async Task Listing_a_group_gives_its_trunk_stored_files_too_and_not_the_deleted_ones()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await StartTrunkClusterAsync(ct, http: true);
        await WaitForTrunkServerAsync(cluster.Storages[0], ct);
        await using var client = cluster.CreateClient();
        var live = new Dictionary<FileId, int>();
        for (int i = 0; i < 60; i++)
        {
            int size = i < 2 ? SlotMaxSize + 1000 * (i + 1) : 100 + i; // two too large for a slot: plain files
            live[await client.UploadAsync(new byte[size], "bin", ct: ct)] = size;
        }

        var trunkStored = live.Keys.Where(id => cluster.Storages[0].Context.Trunk.IsTrunkName(id.LogicName, out _)).ToList();
        Assert.Equal(58, trunkStored.Count);
        foreach (var gone in trunkStored.Take(5))
        {
            await client.DeleteAsync(gone, ct);
            live.Remove(gone);
        }

        var listed = new List<ListedFile>();
        await foreach (var file in client.ListFilesAsync("group1", ct: ct))
        {
            listed.Add(file);
        }

        Assert.Equal(live.Keys.Select(id => id.LogicName).Order(StringComparer.Ordinal), listed.Select(f => f.LogicName).Order(StringComparer.Ordinal));
        Assert.All(listed, f =>
        {
            Assert.Equal(live[new FileId("group1", f.LogicName)], f.Size);
            Assert.Equal(trunkStored.Any(id => id.LogicName == f.LogicName), f.Kind.HasFlag(ListedFileKind.Trunk));
        });

        // fdfs ls: the kind word, and a sub-directory holds its trunk-stored names.
        var someTrunk = trunkStored.Last();
        var text = new StringWriter();
        Assert.Equal(0, await Cli.CliApp.InvokeAsync(["ls", "group1/" + someTrunk.LogicName[..9], "--long", "--tracker", cluster.TrackerAddress],
            text, new StringWriter(), ct));
        Assert.Matches($@"(?m)^trunk +{live[someTrunk]} [0-9a-f]{{8}} .* {System.Text.RegularExpressions.Regex.Escape(someTrunk.ToString())}$", text.ToString());

        // The tracker's /api/files, 7 a page: the plain files, then the trunk-stored ones (kind "trunk") with their own cursor.
        using var http = new HttpClient();
        var paged = new List<(string Id, string Kind, long Size)>();
        string? cursor = "";
        while (cursor is not null)
        {
            using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(
                new Uri(cluster.TrackerHttp, $"/api/files?group=group1&limit=7&cursor={Uri.EscapeDataString(cursor)}"), ct));
            var files = page.RootElement.GetProperty("files").EnumerateArray()
                .Select(f => (f.GetProperty("fileId").GetString()!, f.GetProperty("kind").GetString()!, f.GetProperty("size").GetInt64())).ToList();
            Assert.InRange(files.Count, 0, 7);
            paged.AddRange(files);
            cursor = page.RootElement.GetProperty("next").GetString();
        }

        Assert.Equal(listed.Select(f => $"group1/{f.LogicName}"), paged.Select(p => p.Id));
        Assert.All(paged, p => Assert.Equal(trunkStored.Any(id => id.ToString() == p.Id) ? "trunk" : "normal", p.Kind));
        Assert.All(paged, p => Assert.Equal(live[FileId.TryParse(p.Id, out var id) ? id : default], p.Size));
        using var stale = await http.GetAsync(new Uri(cluster.TrackerHttp, "/api/files?group=group1&cursor=trunk:127.0.0.9:1/0:0"), ct);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, stale.StatusCode);
        using var bad = await http.GetAsync(new Uri(cluster.TrackerHttp, "/api/files?group=group1&cursor=trunk:nonsense"), ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task ThousandsOfSmallFiles_RoundTrip_DeletedSpaceReturnsToDisk_AndIsReused()
    {
        var ct = Timeouts.Test(240);
        await using var cluster = await StartTrunkClusterAsync(ct);
        var storage = cluster.Storages[0];
        await WaitForTrunkServerAsync(storage, ct);
        await using var client = cluster.CreateClient();
        string dataDir = Path.Combine(storage.Config.StorePaths[0].Path, "data");

        // 1500 files from 1 B to slot_max_size - 24, uploaded 8 at a time.
        var random = new Random(9);
        var sizes = Enumerable.Range(0, 1500).Select(i => i switch { 0 => 1, 1 => SlotMaxSize - 24, _ => random.Next(1, SlotMaxSize - 24) }).ToArray();
        var files = new ConcurrentDictionary<FileId, byte[]>();
        await Parallel.ForEachAsync(sizes, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (size, token) =>
        {
            var content = new byte[size];
            Random.Shared.NextBytes(content);
            files[await client.UploadAsync(content, "bin", ct: token)] = content;
        });

        Assert.All(files.Keys, id =>
        {
            Assert.Equal(60, id.LogicName.Length);
            var info = FileNameCodec.Decode(id.LogicName);
            Assert.True(info.IsTrunk);
            Assert.Equal(files[id].Length, info.FileSize);
            Assert.NotNull(info.Trunk);
        });
        await AssertAllReadBackAsync(client, files, ct);
        var statsBefore = storage.Context.TrunkStats;
        Assert.Equal(files.Values.Sum(c => (long)TrunkAllocSize(c.Length)), statsBefore.UsedBytes);

        // Delete a random half: the store path's disk usage drops by >= 80% of their slots' size.
        long duBefore = DiskUsage(dataDir);
        var deleted = files.Keys.OrderBy(_ => random.Next()).Take(files.Count / 2).ToList();
        long deletedAlloc = deleted.Sum(id => (long)FileNameCodec.Decode(id.LogicName).Trunk!.Value.AllocSize);
        foreach (var id in deleted)
        {
            await client.DeleteAsync(id, ct);
            files.TryRemove(id, out _);
        }

        long duAfter = DiskUsage(dataDir);
        Assert.True(duBefore - duAfter >= deletedAlloc * 8 / 10,
            $"du dropped by {duBefore - duAfter} bytes for {deletedAlloc} bytes of deleted slots ({duBefore} -> {duAfter})");
        var statsAfter = storage.Context.TrunkStats;
        output.WriteLine($"deleted {deleted.Count} files, {deletedAlloc} slot bytes; du {duBefore} -> {duAfter} (-{duBefore - duAfter}); stats {statsAfter}");
        Assert.Equal(statsBefore.UsedBytes - deletedAlloc, statsAfter.UsedBytes);
        Assert.True(statsAfter.ReclaimedBytes >= deletedAlloc * 8 / 10);
        Assert.True(statsAfter.ReclaimableBytes < deletedAlloc / 5, $"reclaimable {statsAfter.ReclaimableBytes}");
        await AssertMonitorShowsTrunkSpaceAsync(client, storage, statsAfter, ct);
        foreach (var id in deleted.Take(20))
        {
            var e = await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct));
            Assert.Equal(2, e.ErrorCode);
        }

        await AssertAllReadBackAsync(client, files, ct);

        // New uploads of the same sizes go into the freed slots: no new trunk file, surviving IDs untouched.
        var freed = deleted.Select(id => FileNameCodec.Decode(id.LogicName).Trunk!.Value).ToList();
        int reused = 0;
        foreach (var id in deleted.Take(300))
        {
            var content = new byte[FileNameCodec.Decode(id.LogicName).FileSize];
            Random.Shared.NextBytes(content);
            var newId = await client.UploadAsync(content, "bin", ct: ct);
            files[newId] = content;
            var slot = FileNameCodec.Decode(newId.LogicName).Trunk!.Value;
            if (freed.Any(f => f.TrunkId == slot.TrunkId && slot.Offset >= f.Offset && slot.Offset < f.Offset + f.AllocSize))
            {
                reused++;
            }
        }

        Assert.Equal(300, reused);
        Assert.Equal(statsBefore.TrunkFileCount, storage.Context.TrunkStats.TrunkFileCount);
        await AssertAllReadBackAsync(client, files, ct);
    }

    /// <summary>The storage answers TRUNK_SPACE with its trunk figures, and <c>fdfs monitor</c> prints them under it.</summary>
    private static async Task AssertMonitorShowsTrunkSpaceAsync(FastDfsClient client, StorageServer storage, TrunkStats stats, CancellationToken ct)
    {
        var space = await client.GetStorage(new StorageEndpoint("127.0.0.1", storage.EndPoint.Port)).QueryTrunkSpaceAsync(ct);
        Assert.Equal(
            new TrunkSpace(stats.TrunkFileCount, stats.TotalBytes, stats.UsedBytes, stats.FreeBytes, stats.ReclaimableBytes, stats.ReclaimedBytes),
            space);
        Assert.True(space.UsedBytes > 0 && space.FreeBytes > 0 && space.ReclaimedBytes > 0, space.ToString());

        var monitor = new StringWriter();
        Assert.Equal(0, await MonitorCommand.RunAsync(client, "list", null, null, monitor, TimeZoneInfo.Utc, ct));
        Assert.Contains(
            $"\t\ttrunk_space = {space.TrunkFileCount} files, total {MonitorFormat.HumanBytes(space.TotalBytes)}, used {MonitorFormat.HumanBytes(space.UsedBytes)}, " +
            $"free {MonitorFormat.HumanBytes(space.FreeBytes)}, reclaimable {MonitorFormat.HumanBytes(space.ReclaimableBytes)}, " +
            $"reclaimed since start {MonitorFormat.HumanBytes(space.ReclaimedBytes)}\n",
            monitor.ToString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrunkFiles_DownloadOverHttp_WholeAndRanges_ThroughTheTracker_AndDeletedOnesAre404()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await StartTrunkClusterAsync(ct, http: true);
        await WaitForTrunkServerAsync(cluster.Storages[0], ct);
        await using var client = cluster.CreateClient();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true });

        var files = new Dictionary<FileId, byte[]>();
        foreach (int size in new[] { 1, 4096, 30_000, SlotMaxSize - 24 })
        {
            var content = new byte[size];
            Random.Shared.NextBytes(content);
            var id = await client.UploadAsync(content, "jpg", ct: ct);
            Assert.True(FileNameCodec.Decode(id.LogicName).IsTrunk);
            files[id] = content;
        }

        foreach (var (id, content) in files)
        {
            using var response = await http.GetAsync(new Uri(cluster.StorageHttp(), "/" + id), ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(ct));
            Assert.NotNull(response.Headers.ETag);

            // Through the tracker (302 to the storage), and a range inside the slot.
            Assert.Equal(content, await http.GetByteArrayAsync(new Uri(cluster.TrackerHttp, "/" + id), ct));
            using var ranged = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.StorageHttp(), "/" + id));
            ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(content.Length / 2, null);
            using var partial = await http.SendAsync(ranged, ct);
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(content[(content.Length / 2)..], await partial.Content.ReadAsByteArrayAsync(ct));
        }

        // A deleted trunk file is gone over HTTP too, even though its slot's bytes are still in the trunk file.
        var deleted = files.Keys.First();
        await client.DeleteAsync(deleted, ct);
        using var gone = await http.GetAsync(new Uri(cluster.StorageHttp(), "/" + deleted), ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task TrunkFiles_SurviveAStorageRestart()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await StartTrunkClusterAsync(ct);
        var first = cluster.Storages[0];
        await WaitForTrunkServerAsync(first, ct);
        var files = new Dictionary<FileId, byte[]>();
        await using (var client = cluster.CreateClient())
        {
            for (int i = 0; i < 50; i++)
            {
                var content = new byte[Random.Shared.Next(1, 3000)];
                Random.Shared.NextBytes(content);
                files[await client.UploadAsync(content, "dat", ct: ct)] = content;
            }

            foreach (var id in files.Keys.Take(20).ToList())
            {
                await client.DeleteAsync(id, ct);
                files.Remove(id);
            }
        }

        // Same port: the tracker must see the same member come back, not a second one.
        var config = first.Config with { Port = first.EndPoint.Port };
        await first.StopAsync(ct);
        await using var restarted = new StorageServer(config, NullLoggerFactory.Instance);
        await restarted.StartAsync(ct);
        await WaitForTrunkServerAsync(restarted, ct);
        await cluster.WaitForActiveAsync(1, ct);
        await using var again = cluster.CreateClient();
        for (int i = 0; i < 50; i++)
        {
            var content = new byte[Random.Shared.Next(1, 3000)];
            Random.Shared.NextBytes(content);
            var id = await again.UploadAsync(content, "dat", ct: ct);
            Assert.Equal(60, id.LogicName.Length);
            files[id] = content;
        }

        var slots = files.Keys.Select(id => FileNameCodec.Decode(id.LogicName).Trunk!.Value).OrderBy(s => (s.TrunkId, s.Offset)).ToList();
        for (int i = 1; i < slots.Count; i++)
        {
            Assert.True(slots[i - 1].TrunkId != slots[i].TrunkId || slots[i - 1].Offset + slots[i - 1].AllocSize <= slots[i].Offset);
        }

        await AssertAllReadBackAsync(again, files, ct);
    }

    private static int TrunkAllocSize(int fileSize) => (Math.Max(256, fileSize + 24) + 255) / 256 * 256;

    private static async Task AssertAllReadBackAsync(FastDfsClient client, IReadOnlyDictionary<FileId, byte[]> files, CancellationToken ct) =>
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (pair, token) =>
        {
            var body = await client.DownloadBytesAsync(pair.Key, ct: token);
            Assert.True(pair.Value.AsSpan().SequenceEqual(body), $"{pair.Key} differs");
        });

    /// <summary>Allocated bytes under a directory, as <c>du</c> reports them.</summary>
    private static long DiskUsage(string directory)
    {
        using var du = Process.Start(new ProcessStartInfo("du", ["-s", "-B1", directory]) { RedirectStandardOutput = true })!;
        string output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
