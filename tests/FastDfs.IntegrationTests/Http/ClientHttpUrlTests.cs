using System.Net;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.IntegrationTests.Http;

/// <summary>FastDfsClient.GetHttpUrl: URLs that the tracker's HTTP port serves, with anti-steal tokens the storages accept.</summary>
public sealed class ClientHttpUrlTests
{
    private const string Secret = "FastDFS1234567890";

    [Fact]
    public async Task Urls_with_a_token_download_until_they_expire_and_not_after()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureStorage: (_, c) => c with { Http = c.Http with { AntiStealCheckToken = true, AntiStealSecretKey = Secret, AntiStealTokenTtl = 300 } });
        var options = FastDfsClientOptions.ForTrackers(cluster.TrackerAddress) with
        {
            HttpTrackerServerPort = cluster.TrackerHttp.Port,
            AntiStealSecretKey = Secret,
            AntiStealTokenTtl = TimeSpan.FromSeconds(300),
        };
        await using var client = new FastDfsClient(options);
        var id = await client.UploadAsync("behind a token"u8.ToArray(), "txt", ct: ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var url = client.GetHttpUrl(id);
        Assert.Equal($"http://127.0.0.1:{cluster.TrackerHttp.Port}/{id}", url.GetLeftPart(UriPartial.Path));
        Assert.Matches("^\\?token=[0-9a-f]{32}&ts=\\d+$", url.Query);
        Assert.Equal("behind a token", await http.GetStringAsync(url, ct)); // through the tracker's redirect to the storage

        // Valid for an hour although the servers' lifetime is 5 minutes: the timestamp is in the future.
        Assert.Equal("behind a token", await http.GetStringAsync(client.GetHttpUrl(id, DateTimeOffset.UtcNow.AddHours(1)), ct));
        using var expired = await http.GetAsync(client.GetHttpUrl(id, DateTimeOffset.UtcNow.AddSeconds(-5)), ct);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        using var wrongKey = new FastDfsClient(options with { AntiStealSecretKey = "not the key" });
        using var refused = await http.GetAsync(wrongKey.GetHttpUrl(id), ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var noToken = new FastDfsClient(options with { AntiStealSecretKey = null });
        Assert.Equal("", noToken.GetHttpUrl(id).Query);
        using var withoutToken = await http.GetAsync(noToken.GetHttpUrl(id), ct);
        Assert.Equal(HttpStatusCode.Forbidden, withoutToken.StatusCode);
    }

    [Fact]
    public void Urls_are_made_from_the_options_and_the_clock_without_asking_a_server()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var id = FileId.Parse("group1/M00/00/00/wKgAAWdXAAAAAAAAAAAAAA1234567.jpg");
        var options = FastDfsClientOptions.ForTrackers("10.0.0.7:22122", "10.0.0.8:22122") with { TimeProvider = clock };
        using var plain = new FastDfsClient(options);
        Assert.Equal(new Uri("http://10.0.0.7/" + id), plain.GetHttpUrl(id));

        using var withPort = new FastDfsClient(options with { HttpTrackerServerPort = 8080, AntiStealSecretKey = Secret, AntiStealTokenTtl = TimeSpan.FromSeconds(900) });
        // ts = now (the token stock's fdfs_test makes): md5(file id + key + ts) in lowercase hex.
        string token = Protocol.Http.AntiStealToken.Compute(id.ToString(), Secret, 1_700_000_000);
        Assert.Equal(new Uri($"http://10.0.0.7:8080/{id}?token={token}&ts=1700000000"), withPort.GetHttpUrl(id));
        Assert.EndsWith("&ts=1700000100", withPort.GetHttpUrl(id, clock.GetUtcNow().AddSeconds(1000)).Query);

        using var cdn = new FastDfsClient(options with { HttpBaseUrl = new Uri("https://files.example.com/fdfs/") });
        Assert.Equal(new Uri("https://files.example.com/fdfs/" + id), cdn.GetHttpUrl(id));

        using var ipv6 = new FastDfsClient(FastDfsClientOptions.ForTrackers("[::1]:22122") with { HttpTrackerServerPort = 8080 });
        Assert.Equal(new Uri("http://[::1]:8080/" + id), ipv6.GetHttpUrl(id));
    }
}
