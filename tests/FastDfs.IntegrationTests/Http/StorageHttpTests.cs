using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FastDfs.IntegrationTests.Infrastructure;
using Counter = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.IntegrationTests.Http;

/// <summary>The storage's built-in HTTP server against a real cluster: the URL form users already have.</summary>
public sealed class StorageHttpTests(HttpCluster fixture) : IClassFixture<HttpCluster>
{
    private static byte[] RandomBytes(int size)
    {
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Get_returns_the_uploaded_bytes_with_type_and_validators()
    {
        var ct = Timeouts.Test();
        var content = RandomBytes(300_000);
        var id = await fixture.Client.UploadAsync(content, "jpg", ct: ct);

        using var response = await fixture.Http.GetAsync(fixture.StorageUrl(id), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(ct));
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Contains("bytes", response.Headers.AcceptRanges);
    }

    [Fact]
    public async Task Downloads_over_http_count_in_the_storage_stats_as_binary_downloads_do()
    {
        var ct = Timeouts.Test();
        var content = RandomBytes(10_000);
        var id = await fixture.Client.UploadAsync(content, "bin", ct: ct);
        var counters = fixture.Cluster.Storages[0].Context.Counters;
        long Read(Protocol.Messages.StorageStatCounters.Counter c) => counters[c];
        long total = Read(Counter.TotalDownloadCount), success = Read(Counter.SuccessDownloadCount), bytes = Read(Counter.SuccessDownloadBytes);

        using (var whole = await fixture.Http.GetAsync(fixture.StorageUrl(id), ct))
        {
            Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync(ct));
        }

        using (var range = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id)))
        {
            range.Headers.Range = new RangeHeaderValue(0, 99);
            using var partial = await fixture.Http.SendAsync(range, ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(100, (await partial.Content.ReadAsByteArrayAsync(ct)).Length);
        }

        using (await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, fixture.StorageUrl(id)), ct))
        {
        }

        using (var revalidate = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id)))
        {
            revalidate.Headers.IfModifiedSince = DateTimeOffset.UtcNow.AddMinutes(5);
            using var notModified = await fixture.Http.SendAsync(revalidate, ct);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // The counters move once the reply is out: the client has it a moment before, on another thread.
        await Eventually.TrueAsync(() => Task.FromResult(Read(Counter.SuccessDownloadCount) == success + 2), TimeSpan.FromSeconds(10), "the counters", ct);
        Assert.Equal(total + 2, Read(Counter.TotalDownloadCount)); // HEAD and 304 are no downloads
        Assert.Equal(success + 2, Read(Counter.SuccessDownloadCount));
        Assert.Equal(bytes + content.Length + 100, Read(Counter.SuccessDownloadBytes));
    }

    [Fact]
    public async Task Head_returns_the_headers_and_no_body()
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(1234), "txt", ct: ct);

        using var response = await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, fixture.StorageUrl(id)), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1234, response.Content.Headers.ContentLength);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(ct));
    }

    [Theory]
    [InlineData(100L, 199L, 100L, 199L)]
    [InlineData(null, 10L, 9990L, 9999L)]
    [InlineData(9000L, null, 9000L, 9999L)]
    [InlineData(9990L, 20000L, 9990L, 9999L)]
    public async Task A_single_range_returns_206_with_exactly_those_bytes(long? from, long? to, long first, long last)
    {
        var ct = Timeouts.Test();
        var content = RandomBytes(10_000);
        var id = await fixture.Client.UploadAsync(content, "bin", ct: ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        request.Headers.Range = new RangeHeaderValue(from, to);

        using var response = await fixture.Http.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {first}-{last}/10000", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(content[(int)first..(int)(last + 1)], await response.Content.ReadAsByteArrayAsync(ct));
    }

    [Fact]
    public async Task Several_ranges_return_multipart_byteranges()
    {
        var ct = Timeouts.Test();
        var content = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i:D3}|")));
        var id = await fixture.Client.UploadAsync(content, "txt", ct: ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        request.Headers.Range = new RangeHeaderValue();
        request.Headers.Range.Ranges.Add(new RangeItemHeaderValue(0, 3));
        request.Headers.Range.Ranges.Add(new RangeItemHeaderValue(40, 47));

        using var response = await fixture.Http.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("multipart/byteranges", response.Content.Headers.ContentType?.MediaType);
        string boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!;
        string body = await response.Content.ReadAsStringAsync(ct);
        Assert.Equal(response.Content.Headers.ContentLength, Encoding.ASCII.GetByteCount(body));
        var parts = body.Split("--" + boundary).Skip(1).ToArray();
        Assert.Equal(3, parts.Length); // two parts and the closing "--"
        Assert.Contains("Content-Range: bytes 0-3/400\r\n\r\n000|\r\n", parts[0]);
        Assert.Contains("Content-Range: bytes 40-47/400\r\n\r\n010|011|\r\n", parts[1]);
        Assert.StartsWith("--", parts[2]);
    }

    [Fact]
    public async Task Overlapping_ranges_are_merged_so_no_byte_is_sent_twice()
    {
        var ct = Timeouts.Test();
        var content = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i:D3}|")));
        var id = await fixture.Client.UploadAsync(content, "txt", ct: ct);

        // 64 times the whole file: one part, the file once.
        using (var request = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id)))
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=" + string.Join(",", Enumerable.Repeat("0-", 64)));
            using var response = await fixture.Http.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("bytes 0-399/400", response.Content.Headers.ContentRange?.ToString());
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(ct));
        }

        // Overlapping and adjacent ranges merge; the one apart stays a part of its own.
        using (var request = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id)))
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=40-47,5-19,0-9,20-23");
            using var response = await fixture.Http.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            string boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!;
            string body = await response.Content.ReadAsStringAsync(ct);
            var parts = body.Split("--" + boundary).Skip(1).ToArray();
            Assert.Equal(3, parts.Length);
            Assert.Contains("Content-Range: bytes 0-23/400\r\n\r\n000|001|002|003|004|005|\r\n", parts[0]);
            Assert.Contains("Content-Range: bytes 40-47/400\r\n\r\n010|011|\r\n", parts[1]);
        }
    }

    [Fact]
    public async Task An_unsatisfiable_range_returns_416()
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(100), "bin", ct: ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        request.Headers.Range = new RangeHeaderValue(500, 600);

        using var response = await fixture.Http.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Conditional_gets_answer_304_while_the_file_is_unchanged()
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(2000), "png", ct: ct);
        using var first = await fixture.Http.GetAsync(fixture.StorageUrl(id), ct);
        var etag = first.Headers.ETag!;
        var lastModified = first.Content.Headers.LastModified!.Value;

        using var byTag = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        byTag.Headers.IfNoneMatch.Add(etag);
        using var notModifiedByTag = await fixture.Http.SendAsync(byTag, ct);
        Assert.Equal(HttpStatusCode.NotModified, notModifiedByTag.StatusCode);
        Assert.Empty(await notModifiedByTag.Content.ReadAsByteArrayAsync(ct));

        using var otherTag = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        otherTag.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var modifiedByTag = await fixture.Http.SendAsync(otherTag, ct);
        Assert.Equal(HttpStatusCode.OK, modifiedByTag.StatusCode);

        using var byDate = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        byDate.Headers.IfModifiedSince = lastModified;
        using var notModifiedByDate = await fixture.Http.SendAsync(byDate, ct);
        Assert.Equal(HttpStatusCode.NotModified, notModifiedByDate.StatusCode);

        using var olderDate = new HttpRequestMessage(HttpMethod.Get, fixture.StorageUrl(id));
        olderDate.Headers.IfModifiedSince = lastModified.AddHours(-1);
        using var modifiedByDate = await fixture.Http.SendAsync(olderDate, ct);
        Assert.Equal(HttpStatusCode.OK, modifiedByDate.StatusCode);
        Assert.Equal(2000, (await modifiedByDate.Content.ReadAsByteArrayAsync(ct)).Length);
    }

    [Theory]
    [InlineData("filename")]
    [InlineData("attname")]
    public async Task A_download_name_sets_content_disposition(string parameter)
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(10), "pdf", ct: ct);

        using var response = await fixture.Http.GetAsync(new Uri(fixture.StorageUrl(id) + $"?{parameter}=quarterly%20report.pdf"), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("quarterly report.pdf", response.Content.Headers.ContentDisposition?.FileNameStar ??
                                             response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/group1/M00/00/00/../../../../outside-secret.txt")]
    [InlineData("/group1/M00/00/00/..%2F..%2F..%2F..%2Foutside-secret.txt")]
    [InlineData("/group1/M00/00/00/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside-secret.txt")]
    [InlineData("/group1/M00/00/00/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2foutside-secret.txt")]
    [InlineData("/group1/M00/00/00/..%5c..%5c..%5c..%5coutside-secret.txt")]
    [InlineData("/group1/M00/%2E%2E/%2E%2E/%2E%2E/outside-secret.txt")]
    [InlineData("/group1/../../outside-secret.txt")]
    [InlineData("/../../outside-secret.txt")]
    [InlineData("/group1/M00/00/00/%252e%252e%252f%252e%252e%252foutside-secret.txt")]
    [InlineData("/group1/M00/00/00/outside-secret.txt%00.jpg")]
    [InlineData("/group1/M00//00/../../../outside-secret.txt")]
    [InlineData("/group1/MFF/00/00/abcdefghijklmnopqrstuvwxyz0123456789.txt")]
    [InlineData("/group1/M00/zz/00/abcdefghijklmnopqrstuvwxyz0123456789.txt")]
    public async Task Paths_that_try_to_leave_the_store_path_get_400_or_404_and_nothing_outside_is_read(string target)
    {
        var ct = Timeouts.Test();
        const string secret = "TOP-SECRET-CONTENT-OUTSIDE-THE-STORE";
        // Files a traversal could reach: beside the store path, and in the cluster root above it.
        await File.WriteAllTextAsync(Path.Combine(fixture.Cluster.Root, "outside-secret.txt"), secret, ct);
        await File.WriteAllTextAsync(Path.Combine(fixture.Cluster.Root, "storage0", "outside-secret.txt"), secret, ct);

        var (status, response) = await RawHttp.GetAsync(fixture.Cluster.StorageHttp().Port, target, ct);

        Assert.True(status is 400 or 404, $"{target} answered {status}");
        Assert.DoesNotContain(secret, response);

        // The server still serves a valid request.
        var id = await fixture.Client.UploadAsync("still fine"u8.ToArray(), "txt", ct: ct);
        Assert.Equal("still fine", await fixture.Http.GetStringAsync(fixture.StorageUrl(id), ct));
    }

    [Fact]
    public async Task A_missing_file_whose_source_is_this_storage_is_404()
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(10), "txt", ct: ct);
        await fixture.Client.DeleteAsync(id, ct);

        using var response = await fixture.Http.GetAsync(fixture.StorageUrl(id), ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Another_group_or_a_non_file_url_is_refused_and_writes_are_not_allowed()
    {
        var ct = Timeouts.Test();
        var id = await fixture.Client.UploadAsync(RandomBytes(10), "txt", ct: ct);
        var base_ = fixture.Cluster.StorageHttp();

        // A file the storage does not hold (one it holds is served under any group's name: files moved between groups).
        using var otherGroup = await fixture.Http.GetAsync(new Uri(base_, "/group9/" + id.LogicName + "x"), ct);
        using var notAFile = await fixture.Http.GetAsync(new Uri(base_, "/favicon.ico"), ct);
        using var post = await fixture.Http.PostAsync(fixture.StorageUrl(id), new ByteArrayContent([1]), ct);

        Assert.Equal(HttpStatusCode.NotFound, otherGroup.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notAFile.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync(fixture.StorageUrl(id), ct)).StatusCode);
    }
}
