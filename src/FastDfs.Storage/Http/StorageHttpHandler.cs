using System.Net;
using FastDfs.Client.Http;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;
using FastDfs.Storage.Metrics;
using Counter = FastDfs.Protocol.Messages.StorageStatCounters.Counter;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Http;

/// <summary>
/// The storage's HTTP requests: <c>GET/HEAD</c> of a file URL with the anti-steal token check (spec 16.1),
/// serving from disk, and for a file not here yet (replication lag) a redirect to or proxy of its source
/// storage (<c>http.response_mode</c>).
/// </summary>
internal sealed class StorageHttpHandler
{
    /// <summary>Marks a proxied request so that the source never proxies it again (no loops).</summary>
    public const string ProxiedHeader = "X-FastDFS-Proxied";

    private static readonly string[] RelayedHeaders =
        ["Content-Type", "Content-Length", "Content-Range", "Content-Disposition", "ETag", "Last-Modified", "Accept-Ranges"];

    private readonly StorageContext _ctx;
    private readonly HttpConfig _config;
    private readonly StoredFileLookup _lookup;
    private readonly MimeTypeMap _mime;
    private readonly StorageMetrics _metrics;
    private readonly StorageHttpPorts _peerPorts;
    private readonly HttpClient _proxyClient;
    private readonly ILogger _logger;
    private readonly byte[]? _tokenFailBody;
    private readonly string _tokenFailType;

    public StorageHttpHandler(StorageContext ctx, StoredFileLookup lookup, MimeTypeMap mime, StorageMetrics metrics,
        StorageHttpPorts peerPorts, HttpClient proxyClient, ILogger logger)
    {
        _ctx = ctx;
        _config = ctx.Config.Http;
        _lookup = lookup;
        _mime = mime;
        _metrics = metrics;
        _peerPorts = peerPorts;
        _proxyClient = proxyClient;
        _logger = logger;
        if (_config.AntiStealTokenCheckFail is { } failFile)
        {
            // Small by nature (an "anti-steal.jpg"); read once at start so a refused request costs no I/O.
            _tokenFailBody = File.ReadAllBytes(failFile);
        }

        _tokenFailType = _config.AntiStealTokenCheckFail is { } name ? mime.GetContentType(name) : "text/plain; charset=utf-8";
    }

    public async Task HandleAsync(HttpContext http)
    {
        long started = StorageMetrics.StartTimestamp();
        long sent = 0;
        try
        {
            sent = await DispatchAsync(http).ConfigureAwait(false);
        }
        finally
        {
            _metrics.RecordHttp(http.Request.Method, http.Response.StatusCode, started, sent);
        }
    }

