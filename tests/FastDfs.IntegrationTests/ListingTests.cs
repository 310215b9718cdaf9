using System.Collections.Concurrent;
using System.Text.Json;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests;

/// <summary>
/// Listing a group (issue 19): the client's <see cref="FastDfsClient.ListFilesAsync"/> and <c>fdfs ls</c> page through
/// 10,000 files on a group of two storages and give back exactly what was uploaded, each file once.
/// </summary>
// Heavy (many processes or thousands of uploads): alone, so that timing-sensitive tests do not run starved beside it.
[Collection(SerialCollection.Name)]
public sealed class ListingTests
{
    [Fact]
    public async Task Ten_thousand_files_listed_page_by_page_are_exactly_the_uploaded_ones()
    {
        var ct = Timeouts.Test(300);
        await using var cluster = await TestCluster.StartAsync(2, ct: ct, http: true);
        await using var client = cluster.CreateClient();
        var uploaded = new ConcurrentDictionary<FileId, (bool Appender, bool Metadata, byte[] Content)>();
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < 10_000)
            {
                bool appender = i % 500 == 0, metadata = i % 100 == 7;
                byte[] content = BitConverter.GetBytes(i);
                FileId id;
                if (appender)
                {
                    await using var stream = new MemoryStream(content);
                    id = await client.UploadAppenderAsync(stream, content.Length, "log", ct: ct);
                }
                else
                {
                    id = await client.UploadAsync(content, "bin", metadata ? [new MetadataItem("n", $"{i}")] : null, ct: ct);
                }

                uploaded[id] = (appender, metadata, content);
            }
        }));

        // The group's members merged: every acknowledged file once, replicated yet or not, in name order.
        var listed = new List<ListedFile>();
        await foreach (var file in client.ListFilesAsync("group1", ct: ct))
        {
            listed.Add(file);
        }

        var names = listed.Where(f => !f.Kind.HasFlag(ListedFileKind.Metadata)).Select(f => f.LogicName).ToList();
        Assert.Equal(uploaded.Keys.Select(id => id.LogicName).Order(StringComparer.Ordinal), names);
        Assert.Equal(uploaded.Where(u => u.Value.Metadata).Select(u => u.Key.LogicName + "-m").Order(StringComparer.Ordinal),
            listed.Where(f => f.Kind.HasFlag(ListedFileKind.Metadata)).Select(f => f.LogicName));
        Assert.All(listed.Where(f => !f.Kind.HasFlag(ListedFileKind.Metadata)), f =>
            Assert.Equal(uploaded[new FileId("group1", f.LogicName)].Appender, f.Kind.HasFlag(ListedFileKind.Appender)));
        Assert.Equal(listed.Select(f => f.LogicName).Order(StringComparer.Ordinal), listed.Select(f => f.LogicName));

        // A sub-directory: its files only.
        string directory = uploaded.Keys.First().LogicName[..9];
        var inDirectory = new List<string>();
        await foreach (var file in client.ListFilesAsync("group1", directory, ct: ct))
        {
            inDirectory.Add(file.LogicName);
        }

        Assert.Equal(listed.Where(f => f.LogicName.StartsWith(directory + "/", StringComparison.Ordinal)).Select(f => f.LogicName), inDirectory);

        // The tracker's JSON endpoint, page by page with its cursor: the same names (metadata files included).
        using var http = new HttpClient();
        var paged = new List<string>();
        string? cursor = "";
        int pages = 0;
        while (cursor is not null)
        {
            using var page = JsonDocument.Parse(await http.GetStringAsync(
                new Uri(cluster.TrackerHttp, $"/api/files?group=group1&limit=700&cursor={Uri.EscapeDataString(cursor)}"), ct));
            paged.AddRange(page.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("fileId").GetString()!));
            cursor = page.RootElement.GetProperty("next").GetString();
            pages++;
        }

        Assert.Equal(listed.Select(f => "group1/" + f.LogicName), paged);
        Assert.True(pages >= 15, $"{pages} pages of at most 700");
        using (var badLimit = await http.GetAsync(new Uri(cluster.TrackerHttp, "/api/files?group=group1&limit=0"), ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, badLimit.StatusCode);
        }

        using (var noGroup = await http.GetAsync(new Uri(cluster.TrackerHttp, "/api/files?group=nosuch"), ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, noGroup.StatusCode);
        }

        // fdfs ls: one file ID per line, metadata folded into its file.
        string tracker = cluster.TrackerAddress;
        var (exit, output, error) = await LsAsync(["group1", "--tracker", tracker], ct);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(uploaded.Keys.Select(id => id.ToString()).Order(StringComparer.Ordinal), lines);

        // --long and --json on a sub-directory: kind, size, CRC32 (of the name, or computed for an appender), metadata flag.
        var someAppender = uploaded.First(u => u.Value.Appender).Key;
        string appenderDirectory = "group1/" + someAppender.LogicName[..9];
        (exit, output, error) = await LsAsync([appenderDirectory, "--long", "--crc", "--tracker", tracker], ct);
        Assert.True(exit == 0, error);
        string appenderLine = output.Split('\n').Single(l => l.EndsWith(someAppender.ToString(), StringComparison.Ordinal));
        string appenderCrc = System.IO.Hashing.Crc32.HashToUInt32(uploaded[someAppender].Content).ToString("x8");
        Assert.Matches($@"^appender +4 {appenderCrc} \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d - ", appenderLine);

        (exit, output, error) = await LsAsync([appenderDirectory, "--long", "--tracker", tracker], ct);
        Assert.Matches($@"^appender +4 - ", output.Split('\n').Single(l => l.EndsWith(someAppender.ToString(), StringComparison.Ordinal)));

        (exit, output, error) = await LsAsync(["group1", "--json", "--crc", "--tracker", tracker], ct);
        Assert.True(exit == 0, error);
        var documents = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(10_000, documents.Count);
        foreach (var doc in documents)
        {
            var id = FileId.Parse(doc.GetProperty("fileId").GetString()!);
            var (appender, metadata, content) = uploaded[id];
            Assert.Equal(metadata, doc.GetProperty("metadata").GetBoolean());
            Assert.Equal(appender ? "appender" : "normal", doc.GetProperty("kind").GetString());
            Assert.Equal(4, doc.GetProperty("size").GetInt64());
            // From the name for a normal file, computed by the storage for an appender: the content's either way.
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(content), doc.GetProperty("crc32").GetUInt32());
        }

        // One storage only.
        string member = $"127.0.0.1:{cluster.Storages[1].EndPoint.Port}";
        (exit, output, error) = await LsAsync(["group1", "--storage", member, "--tracker", tracker], ct);
        Assert.True(exit == 0, error);
        var onMember = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.True(onMember.Count > 5_000, $"{onMember.Count} files on one member"); // its own half at least, most replicated
        Assert.Subset(uploaded.Keys.Select(id => id.ToString()).ToHashSet(), onMember);

        foreach (string bad in new[] { "group1/M00/00/00/extra", "group1/foo", "group1/m00", "group1/M00/0" })
        {
            (exit, _, error) = await LsAsync([bad, "--tracker", tracker], ct);
            Assert.Equal(2, exit);
            Assert.Contains("GROUP[/Mxx[/HH[/LL]]]", error);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> LsAsync(string[] args, CancellationToken ct)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Cli.CliApp.InvokeAsync(["ls", .. args], output, error, ct);
        return (exit, output.ToString(), error.ToString());
    }
}
