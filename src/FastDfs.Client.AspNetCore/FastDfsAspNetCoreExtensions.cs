using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;
using FastDfs.Protocol.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FastDfs.Client;

/// <summary>
/// Uploads from ASP.NET Core's request types and downloads straight into a response, with the extension, Content-Type
/// and Range handling an HTTP endpoint needs (docs/client.md, "ASP.NET Core").
/// </summary>
public static class FastDfsAspNetCoreExtensions
{
    /// <summary>The storages' own extension → Content-Type map (stock's mime.types), so both answer a file alike.</summary>
    private static readonly MimeTypeMap ContentTypes = MimeTypeMap.CreateDefault();

    /// <summary>Uploads a form file; the stored extension is the file name's when FastDFS can keep it (see <see cref="ExtensionOf"/>).</summary>
    public static async Task<FileId> UploadAsync(this IFastDfsClient client, IFormFile file, IEnumerable<MetadataItem>? metadata = null, string? group = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var content = file.OpenReadStream();
        return await client.UploadAsync(content, file.Length, ExtensionOf(file.FileName), metadata, group, ct).ConfigureAwait(false);
    }

    /// <summary>Uploads <paramref name="length"/> bytes of a stream under the extension of <paramref name="fileName"/>.</summary>
    public static Task<FileId> UploadAsync(this IFastDfsClient client, Stream content, long length, string fileName, IEnumerable<MetadataItem>? metadata = null,
        string? group = null, CancellationToken ct = default) =>
        client.UploadAsync(content, length, ExtensionOf(fileName), metadata, group, ct);

    /// <summary>
    /// The extension FastDFS stores for a file name: the part after the last dot when it has 1 to 6 letters, digits,
    /// '-' or '_' (what a storage accepts), else none (the upload goes through without one rather than failing).
    /// </summary>
    public static string? ExtensionOf(string? fileName) => FastDfsClient.ExtensionOf(Path.GetFileName(fileName ?? ""));

    /// <summary>
    /// A minimal-API result that answers with a stored file: 200 with the whole file, 206 for one satisfiable byte range
    /// (<c>Range: bytes=…</c>; several ranges get the whole file), 416 for an unsatisfiable one, headers only for HEAD, 404
    /// when the file does not exist. Content-Type from <paramref name="contentType"/> or the file's extension;
    /// <paramref name="downloadName"/> adds <c>Content-Disposition: attachment</c>. The bytes stream from the storage.
    /// </summary>
    public static IResult FileResult(this IFastDfsClient client, FileId fileId, string? contentType = null, string? downloadName = null) =>
        new StoredFileResult(client, fileId, contentType, downloadName);

    /// <summary>Answers <paramref name="context"/>'s request with a stored file (what <see cref="FileResult"/> executes).</summary>
    public static async Task WriteFileAsync(this HttpContext context, IFastDfsClient client, FileId fileId, string? contentType = null, string? downloadName = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.RequestAborted;
        var response = context.Response;
        long size;
        try
        {
            size = (await client.GetFileInfoAsync(fileId, ct).ConfigureAwait(false)).FileSize;
        }
        catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        long offset = 0, length = size;
        bool partial = false;
        var request = context.Request;
        if (request.Headers.Range.Count > 0 && RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var range) &&
            "bytes".Equals(range.Unit.Value, StringComparison.OrdinalIgnoreCase) && range.Ranges.Count == 1)
        {
            var only = range.Ranges.First();
            if (!TrySatisfy(only.From, only.To, size, out offset, out length))
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{size}";
                return;
            }

            partial = true;
        }

        // A normal file's size comes from its name (no server asked): the file may be gone. The open tells; for HEAD
        // (nothing to send) a read of at most one byte does.
        Stream? body = null;
        bool head = HttpMethods.IsHead(request.Method);
        try
        {
            if (head)
            {
                await client.DownloadAsync(fileId, Stream.Null, 0, Math.Min(size, 1), ct).ConfigureAwait(false);
            }
            else if (length > 0)
            {
                body = await client.OpenReadAsync(fileId, offset, length, ct).ConfigureAwait(false);
            }
        }
        catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await using (body)
        {
            response.StatusCode = partial ? StatusCodes.Status206PartialContent : StatusCodes.Status200OK;
            response.Headers.AcceptRanges = "bytes";
            response.ContentLength = length;
            if (partial)
            {
                response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{size}";
            }

            response.ContentType = contentType ?? ContentTypes.GetContentType(fileId.LogicName);
            if (downloadName is not null)
            {
                response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = downloadName }.ToString();
            }

            if (body is not null)
            {
                await body.CopyToAsync(response.Body, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The bytes a single range asks for, within <paramref name="size"/> (RFC 9110 §14.1.2).</summary>
    private static bool TrySatisfy(long? from, long? to, long size, out long offset, out long length)
    {
        offset = 0;
        length = 0;
        if (from is { } start)
        {
            if (start >= size)
            {
                return false;
            }

            long end = to is { } last && last < size - 1 ? last : size - 1;
            (offset, length) = (start, end - start + 1);
            return true;
        }

        if (to is { } suffix && suffix > 0 && size > 0)
        {
            long count = Math.Min(suffix, size);
            (offset, length) = (size - count, count);
            return true;
        }

        return false;
    }

    private sealed class StoredFileResult(IFastDfsClient client, FileId fileId, string? contentType, string? downloadName) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => httpContext.WriteFileAsync(client, fileId, contentType, downloadName);
    }
}