    private async Task<long> DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            http.Response.Headers.Allow = "GET, HEAD";
            await TextAsync(http, StatusCodes.Status405MethodNotAllowed, "only GET and HEAD are served here").ConfigureAwait(false);
            return 0;
        }

        if (request.Path.Value is "/" or "")
        {
            await TextAsync(http, StatusCodes.Status200OK, $"FastDFS.NET storage, group {_ctx.GroupName}: GET {(_config.UrlHaveGroupName ? $"/{_ctx.GroupName}" : "")}/M00/00/00/<name>, /metrics").ConfigureAwait(false);
            return 0;
        }

        if (!FileUrl.TryParse(request.Path.Value, _config.UrlHaveGroupName, _ctx.GroupName, out var fileId))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, "not a file URL").ConfigureAwait(false);
            return 0;
        }

        // Another group's name is served for a file we hold (one moved here keeps its old URL: the tracker's gateway sends
        // /group1/M00/... here unchanged, so tokens computed over the old ID stay valid); see StorageSession.CheckGroupOfStoredFile.
        StoredFileLocation? movedHere = null;
        if (fileId.Group != _ctx.GroupName && (movedHere = await LocateMovedFileAsync(fileId.LogicName, http.RequestAborted).ConfigureAwait(false)) is null)
        {
            await TextAsync(http, StatusCodes.Status404NotFound, $"group {fileId.Group} is not served here").ConfigureAwait(false);
            return 0;
        }

        if (_config.AntiStealCheckToken)
        {
            var check = AntiStealToken.Check(fileId.ToString(), _config.AntiStealSecretKey, request.Query["token"], request.Query["ts"],
                _ctx.Now, _config.AntiStealTokenTtl);
            if (check != TokenCheck.Valid)
            {
                await RefuseTokenAsync(http, check).ConfigureAwait(false);
                return 0;
            }
        }

        if (!StoredFilePath.TryParse(fileId.LogicName, _ctx.Paths.Count, out var stored))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, "not a file name of this storage").ConfigureAwait(false);
            return 0;
        }

        var path = _ctx.Paths[stored.StorePathIndex];
        if (movedHere is null && path.Slow)
        {
            // A slow disk is not asked (one stat could hold this request for seconds): another member, or 503 when none is ACTIVE.
            return await FromSourceAsync(http, fileId, StatusCodes.Status503ServiceUnavailable,
                "the disk of this file's store path is slow: ask another storage of the group", anyMember: true).ConfigureAwait(false);
        }

        bool located = movedHere is not null;
        var location = movedHere.GetValueOrDefault();
        if (!located)
        {
            // The lookup's stat and open inside the path's disk gate (bounded, so a hanging disk holds a few threads only).
            using (await path.Gate.EnterAsync(http.RequestAborted).ConfigureAwait(false))
            {
                located = _lookup.TryLocate(fileId.LogicName, stored, out location);
            }
        }

        if (located)
        {
            string? downloadName = request.Query["filename"].FirstOrDefault() ?? request.Query["attname"].FirstOrDefault();
            // A GET that sends the file (200, 206) is a download like the binary port's: counted in the storage's stats
            // (fdfs monitor, the dashboard); one cut off while sending counts as a failed one. HEAD, 304, 416 are not downloads.
            bool get = HttpMethods.IsGet(request.Method);
            long sent;
            try
            {
                sent = await HttpFileSender.SendAsync(http, location, _mime.GetContentType(fileId.LogicName), downloadName,
                    _config.MultiRangeEnabled, http.RequestAborted).ConfigureAwait(false);
            }
            catch when (get)
            {
                _ctx.Counters.Increment(Counter.TotalDownloadCount);
                throw;
            }

            if (get && http.Response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent)
            {
                _ctx.Counters.Increment(Counter.TotalDownloadCount);
                _ctx.Counters.Increment(Counter.SuccessDownloadCount);
                _ctx.Counters.Increment(Counter.TotalDownloadBytes, sent);
                _ctx.Counters.Increment(Counter.SuccessDownloadBytes, sent);
            }

            return sent;
        }

        return await FromSourceAsync(http, fileId).ConfigureAwait(false);
    }

    /// <summary>
    /// Where a file named with another group's name is, when it is here as a file of its own (a trunk-stored name is looked
    /// up only under our group), else null. A slow disk is not asked: such a request is answered as before, 404.
    /// </summary>
    private async Task<StoredFileLocation?> LocateMovedFileAsync(string logicName, CancellationToken ct)
    {
        if (!_ctx.TryParsePlainFileName(logicName, out var stored))
        {
            return null;
        }

        var path = _ctx.Paths[stored.StorePathIndex];
        if (path.Slow)
        {
            return null;
        }

        using (await path.Gate.EnterAsync(ct).ConfigureAwait(false))
        {
            return _lookup.TryLocate(logicName, stored, out var location) ? location : null;
        }
    }

    /// <summary>The file is not here: ask its source storage, unless we are the source or this is a relayed request.</summary>
    private async Task<long> FromSourceAsync(HttpContext http, FileId fileId, int notThere = StatusCodes.Status404NotFound,
        string notThereText = "file not found", bool anyMember = false)
    {
        var source = await FindSourceAsync(fileId, http.RequestAborted, anyMember).ConfigureAwait(false);
        if (source is null || http.Request.Headers.ContainsKey(ProxiedHeader))
        {
            await TextAsync(http, notThere, notThereText).ConfigureAwait(false);
            return 0;
        }

        string target = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString).ToString();
        var url = new Uri($"{http.Request.Scheme}://{source}{target}"); // peers serve TLS when we do (cluster-wide setting)
        if (_config.ResponseMode == HttpResponseMode.Redirect)
        {
            http.Response.StatusCode = StatusCodes.Status302Found;
            http.Response.Headers.Location = url.AbsoluteUri;
            return 0;
        }

        return await ProxyAsync(http, url).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>ip:httpPort</c> of the storage that created the file, or null if that is us or not a member of the group as the
    /// tracker lists it: the address inside a name is the client's to choose, so it never picks where we send anyone.
    /// </summary>
    /// <param name="anyMember">any other ACTIVE member will do (its copy is as good: this one cannot read its own now)</param>
    private async Task<string?> FindSourceAsync(FileId fileId, CancellationToken ct, bool anyMember = false)
    {
        if (!FileNameCodec.TryDecode(fileId.LogicName, out var info))
        {
            return null;
        }

        string? ip = null;
        int storagePort = _ctx.Port; // stock: every storage of a group listens on the group's port
        foreach (var peer in _ctx.Group.Servers)
        {
            bool isUs = peer.IpAddr == _ctx.SourceIp && peer.Port == _ctx.Port;
            if (!isUs && (peer.IpAddr == info.Source || (info.SourceIsStorageId && peer.Id == info.Source) ||
                          (anyMember && peer.Status == FastDfs.Protocol.StorageStatus.Active)))
            {
                ip = peer.IpAddr;
                storagePort = peer.Port > 0 ? peer.Port : storagePort;
                break;
            }
        }

        if (ip is null)
        {
            return null;
        }

        int httpPort = await _peerPorts.GetAsync(ip, storagePort, ct).ConfigureAwait(false);
        if (httpPort <= 0)
        {
            return null;
        }

        return IPAddress.TryParse(ip, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{ip}]:{httpPort}"
            : $"{ip}:{httpPort}";
    }

    private async Task<long> ProxyAsync(HttpContext http, Uri url)
    {
        using var outgoing = new HttpRequestMessage(HttpMethods.IsHead(http.Request.Method) ? HttpMethod.Head : HttpMethod.Get, url);
        outgoing.Headers.TryAddWithoutValidation(ProxiedHeader, "1");
        foreach (var name in (string[])["Range", "If-Range", "If-None-Match", "If-Modified-Since"])
        {
            if (http.Request.Headers.TryGetValue(name, out var value))
            {
                outgoing.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }

        HttpResponseMessage answer;
        try
        {
            answer = await _proxyClient.SendAsync(outgoing, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            _logger.LogWarning("proxy to {Url} failed: {Message}", url, e.Message);
            await TextAsync(http, StatusCodes.Status502BadGateway, "source storage unreachable").ConfigureAwait(false);
            return 0;
        }

        using (answer)
        {
            http.Response.StatusCode = (int)answer.StatusCode;
            foreach (var name in RelayedHeaders)
            {
                if (answer.Headers.TryGetValues(name, out var values) || answer.Content.Headers.TryGetValues(name, out values))
                {
                    http.Response.Headers[name] = values.ToArray();
                }
            }

            await using var body = await answer.Content.ReadAsStreamAsync(http.RequestAborted).ConfigureAwait(false);
            var counting = new CountingStream(http.Response.Body);
            await body.CopyToAsync(counting, 64 * 1024, http.RequestAborted).ConfigureAwait(false);
            return counting.Written;
        }
    }

    private async Task RefuseTokenAsync(HttpContext http, TokenCheck check)
    {
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        http.Response.Headers["X-FastDFS-Token"] = check.ToString().ToLowerInvariant();
        if (_tokenFailBody is not null)
        {
            http.Response.ContentType = _tokenFailType;
            http.Response.ContentLength = _tokenFailBody.Length;
            if (!HttpMethods.IsHead(http.Request.Method))
            {
                await http.Response.Body.WriteAsync(_tokenFailBody, http.RequestAborted).ConfigureAwait(false);
            }

            return;
        }

        await TextAsync(http, StatusCodes.Status403Forbidden, AntiStealToken.Describe(check)).ConfigureAwait(false);
    }

    internal static Task TextAsync(HttpContext http, int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : http.Response.WriteAsync(text + "\n", http.RequestAborted);
    }

    /// <summary>Counts relayed bytes for the metrics.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Written += buffer.Length;
        }
    }
}
