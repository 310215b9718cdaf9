using System.IO.Hashing;
using System.Net;
using System.Text.Json;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Http;

/// <summary>
/// The tracker's HTTP upload streams bodies of any size up to <c>http.upload.max_size</c> (not Kestrel's 30 MB) without
/// holding them in memory. Allocation counters are process-wide: serial collection.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class LargeHttpUploadTests
{
    private const string SecretHeader = "X-FastDFS-Secret";
    private const string Secret = "big-s3cret";

    private static HttpRequestMessage Put(TestCluster cluster, HttpContent content) =>
        new(HttpMethod.Put, new Uri(cluster.TrackerHttp, "/upload?ext=bin")) { Content = content, Headers = { { SecretHeader, Secret } } };

    private static async Task<FileId> CreatedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return FileId.Parse(json.RootElement.GetProperty("fileId").GetString()!);
    }

    [Fact]
    public async Task A_200_MB_upload_streams_with_and_without_a_length()
    {
        var ct = Timeouts.Test(240);
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureTracker: c => c with { Http = c.Http with { UploadSecretKey = Secret } });
        await using var client = cluster.CreateClient();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
        const long size = 200L * 1024 * 1024;

        foreach (bool withLength in (bool[])[true, false])
        {
            var source = new PatternStream(size);
            var content = new StreamContent(source, 64 * 1024);
            if (withLength)
            {
                content.Headers.ContentLength = size; // else HttpClient sends it chunked: the tracker spools it
            }

            long before = GC.GetTotalAllocatedBytes(precise: true);
            using var response = await http.SendAsync(Put(cluster, content), ct);
            var id = await CreatedAsync(response, ct);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            // HttpClient, Kestrel, the tracker's client and the storage all run in this process.
            Assert.True(allocated < size / 8, $"upload (length {withLength}) allocated {allocated} bytes for {size}");

            var info = FileNameCodec.Decode(id.LogicName);
            Assert.Equal(size, info.FileSize);
            Assert.Equal(source.Crc32, info.Crc32);
            var crc = new Crc32();
            Assert.Equal(size, await client.DownloadAsync(id, new HashingStream(crc), ct: ct));
            Assert.Equal(source.Crc32, crc.GetCurrentHashAsUInt32());
        }
    }

    [Fact]
    public async Task An_upload_over_http_upload_max_size_gets_413_and_stores_nothing()
    {
        var ct = Timeouts.Test(90);
        const int max = 1024 * 1024;
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureTracker: c => c with { Http = c.Http with { UploadSecretKey = Secret, UploadMaxSize = max } });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        // Declared too large: refused before the body is read.
        var declared = new StreamContent(new PatternStream(max + 1));
        declared.Headers.ContentLength = max + 1;
        using (var refused = await http.SendAsync(Put(cluster, declared), ct))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
            Assert.Contains("http.upload.max_size", await refused.Content.ReadAsStringAsync(ct));
        }

        // Chunked, found too large while reading: refused too, and the spooled part is gone.
        using (var refused = await http.SendAsync(Put(cluster, new StreamContent(new PatternStream(3L * max))), ct))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        }

        // A multipart form whose file part is too large.
        var form = new MultipartFormDataContent { { new StreamContent(new PatternStream(2L * max)), "file", "big.bin" } };
        using (var refused = await http.SendAsync(Put(cluster, form), ct))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        }

        string spool = Path.Combine(cluster.Tracker.Config.BasePath, "data", "http_upload_spool");
        Assert.True(!Directory.Exists(spool) || Directory.GetFiles(spool).Length == 0, "a refused upload left its spool file");
        Assert.Equal(0, StoredFiles(cluster));

        // Exactly the limit is fine, chunked or not.
        foreach (bool withLength in (bool[])[true, false])
        {
            var content = new StreamContent(new PatternStream(max));
            if (withLength)
            {
                content.Headers.ContentLength = max;
            }

            using var accepted = await http.SendAsync(Put(cluster, content), ct);
            Assert.Equal(max, FileNameCodec.Decode((await CreatedAsync(accepted, ct)).LogicName).FileSize);
        }

        Assert.Equal(2, StoredFiles(cluster));
    }

    /// <summary>Files in the storage's 256x256 data directories.</summary>
    private static int StoredFiles(TestCluster cluster) =>
        Directory.EnumerateFiles(Path.Combine(cluster.StorageConfigs[0].StorePaths[0].Path, "data"), "*", SearchOption.AllDirectories)
            .Count(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f)))?.Length == 2);
}
