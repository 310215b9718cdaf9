using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Samples.MinimalApi;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace FastDfs.IntegrationTests;

/// <summary>samples/FastDfs.Samples.MinimalApi against a real cluster: every request of its README.</summary>
public sealed class SampleApiTests
{
    [Fact]
    public async Task The_sample_uploads_serves_ranges_keeps_metadata_and_deletes()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await cluster.WaitForActiveAsync(1, ct);
        await using var factory = new WebApplicationFactory<SampleApi>().WithWebHostBuilder(web =>
            web.UseSetting("FastDfs:Trackers:0", cluster.TrackerAddress));
        using var http = factory.CreateClient();

        byte[] content = new byte[200_000];
        new Random(21).NextBytes(content);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(content), "file", "holiday photo.jpeg" } };
        using var created = await http.PostAsync("/files", form, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var upload = await created.Content.ReadFromJsonAsync<UploadReply>(ct);
        Assert.EndsWith(".jpeg", upload!.FileId);
        Assert.Equal($"/files/{upload.FileId}", created.Headers.Location!.ToString());
        string file = "/files/" + upload.FileId;

        using var whole = await http.GetAsync(file, ct);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("image/jpeg", whole.Content.Headers.ContentType!.MediaType);
        Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync(ct));

        foreach (var (range, from, to) in new[] { ("bytes=0-99", 0, 99), ("bytes=150000-", 150_000, 199_999), ("bytes=-10", 199_990, 199_999), ("bytes=199999-300000", 199_999, 199_999) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, file);
            request.Headers.Range = RangeHeaderValue.Parse(range);
            using var partial = await http.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal($"bytes {from}-{to}/{content.Length}", partial.Content.Headers.ContentRange!.ToString());
            Assert.Equal(content[from..(to + 1)], await partial.Content.ReadAsByteArrayAsync(ct));
        }

        using (var beyond = new HttpRequestMessage(HttpMethod.Get, file))
        {
            beyond.Headers.Range = RangeHeaderValue.Parse("bytes=200000-");
            using var refused = await http.SendAsync(beyond, ct);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, refused.StatusCode);
            Assert.Equal($"bytes */{content.Length}", refused.Content.Headers.ContentRange!.ToString());
        }

        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, file), ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(content.Length, head.Content.Headers.ContentLength);
            Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
        }

        using (var named = await http.GetAsync(file + "?download=holiday.jpeg", ct))
        {
            Assert.Equal("holiday.jpeg", named.Content.Headers.ContentDisposition!.FileNameStar);
        }

        Assert.Equal("holiday photo.jpeg", (await http.GetFromJsonAsync<Dictionary<string, string>>("/metadata/" + upload.FileId, ct))!["name"]);
        using (var merge = await http.PutAsJsonAsync("/metadata/" + upload.FileId + "?merge=true", new Dictionary<string, string> { ["width"] = "160" }, ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, merge.StatusCode);
        }

        var metadata = await http.GetFromJsonAsync<Dictionary<string, string>>("/metadata/" + upload.FileId, ct);
        Assert.Equal(new Dictionary<string, string> { ["name"] = "holiday photo.jpeg", ["width"] = "160" }, metadata);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(file, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(file, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, file), ct)).StatusCode); // its size is in its name: asked anyway
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync(file, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/files/not-a-file-id", ct)).StatusCode);
        Assert.Equal("Healthy", await http.GetStringAsync("/health", ct));
    }

    private sealed record UploadReply(string FileId, string Url);
}
