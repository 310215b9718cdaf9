using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Http;

/// <summary>The tracker's HTTP front: one URL for the whole cluster, and the secret-guarded upload/delete.</summary>
public sealed class TrackerHttpTests(HttpCluster fixture) : IClassFixture<HttpCluster>
{
    private const string SecretHeader = "X-FastDFS-Secret";

    private Uri TrackerUrl(string path) => new(fixture.Cluster.TrackerHttp, path);

    [Fact]
    public async Task A_file_url_on_the_tracker_redirects_to_a_storage_that_serves_it()
    {
        var ct = Timeouts.Test();
        var content = new byte[50_000];
        Random.Shared.NextBytes(content);
        var id = await fixture.Client.UploadAsync(content, "bin", ct: ct);

        using var redirect = await fixture.Http.GetAsync(TrackerUrl("/" + id + "?filename=a.bin"), ct);

        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal(new Uri(fixture.StorageUrl(id) + "?filename=a.bin"), redirect.Headers.Location);
        using var following = new HttpClient();
        Assert.Equal(content, await following.GetByteArrayAsync(TrackerUrl("/" + id), ct));
    }

    [Fact]
    public async Task An_unknown_group_is_404_on_the_tracker()
    {
        var ct = Timeouts.Test();
        using var response = await fixture.Http.GetAsync(TrackerUrl("/nogroup/M00/00/00/abcdefghijklmnopqrstuvwxyz0123456789.txt"), ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Raw_upload_returns_id_and_url_then_delete_removes_the_file()
    {
        var ct = Timeouts.Test();
        var content = new byte[70_000];
        Random.Shared.NextBytes(content);
        using var upload = new HttpRequestMessage(HttpMethod.Put, TrackerUrl("/upload?ext=dat")) { Content = new ByteArrayContent(content) };
        upload.Headers.Add(SecretHeader, HttpCluster.Secret);

        using var created = await fixture.Http.SendAsync(upload, ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        var id = FileId.Parse(json.RootElement.GetProperty("fileId").GetString()!);
        string url = json.RootElement.GetProperty("url").GetString()!;
        Assert.EndsWith(".dat", id.LogicName);
        Assert.Equal(TrackerUrl("/" + id), new Uri(url));
        Assert.Equal(content, await fixture.Client.DownloadBytesAsync(id, ct: ct));
        using (var following = new HttpClient())
        {
            Assert.Equal(content, await following.GetByteArrayAsync(url, ct));
        }

        using var delete = new HttpRequestMessage(HttpMethod.Delete, url);
        delete.Headers.Add(SecretHeader, HttpCluster.Secret);
        using var deleted = await fixture.Http.SendAsync(delete, ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await fixture.Http.GetAsync(fixture.StorageUrl(id), ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        using var again = new HttpRequestMessage(HttpMethod.Delete, url);
        again.Headers.Add(SecretHeader, HttpCluster.Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.SendAsync(again, ct)).StatusCode);
    }

    [Fact]
    public async Task Multipart_upload_takes_the_file_part_and_its_extension()
    {
        var ct = Timeouts.Test();
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("a form field"), "comment");
        var file = new ByteArrayContent("hello from a form"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", "greeting.txt");
        using var upload = new HttpRequestMessage(HttpMethod.Post, TrackerUrl("/upload")) { Content = form };
        upload.Headers.Add(SecretHeader, HttpCluster.Secret);

        using var created = await fixture.Http.SendAsync(upload, ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        var id = FileId.Parse(json.RootElement.GetProperty("fileId").GetString()!);
        Assert.EndsWith(".txt", id.LogicName);
        Assert.Equal(17, json.RootElement.GetProperty("size").GetInt64());
        Assert.Equal("hello from a form", await fixture.Http.GetStringAsync(fixture.StorageUrl(id), ct));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-secret")]
    public async Task Upload_and_delete_without_the_secret_are_403_and_change_nothing(string? secret)
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync("keep me"u8.ToArray(), "txt", ct: ct);
        using var upload = new HttpRequestMessage(HttpMethod.Post, TrackerUrl("/upload?ext=txt")) { Content = new ByteArrayContent([1, 2, 3]) };
        using var delete = new HttpRequestMessage(HttpMethod.Delete, TrackerUrl("/" + id));
        if (secret is not null)
        {
            upload.Headers.Add(SecretHeader, secret);
            delete.Headers.Add(SecretHeader, secret);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Http.SendAsync(upload, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Http.SendAsync(delete, ct)).StatusCode);
        Assert.Equal("keep me"u8.ToArray(), await fixture.Client.DownloadBytesAsync(id, ct: ct));
    }
}

/// <summary>The tracker's HTTP upload when no secret is set.</summary>
public sealed class TrackerHttpUploadOffTests
{
    [Fact]
    public async Task Upload_without_a_configured_secret_is_404_naming_the_key_and_the_server_switch()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct, http: true);
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(cluster.TrackerHttp, "/upload?ext=txt"), new ByteArrayContent([1, 2, 3]), ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync(ct);
        Assert.Contains("http.upload.secret_key", body);
        Assert.Contains("--http-upload-secret", body);
    }
}
