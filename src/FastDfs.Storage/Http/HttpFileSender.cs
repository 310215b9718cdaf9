using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Net.Http.Headers;

namespace FastDfs.Storage.Http;

/// <summary>
/// Answers GET/HEAD for one stored file: validators (ETag, Last-Modified) and conditional requests (304),
/// Range (206, one range or multipart/byteranges with overlapping ranges merged, 416), Content-Disposition, and the body through
/// <see cref="SendFileResponseExtensions.SendFileAsync(HttpResponse, string, long, long?, CancellationToken)"/>
/// (the server's zero-copy path where it has one).
/// </summary>
internal static class HttpFileSender
{
    /// <summary>More ranges than this in one request are ignored (the whole file is sent): cheap insurance
    /// against requests made of thousands of tiny ranges.</summary>
    private const int MaxRanges = 64;

    /// <summary>Returns the number of file bytes written to the body.</summary>
    public static async Task<long> SendAsync(HttpContext http, StoredFileLocation file, string contentType, string? downloadName,
        bool multiRangeEnabled, CancellationToken ct)
    {
        var request = http.Request;
        var response = http.Response;
        var requestHeaders = request.GetTypedHeaders();
        var responseHeaders = response.GetTypedHeaders();
        long length = file.Length;
        var lastModified = DateTimeOffset.FromUnixTimeSeconds(file.LastModified.ToUnixTimeSeconds());
        var etag = new EntityTagHeaderValue($"\"{lastModified.ToUnixTimeSeconds():x}-{length:x}\"");
        responseHeaders.ETag = etag;
        responseHeaders.LastModified = lastModified;
        response.Headers.AcceptRanges = "bytes";
        if (!string.IsNullOrEmpty(downloadName))
        {
            var disposition = new ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(downloadName);
            responseHeaders.ContentDisposition = disposition;
        }

        if (IsNotModified(requestHeaders, etag, lastModified))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return 0;
        }

        bool head = HttpMethods.IsHead(request.Method);
        var ranges = RangesToServe(requestHeaders, etag, lastModified, length, out bool unsatisfiable);
        if (unsatisfiable)
        {
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = $"bytes */{length}";
            return 0;
        }

        if (ranges is { Count: > 1 } && !multiRangeEnabled)
        {
            ranges = null; // http.multi_range.enabled = false: the whole file, as RFC 9110 allows
        }

        if (ranges is null)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            response.ContentLength = length;
            return head ? 0 : await SendRangeAsync(response, file, 0, length, ct).ConfigureAwait(false);
        }

        response.StatusCode = StatusCodes.Status206PartialContent;
        if (ranges.Count == 1)
        {
            var (start, end) = ranges[0];
            response.ContentType = contentType;
            response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
            response.ContentLength = end - start + 1;
            return head ? 0 : await SendRangeAsync(response, file, start, end - start + 1, ct).ConfigureAwait(false);
        }

        return await SendMultipartAsync(response, file, contentType, ranges, head, ct).ConfigureAwait(false);
    }

    private static bool IsNotModified(RequestHeaders headers, EntityTagHeaderValue etag, DateTimeOffset lastModified)
    {
        var ifNoneMatch = headers.IfNoneMatch;
        if (ifNoneMatch is { Count: > 0 })
        {
            return ifNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: false));
        }

        return headers.IfModifiedSince is { } since && lastModified <= since;
    }

    /// <summary>The satisfiable ranges as inclusive (start, end), or null to send the whole file.</summary>
    private static List<(long Start, long End)>? RangesToServe(RequestHeaders headers, EntityTagHeaderValue etag, DateTimeOffset lastModified,
        long length, out bool unsatisfiable)
    {
        unsatisfiable = false;
        RangeHeaderValue? range;
        try
        {
            range = headers.Range;
        }
        catch (FormatException)
        {
            return null;
        }

        if (range is null || !"bytes".Equals(range.Unit.Value, StringComparison.OrdinalIgnoreCase) || range.Ranges.Count > MaxRanges)
        {
            return null;
        }

        // If-Range: the ranges only apply to the representation the client already has.
        if (headers.IfRange is { } ifRange &&
            (ifRange.EntityTag is { } tag ? !tag.Compare(etag, useStrongComparison: true) : ifRange.LastModified != lastModified))
        {
            return null;
        }

        var result = new List<(long, long)>(range.Ranges.Count);
        foreach (var item in range.Ranges)
        {
            long start, end;
            if (item.From is null)
            {
                long suffix = item.To ?? 0;
                if (suffix <= 0 || length == 0)
                {
                    continue;
                }

                start = Math.Max(0, length - suffix);
                end = length - 1;
            }
            else
            {
                start = item.From.Value;
                end = item.To is { } to ? Math.Min(to, length - 1) : length - 1;
                if (start >= length || end < start)
                {
                    continue;
                }
            }

            result.Add((start, end));
        }

        unsatisfiable = result.Count == 0;
        return Coalesce(result);
    }

    /// <summary>
    /// Overlapping or adjacent ranges merged (in ascending order then), so that no byte is sent twice: 64 copies of
    /// "0-" would otherwise send the file 64 times. Ranges that do not touch keep the order the client asked for.
    /// </summary>
    internal static List<(long Start, long End)> Coalesce(List<(long Start, long End)> ranges)
    {
        if (ranges.Count < 2)
        {
            return ranges;
        }

        var sorted = ranges.OrderBy(r => r.Start).ToList();
        var merged = new List<(long Start, long End)>(sorted.Count) { sorted[0] };
        for (int i = 1; i < sorted.Count; i++)
        {
            var last = merged[^1];
            if (sorted[i].Start <= last.End + 1)
            {
                merged[^1] = (last.Start, Math.Max(last.End, sorted[i].End));
            }
            else
            {
                merged.Add(sorted[i]);
            }
        }

        return merged.Count == ranges.Count ? ranges : merged;
    }

    private static async Task<long> SendRangeAsync(HttpResponse response, StoredFileLocation file, long start, long count, CancellationToken ct)
    {
        if (count > 0)
        {
            await response.SendFileAsync(file.PhysicalPath, file.Offset + start, count, ct).ConfigureAwait(false);
        }

        return count;
    }

    private static async Task<long> SendMultipartAsync(HttpResponse response, StoredFileLocation file, string contentType,
        List<(long Start, long End)> ranges, bool head, CancellationToken ct)
    {
        string boundary = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var partHeaders = new byte[ranges.Count][];
        long total = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            var (start, end) = ranges[i];
            partHeaders[i] = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"\r\n--{boundary}\r\nContent-Type: {contentType}\r\nContent-Range: bytes {start}-{end}/{file.Length}\r\n\r\n"));
            total += partHeaders[i].Length + (end - start + 1);
        }

        var closing = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        response.ContentType = $"multipart/byteranges; boundary={boundary}";
        response.ContentLength = total + closing.Length;
        if (head)
        {
            return 0;
        }

        long sent = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            var (start, end) = ranges[i];
            await response.Body.WriteAsync(partHeaders[i], ct).ConfigureAwait(false);
            sent += await SendRangeAsync(response, file, start, end - start + 1, ct).ConfigureAwait(false);
        }

        await response.Body.WriteAsync(closing, ct).ConfigureAwait(false);
        return sent;
    }
}
