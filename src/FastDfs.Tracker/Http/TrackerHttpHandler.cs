using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FastDfs.Client;
using FastDfs.Protocol.Messages;
using FastDfs.Client.Http;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FastDfs.Tracker.Http;

/// <summary>
/// The tracker's HTTP front: <c>GET/HEAD /{group}/M00/…</c> → 302 to a storage that may serve the file
/// (QUERY_FETCH_ONE's choice), the dashboard and its <c>/api/cluster</c> document, and the FastDFS.NET upload
/// (<c>POST/PUT /upload</c>) and delete (<c>DELETE /{file id}</c>) endpoints guarded by <c>http.upload.secret_key</c>.
/// </summary>
internal sealed class TrackerHttpHandler(TrackerRuntime runtime, HttpConfig config, int storageFallbackPort, TrackerMetrics metrics,
    Func<FastDfsClient> client, Func<int> httpPort, ILogger logger)
{
    public const string SecretHeader = "X-FastDFS-Secret";
    private readonly StorageHttpPorts _storagePorts = new(storageFallbackPort);
    private readonly StorageIntegrityCache _integrity = new(client, runtime.Clock);

    /// <summary>
    /// Where a body of unknown length waits until its size is known (FastDFS needs it first): beside the tracker's
    /// state, not in a temporary directory that may live in memory. Emptied at start (a killed tracker's leftovers).
    /// </summary>
    public string SpoolDirectory { get; } = Path.Combine(runtime.DataStore.DataDirectory, "http_upload_spool");

    public void ClearSpool()
    {
        if (Directory.Exists(SpoolDirectory))
        {
            foreach (string leftover in Directory.EnumerateFiles(SpoolDirectory))
            {
                File.Delete(leftover);
            }
        }
    }

    public async Task HandleAsync(HttpContext http)
    {
        long started = TrackerMetrics.StartTimestamp();
        try
        {
            await DispatchAsync(http).ConfigureAwait(false);
        }
        finally
        {
            metrics.RecordHttp(http.Request.Method, http.Response.StatusCode, started);
        }
    }

    private Task DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        string path = request.Path.Value ?? "/";
        bool read = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (read && DashboardAssets.TryGet(path, out var asset))
        {
            return asset.WriteAsync(http);
        }

        if (read && path == "/api/cluster")
        {
            http.Response.ContentType = "application/json; charset=utf-8";
            http.Response.Headers.CacheControl = "no-store";
            return JsonSerializer.SerializeAsync(http.Response.Body, ClusterSnapshot.Take(runtime, httpPort(), _integrity.Get), TrackerJsonContext.Default.ClusterSnapshot, http.RequestAborted);
        }

        if (read && path == "/api/files")
        {
            return ListFilesAsync(http);
        }

        if (path == "/upload")
        {
            return HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method)
                ? UploadAsync(http)
                : TextAsync(http, StatusCodes.Status405MethodNotAllowed, "upload with POST or PUT");
        }

        if (!FileUrl.TryParse(path, urlHaveGroupName: true, "", out var fileId))
        {
            return TextAsync(http, StatusCodes.Status404NotFound, "not found: file URLs are /{group}/M00/00/00/{name}");
        }

        if (HttpMethods.IsDelete(request.Method))
        {
            return DeleteAsync(http, fileId);
        }

        return read ? RedirectAsync(http, fileId) : TextAsync(http, StatusCodes.Status405MethodNotAllowed, "GET, HEAD or DELETE");
    }

    /// <summary><c>GET /api/files</c>: a page of a group's files (<see cref="FileListingPages"/>); 400 for bad parameters,
    /// 404 for a group without a serving member, 502 when a member cannot list (a stock storage).</summary>
    private async Task ListFilesAsync(HttpContext http)
    {
        // Every file ID of a group (capabilities where no anti-steal token is used): behind http.admin.secret_key, or for
        // this machine only when that is not set (the storages answer LIST_FILES to the trackers).
        if (config.AdminSecretKey.Length == 0 && http.Connection.RemoteIpAddress is { } remote && !System.Net.IPAddress.IsLoopback(remote))
        {
            await TextAsync(http, StatusCodes.Status403Forbidden, "listing files needs http.admin.secret_key in tracker.conf (or a request from this machine)")
                .ConfigureAwait(false);
            return;
        }

        var query = http.Request.Query;
        string group = query["group"].FirstOrDefault() ?? "";
        string path = query["path"].FirstOrDefault() ?? "";
        if (path.Length > 0 && !System.Text.RegularExpressions.Regex.IsMatch(path, "^M[0-9A-F]{2}(/[0-9A-F]{2}){0,2}$"))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, "path is M00, M00/3A or M00/3A/0C").ConfigureAwait(false);
            return;
        }

        string cursor = query["cursor"].FirstOrDefault() ?? "";
        int limit = FileListingPages.DefaultLimit;
        if (group.Length == 0 || cursor.Length > 255 || path.Length > 255 || (query["limit"].FirstOrDefault() is { } text &&
                                  (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
                                   || limit is < 1 or > ListFiles.MaxEntries)))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, $"expected group=NAME, optional path=M00[/HH[/LL]], cursor=NAME, limit=1..{ListFiles.MaxEntries}")
                .ConfigureAwait(false);
            return;
        }

        var members = runtime.Cluster.Read(all => all.Where(g => g.Name == group)
            .SelectMany(g => g.Storages)
            .Where(s => s.Status is StorageStatus.Active or StorageStatus.Online)
            .Select(s => new StorageEndpoint(s.Ip, s.Port)).ToList());
        FileListingPage page;
        try
        {
            page = await FileListingPages.ReadAsync(client(), group, members, path, cursor, limit, http.RequestAborted).ConfigureAwait(false);
        }
        catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT && members.Count == 0)
        {
            await TextAsync(http, StatusCodes.Status404NotFound, e.Message).ConfigureAwait(false);
            return;
        }
        catch (FormatException e)
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
            return;
        }
        catch (StaleListingCursorException e)
        {
            await TextAsync(http, StatusCodes.Status409Conflict, e.Message).ConfigureAwait(false);
            return;
        }
        catch (FastDfsException e)
        {
            // EINVAL: a bad path, or a member that does not know LIST_FILES (a stock storage): the text says which.
            await TextAsync(http, StatusCodes.Status502BadGateway, $"listing group {group} failed: {e.Message}").ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(http.Response.Body, page, TrackerJsonContext.Default.FileListingPage, http.RequestAborted).ConfigureAwait(false);
    }

    private async Task RedirectAsync(HttpContext http, FileId fileId)
    {
        StorageEndpointChoice choice;
        try
        {
            var answer = runtime.Cluster.QueryFetch(fileId.Group, fileId.LogicName, FetchKind.FetchOne);
            choice = new StorageEndpointChoice(answer.Storages[0].Ip, answer.Storages[0].Port);
        }
        catch (ProtocolException e)
        {
            await TextAsync(http, StatusCodes.Status404NotFound, $"no storage can serve {fileId}: {Errno.Describe(e.Status)}").ConfigureAwait(false);
            return;
        }

        int port = await _storagePorts.GetAsync(choice.Ip, choice.Port, http.RequestAborted).ConfigureAwait(false);
        if (port <= 0)
        {
            await TextAsync(http, StatusCodes.Status503ServiceUnavailable, $"storage {choice.Ip}:{choice.Port} serves no HTTP").ConfigureAwait(false);
            return;
        }

        string host = choice.Ip.Contains(':') ? $"[{choice.Ip}]" : choice.Ip;
        http.Response.StatusCode = StatusCodes.Status302Found;
        // A moved file (QueryFetch resolved the moved-files map) keeps its old path on a storage of its new group: that
        // storage accepts the old group's name, and anti-steal tokens computed over the old ID stay valid.
        // An HTTPS tracker sends clients to HTTPS storages: TLS is set up cluster-wide (docs/http.md).
        http.Response.Headers.Location = $"{http.Request.Scheme}://{host}:{port}{FileUrl.PathOf(fileId, config.UrlHaveGroupName)}{http.Request.QueryString}";
    }

    private readonly record struct StorageEndpointChoice(string Ip, int Port);

    /// <summary>Null when the request may write; else the refusal was sent.</summary>
    private async Task<bool> AuthorizeAsync(HttpContext http)
    {
        if (config.UploadSecretKey.Length == 0)
        {
            await TextAsync(http, StatusCodes.Status404NotFound, "HTTP upload and delete are off (set http.upload.secret_key in tracker.conf, or fdfs server --http-upload-secret)").ConfigureAwait(false);
            return false;
        }

        string given = http.Request.Headers[SecretHeader].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(config.UploadSecretKey)))
        {
            await TextAsync(http, StatusCodes.Status403Forbidden, $"missing or wrong {SecretHeader} header").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private async Task UploadAsync(HttpContext http)
    {
        if (!await AuthorizeAsync(http).ConfigureAwait(false))
        {
            return;
        }

        var request = http.Request;
        long? max = config.UploadMaxSize > 0 ? config.UploadMaxSize : null;
        MediaTypeHeaderValue? mediaType = null;
        bool multipart = request.HasFormContentType && MediaTypeHeaderValue.TryParse(request.ContentType, out mediaType) &&
            mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        if (!multipart && request.ContentLength > max)
        {
            await TooLargeAsync(http).ConfigureAwait(false);
            return;
        }

        // Kestrel's 30 MB default is for everything else. The file's own bytes are counted here (Kestrel's count of a
        // chunked body is not exact); a multipart envelope may add up to 1 MiB of other parts and headers.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = multipart && max is { } m ? m + MultipartEnvelope : null;
        }

        string? group = request.Query["group"].FirstOrDefault();
        try
        {
            FileId id;
            long size;
            if (multipart)
            {
                (id, size) = await UploadMultipartAsync(http, HeaderUtilities.RemoveQuotes(mediaType!.Boundary).Value, group, max).ConfigureAwait(false);
            }
            else
            {
                string ext = CleanExtension(request.Query["ext"].FirstOrDefault());
                if (request.ContentLength is { } length)
                {
                    id = await client().UploadAsync(request.Body, length, ext, group: group, ct: http.RequestAborted).ConfigureAwait(false);
                    size = length;
                }
                else
                {
                    (id, size) = await UploadSpooledAsync(request.Body, ext, group, max, http.RequestAborted).ConfigureAwait(false);
                }
            }

            string url = $"{request.Scheme}://{request.Host}/{id}";
            http.Response.StatusCode = StatusCodes.Status201Created;
            http.Response.Headers.Location = url;
            http.Response.ContentType = "application/json; charset=utf-8";
            await JsonSerializer.SerializeAsync(http.Response.Body, new UploadResult(id.ToString(), url, size), TrackerJsonContext.Default.UploadResult, http.RequestAborted)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is UploadTooLargeException ||
                                  (e is BadHttpRequestException bad && bad.StatusCode == StatusCodes.Status413PayloadTooLarge))
        {
            await TooLargeAsync(http).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
        }
        catch (FastDfsException e)
        {
            logger.LogWarning("HTTP upload failed: {Message}", e.Message);
            await TextAsync(http, StatusCodes.Status502BadGateway, "upload failed: " + e.Message).ConfigureAwait(false);
        }
    }

    private Task TooLargeAsync(HttpContext http)
    {
        // The rest of the body is not read: the connection cannot carry another request.
        http.Response.Headers.Connection = "close";
        return TextAsync(http, StatusCodes.Status413PayloadTooLarge, $"the upload is larger than http.upload.max_size ({config.UploadMaxSize} bytes)");
    }

    /// <summary>The first file part of a multipart/form-data body (streamed to a temporary file: FastDFS needs the size first).</summary>
    private async Task<(FileId Id, long Size)> UploadMultipartAsync(HttpContext http, string? boundary, string? group, long? max)
    {
        if (string.IsNullOrEmpty(boundary))
        {
            throw new InvalidDataException("multipart body without a boundary");
        }

        var reader = new MultipartReader(boundary, http.Request.Body);
        while (await reader.ReadNextSectionAsync(http.RequestAborted).ConfigureAwait(false) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
            {
                string fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                string ext = CleanExtension(http.Request.Query["ext"].FirstOrDefault() ?? Path.GetExtension(fileName).TrimStart('.'));
                return await UploadSpooledAsync(section.Body, ext, group, max, http.RequestAborted).ConfigureAwait(false);
            }
        }

        throw new InvalidDataException("no file part in the multipart body (a part with Content-Disposition: form-data; name=...; filename=...)");
    }

    /// <summary>A body of unknown length: to a spool file first (FastDFS needs the size first), at most <paramref name="max"/> bytes.</summary>
    private async Task<(FileId Id, long Size)> UploadSpooledAsync(Stream body, string ext, string? group, long? max, CancellationToken ct)
    {
        Directory.CreateDirectory(SpoolDirectory);
        string temp = Path.Combine(SpoolDirectory, Guid.NewGuid().ToString("N"));
        await using var spool = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 0,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(SpoolBufferSize);
        try
        {
            long size = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                size += read;
                if (size > max)
                {
                    throw new UploadTooLargeException();
                }

                await spool.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }

            spool.Position = 0;
            var id = await client().UploadAsync(spool, size, ext, group: group, ct: ct).ConfigureAwait(false);
            return (id, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const int SpoolBufferSize = 64 * 1024;
    private const long MultipartEnvelope = 1 << 20;

    private sealed class UploadTooLargeException : Exception;

    private async Task DeleteAsync(HttpContext http, FileId fileId)
    {
        if (!await AuthorizeAsync(http).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await client().DeleteAsync(fileId, http.RequestAborted).ConfigureAwait(false);
            http.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
        {
            await TextAsync(http, StatusCodes.Status404NotFound, "file not found").ConfigureAwait(false);
        }
        catch (FastDfsException e)
        {
            await TextAsync(http, StatusCodes.Status502BadGateway, "delete failed: " + e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>An extension FastDFS accepts (≤ 6 of [A-Za-z0-9._-]), else none.</summary>
    private static string CleanExtension(string? ext) =>
        ext is { Length: > 0 and <= ProtocolConstants.FileExtNameMaxLen } && FileNameCodec.IsValidExtOrPrefix(ext) ? ext : "";

    private static Task TextAsync(HttpContext http, int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : http.Response.WriteAsync(text + "\n", http.RequestAborted);
    }

    internal sealed record UploadResult(string FileId, string Url, long Size);
}
