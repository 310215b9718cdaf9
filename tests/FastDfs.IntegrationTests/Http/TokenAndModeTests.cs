using System.Net;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;

namespace FastDfs.IntegrationTests.Http;

/// <summary>Anti-steal tokens (spec 16.1), URLs without the group, replication-lag redirect/proxy, and upload off by default.</summary>
public sealed class TokenAndModeTests
{
    private const string TokenSecret = "FastDFS1234567890";

    private static HttpClient NoRedirects() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Tokens_as_stock_computes_them_pass_and_bad_or_expired_ones_get_403()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureStorage: (_, c) => c with { Http = c.Http with { AntiStealCheckToken = true, AntiStealSecretKey = TokenSecret, AntiStealTokenTtl = 300 } });
        await using var client = cluster.CreateClient();
        using var http = NoRedirects();
        var id = await client.UploadAsync("guarded"u8.ToArray(), "txt", ct: ct);
        var url = new Uri(cluster.StorageHttp(), "/" + id);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var ok = await http.GetAsync($"{url}?token={AntiStealToken.Compute(id.ToString(), TokenSecret, now)}&ts={now}", ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("guarded", await ok.Content.ReadAsStringAsync(ct));

        var refusals = new (string Query, string Reason)[]
        {
            ("", "malformed"),
            ($"?token=abc&ts={now}", "malformed"),
            ($"?token={AntiStealToken.Compute(id.ToString(), "wrong", now)}&ts={now}", "mismatch"),
            ($"?token={AntiStealToken.Compute(id.ToString(), TokenSecret, now)}&ts={now - 1}", "mismatch"),
            ($"?token={AntiStealToken.Compute(id.ToString(), TokenSecret, now - 1000)}&ts={now - 1000}", "expired"),
        };
        foreach (var (query, reason) in refusals)
        {
            using var refused = await http.GetAsync(url + query, ct);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal(reason, refused.Headers.GetValues("X-FastDFS-Token").Single());
            Assert.DoesNotContain("guarded", await refused.Content.ReadAsStringAsync(ct));
        }
    }

    [Fact]
    public async Task A_refused_token_gets_the_token_check_fail_file_when_configured()
    {
        var ct = Timeouts.Test();
        string failFile = Path.Combine(Path.GetTempPath(), "anti-steal-" + Guid.NewGuid().ToString("N") + ".png");
        await File.WriteAllBytesAsync(failFile, [0x89, (byte)'P', (byte)'N', (byte)'G'], ct);
        try
        {
            await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
                configureStorage: (_, c) => c with
                {
                    Http = c.Http with { AntiStealCheckToken = true, AntiStealSecretKey = TokenSecret, AntiStealTokenCheckFail = failFile },
                });
            await using var client = cluster.CreateClient();
            using var http = NoRedirects();
            var id = await client.UploadAsync("guarded"u8.ToArray(), "txt", ct: ct);

            using var refused = await http.GetAsync(new Uri(cluster.StorageHttp(), "/" + id + "?token=00000000000000000000000000000000&ts=0"), ct);

            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("image/png", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, await refused.Content.ReadAsByteArrayAsync(ct));
        }
        finally
        {
            File.Delete(failFile);
        }
    }

    [Fact]
    public async Task Urls_without_the_group_are_served_when_configured_and_upload_is_off_without_a_secret()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureStorage: (_, c) => c with { Http = c.Http with { UrlHaveGroupName = false } });
        await using var client = cluster.CreateClient();
        using var http = NoRedirects();
        var id = await client.UploadAsync("no group in the url"u8.ToArray(), "txt", ct: ct);

        Assert.Equal("no group in the url", await http.GetStringAsync(new Uri(cluster.StorageHttp(), "/" + id.LogicName), ct));
        using var withGroup = await http.GetAsync(new Uri(cluster.StorageHttp(), "/" + id), ct);
        Assert.Equal(HttpStatusCode.BadRequest, withGroup.StatusCode);

        using var upload = new HttpRequestMessage(HttpMethod.Put, new Uri(cluster.TrackerHttp, "/upload")) { Content = new ByteArrayContent([1]) };
        upload.Headers.Add("X-FastDFS-Secret", "");
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(upload, ct)).StatusCode);
    }

    [Theory]
    [InlineData(HttpResponseMode.Redirect)]
    [InlineData(HttpResponseMode.Proxy)]
    public async Task A_storage_without_the_file_yet_sends_the_client_to_its_source(HttpResponseMode mode)
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureStorage: (_, c) => c with { Http = c.Http with { ResponseMode = mode } });
        // A second storage of group1: it joins and waits for the initial sync, never having the new file.
        await cluster.AddStorageAsync(c => c with { Http = c.Http with { ResponseMode = mode } }, ct);
        using var http = NoRedirects();
        var content = new byte[40_000];
        Random.Shared.NextBytes(content);
        // Upload to storage 0 itself: the file exists there only (nothing replicates it in this test).
        await using var source = new Client.StorageClient(new Client.FastDfsEndpoint("127.0.0.1", cluster.Storages[0].EndPoint.Port));
        FileId id = await source.UploadAsync(new MemoryStream(content), content.Length, "bin", ct: ct);
        var onPeer = new Uri(cluster.StorageHttp(1), "/" + id);

        HttpResponseMessage? response = null;
        await Eventually.TrueAsync(async () =>
        {
            response?.Dispose();
            response = await http.GetAsync(onPeer, ct); // the peer needs the group list from the tracker first
            return response.StatusCode != HttpStatusCode.NotFound;
        }, TimeSpan.FromSeconds(30), "the peer to know its group", ct);

        using (response)
        {
            if (mode == HttpResponseMode.Redirect)
            {
                Assert.Equal(HttpStatusCode.Found, response!.StatusCode);
                Assert.Equal(new Uri(cluster.StorageHttp(0), "/" + id), response.Headers.Location);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
                Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(ct));
            }
        }

        // A range through the same path.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, onPeer);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        using var follow = new HttpClient();
        using var part = await follow.SendAsync(ranged, ct);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(content[10..20], await part.Content.ReadAsByteArrayAsync(ct));

        // A name the client made up, whose source address is no member of the group: 404, never sent there.
        foreach (string stranger in (string[])["10.9.8.7", "127.0.0.9"])
        {
            string forged = FileNameCodec.BuildLogicName(0, 0, 0, FileNameCodec.SourceFromIp(stranger),
                (int)DateTimeOffset.UtcNow.ToUnixTimeSeconds(), FileNameCodec.MakeSizeField(100, false, false, 7), 0x1234, ".bin");
            using var refused = await http.GetAsync(new Uri(cluster.StorageHttp(1), $"/group1/{forged}"), ct);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            Assert.Null(refused.Headers.Location);
        }
    }
}
