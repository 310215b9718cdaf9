using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client;

/// <summary>
/// The high-level FastDFS client: asks a tracker where to store or find a file, then talks to that storage.
/// Connections are pooled per server and released by <see cref="DisposeAsync"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Failures and retries: an errno reply is final (a <see cref="FastDfsException"/> with the server's status).
/// Tracker calls that cannot connect or time out move on to the next configured tracker
/// (<see cref="FastDfsClientOptions.TrackerRetryCount"/>). A call that fails on a pooled connection the server
/// had closed while it was idle (reset, or closed before any reply) runs once more on a new connection:
/// reads and queries always (download, metadata, file info, tracker queries and listings), writes (upload,
/// append, modify, truncate, delete, set metadata) only when none of the request had been sent, so a write
/// the server may have applied is never sent twice. Timeouts are not retried on the same server.
/// </remarks>
public sealed partial class FastDfsClient : IFastDfsClient, IDisposable, IAsyncDisposable
{
    private readonly ConnectionPoolSet _pools;

    public FastDfsClient(FastDfsClientOptions? options = null)
    {
        _pools = new ConnectionPoolSet(options ?? FastDfsClientOptions.Default);
        Tracker = new TrackerClient(_pools);
        ClientTelemetry.Track(_pools);
    }

    /// <summary>Creates a client for the given tracker addresses (<c>host:port</c>).</summary>
    public FastDfsClient(params string[] trackers)
        : this(FastDfsClientOptions.ForTrackers(trackers))
    {
    }

    public FastDfsClientOptions Options => _pools.Options;

    /// <summary>The tracker client (shares this client's connection pools).</summary>
    public TrackerClient Tracker { get; }

    /// <summary>The connection pools (one per server), for monitoring.</summary>
    public ConnectionPoolSet Pools => _pools;

    /// <summary>A client for one storage, sharing this client's connection pools.</summary>
    public StorageClient GetStorage(StorageEndpoint storage) => new(new FastDfsEndpoint(storage.Ip, storage.Port), _pools);

    /// <summary>Uploads <paramref name="length"/> bytes of <paramref name="content"/>; sets <paramref name="metadata"/> afterwards when given.</summary>
    /// <param name="ext">extension without the dot (a leading dot is removed), null for none</param>
    /// <param name="group">target group, or null to let the tracker choose</param>
    public Task<FileId> UploadAsync(Stream content, long length, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default) =>
        UploadCoreAsync(appender: false, content, length, ext, metadata, group, ct);

    /// <summary>Uploads the rest of a seekable stream.</summary>
    public Task<FileId> UploadAsync(Stream content, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default) =>
        UploadAsync(content, RemainingLength(content), ext, metadata, group, ct);

    /// <summary>Uploads a byte array.</summary>
    public Task<FileId> UploadAsync(byte[] content, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default) =>
        UploadAsync(new MemoryStream(content, writable: false), content.LongLength, ext, metadata, group, ct);

    /// <summary>Uploads a local file; the extension defaults to the file's own (as fdfs_upload_file does).</summary>
    public async Task<FileId> UploadFileAsync(string path, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, bool appender = false, CancellationToken ct = default)
    {
        await using var file = OpenForUpload(path);
        return await UploadCoreAsync(appender, file, file.Length, ext ?? ExtensionOf(path), metadata, group, ct).ConfigureAwait(false);
    }

    /// <summary>Uploads an appender file (can later be appended to, modified, truncated).</summary>
    public Task<FileId> UploadAppenderAsync(Stream content, long length, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default) =>
        UploadCoreAsync(appender: true, content, length, ext, metadata, group, ct);

    /// <summary>Uploads a slave file of <paramref name="master"/> on the master's storage.</summary>
    public Task<FileId> UploadSlaveAsync(FileId master, string prefix, string? ext, Stream content, long length, IEnumerable<MetadataItem>? metadata = null, CancellationToken ct = default) =>
        ObserveAsync("upload_slave", null, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(master, ct).ConfigureAwait(false);
            var storage = GetStorage(target);
            var fileId = await storage.UploadSlaveAsync(master, prefix, NormalizeExt(ext), content, length, ct).ConfigureAwait(false);
            await SetMetadataAfterUploadAsync(storage, fileId, metadata, ct).ConfigureAwait(false);
            return fileId;
        }, uploaded: length);

    /// <summary>Downloads a file (or a range: <paramref name="length"/> 0 = to the end) into <paramref name="destination"/>.</summary>
    public async Task<long> DownloadAsync(FileId fileId, Stream destination, long offset = 0, long length = 0, CancellationToken ct = default)
    {
        long received = await ObserveAsync("download", fileId, async () =>
        {
            var source = await Tracker.QueryFetchAsync(fileId, ct).ConfigureAwait(false);
            return await GetStorage(source).DownloadAsync(fileId, destination, offset, length, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        ClientTelemetry.CountDownloaded(received);
        return received;
    }

    /// <summary>Opens a read-only stream over a file's content (see <see cref="StorageClient.OpenReadAsync"/>).</summary>
    public Task<Stream> OpenReadAsync(FileId fileId, long offset = 0, long length = 0, CancellationToken ct = default) =>
        ObserveAsync("open_read", fileId, async () =>
        {
            var source = await Tracker.QueryFetchAsync(fileId, ct).ConfigureAwait(false);
            return await GetStorage(source).OpenReadAsync(fileId, offset, length, ct).ConfigureAwait(false);
        });

    /// <summary>Downloads a (small) file into memory.</summary>
    public async Task<byte[]> DownloadBytesAsync(FileId fileId, long offset = 0, long length = 0, CancellationToken ct = default)
    {
        using var buffer = new MemoryStream();
        await DownloadAsync(fileId, buffer, offset, length, ct).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Downloads into <paramref name="path"/> via a temporary file renamed on success (no partial file is left).</summary>
    public async Task<long> DownloadToFileAsync(FileId fileId, string path, long offset = 0, long length = 0, CancellationToken ct = default)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.part");
        try
        {
            long written;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                written = await DownloadAsync(fileId, file, offset, length, ct).ConfigureAwait(false);
            }

            File.Move(temp, full, overwrite: true);
            return written;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Deletes a file and its metadata.</summary>
    public Task DeleteAsync(FileId fileId, CancellationToken ct = default) =>
        ObserveAsync("delete", fileId, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(fileId, ct).ConfigureAwait(false);
            await GetStorage(target).DeleteAsync(fileId, ct).ConfigureAwait(false);
            return true;
        });

    /// <summary>
    /// File attributes like fdfs_file_info: decoded from the name for normal files (no server is asked);
    /// appender and slave files, and files whose name carries a storage id instead of an IP address, are asked
    /// from a storage holding them (QUERY_FETCH_ONE + QUERY_FILE_INFO).
    /// </summary>
    public Task<FastDfsFileInfo> GetFileInfoAsync(FileId fileId, CancellationToken ct = default) =>
        ObserveAsync("file_info", fileId, () => FileInfoAsync(fileId, ct));

    private async Task<FastDfsFileInfo> FileInfoAsync(FileId fileId, CancellationToken ct)
    {
        var decoded = DecodeName(fileId);
        var type = decoded.IsAppender ? FastDfsFileType.Appender : decoded.IsSlave ? FastDfsFileType.Slave : FastDfsFileType.Normal;
        int storageId = decoded.SourceIsStorageId ? (int)decoded.SourceRaw : 0;
        if (type == FastDfsFileType.Normal && !decoded.SourceIsStorageId)
        {
            return new FastDfsFileInfo(type, decoded.FileSize, decoded.CreateTime, decoded.Crc32, decoded.Source, FromStorage: false);
        }

        var source = await Tracker.QueryFetchAsync(fileId, ct).ConfigureAwait(false);
        var info = await GetStorage(source).QueryFileInfoAsync(fileId, skipCrc: false, ct).ConfigureAwait(false);
        return new FastDfsFileInfo(type, info.FileSize, DateTimeOffset.FromUnixTimeSeconds(info.CreateTimestamp), info.Crc32, info.SourceIp, FromStorage: true)
        {
            SourceStorageId = storageId,
        };
    }

    /// <summary>
    /// The HTTP URL of a file: on <see cref="FastDfsClientOptions.HttpBaseUrl"/>, else on the first tracker's HTTP port
    /// (<see cref="FastDfsClientOptions.HttpTrackerServerPort"/>; FastDFS.NET's trackers redirect to a storage that has the
    /// file), with an anti-steal token when <see cref="FastDfsClientOptions.AntiStealSecretKey"/> is set. No server is asked.
    /// </summary>
    /// <param name="expires">when the token stops being accepted (its timestamp is this minus
    /// <see cref="FastDfsClientOptions.AntiStealTokenTtl"/>); null = one token lifetime from now, the token stock's tools make</param>
    public Uri GetHttpUrl(FileId fileId, DateTimeOffset? expires = null)
    {
        var options = Options;
        // UriBuilder brackets an IPv6 host and leaves out port 80.
        var url = options.HttpBaseUrl is { } baseUrl
            ? new UriBuilder(baseUrl)
            : new UriBuilder(Uri.UriSchemeHttp, options.Trackers[0].Host, options.HttpTrackerServerPort);
        url.Path = $"{url.Path.TrimEnd('/')}/{fileId}";
        if (options.AntiStealSecretKey is { Length: > 0 } secret)
        {
            long ts = (expires ?? options.TimeProvider.GetUtcNow() + options.AntiStealTokenTtl).ToUnixTimeSeconds() - (long)options.AntiStealTokenTtl.TotalSeconds;
            url.Query = $"token={Protocol.Http.AntiStealToken.Compute(fileId.ToString(), secret, ts)}&ts={ts}";
        }

        return url.Uri;
    }

    /// <summary>Decodes what a file name carries (source, timestamp, size, crc32, flags) without any server.</summary>
    public static FileNameInfo DecodeName(FileId fileId)
    {
        if (fileId.LogicName.Length < ProtocolConstants.NormalLogicFilenameLength - 2 || !FileNameCodec.TryDecode(fileId.LogicName, out var info))
        {
            throw new FastDfsException(Errno.EINVAL, $"invalid file name '{fileId}': {FastDfsException.FormatErrno(Errno.EINVAL)}");
        }

        return info;
    }

    public void Dispose()
    {
        ClientTelemetry.Untrack(_pools);
        _pools.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        ClientTelemetry.Untrack(_pools);
        return _pools.DisposeAsync();
    }

    private Task<FileId> UploadCoreAsync(bool appender, Stream content, long length, string? ext, IEnumerable<MetadataItem>? metadata, string? group, CancellationToken ct) =>
        ObserveAsync(appender ? "upload_appender" : "upload", null, () => StoreAsync(appender, content, length, ext, metadata, group, ct), uploaded: length);

    private async Task<FileId> StoreAsync(bool appender, Stream content, long length, string? ext, IEnumerable<MetadataItem>? metadata, string? group, CancellationToken ct)
    {
        var target = await Tracker.QueryStoreAsync(group, ct).ConfigureAwait(false);
        var storage = GetStorage(target.Storage);
        string? normalizedExt = NormalizeExt(ext);
        var pathIndex = (sbyte)target.StorePathIndex;
        var fileId = appender
            ? await storage.UploadAppenderAsync(content, length, normalizedExt, pathIndex, ct).ConfigureAwait(false)
            : await storage.UploadAsync(content, length, normalizedExt, pathIndex, ct).ConfigureAwait(false);
        await SetMetadataAfterUploadAsync(storage, fileId, metadata, ct).ConfigureAwait(false);
        return fileId;
    }

    /// <summary>
    /// Runs one operation inside its span and duration measurement (<see cref="FastDfsClientTelemetry"/>). An operation on
    /// no file (<paramref name="fileId"/> null) that returns one (an upload) tags its span with it; <paramref name="uploaded"/>
    /// file bytes are counted when it succeeds.
    /// </summary>
    private static async Task<T> ObserveAsync<T>(string operation, FileId? fileId, Func<Task<T>> run, long uploaded = 0)
    {
        var observed = ClientTelemetry.Start(operation, fileId);
        try
        {
            T result = await run().ConfigureAwait(false);
            if (fileId is null && result is FileId made)
            {
                observed.SetFileId(made);
            }

            ClientTelemetry.CountUploaded(uploaded);
            return result;
        }
        catch (Exception e)
        {
            observed.Fail(e);
            throw;
        }
        finally
        {
            observed.End();
        }
    }

    private static async Task SetMetadataAfterUploadAsync(StorageClient storage, FileId fileId, IEnumerable<MetadataItem>? metadata, CancellationToken ct)
    {
        var items = metadata?.ToList();
        if (items is not { Count: > 0 })
        {
            return;
        }

        try
        {
            await storage.SetMetadataAsync(fileId, items, MetadataOp.Overwrite, ct).ConfigureAwait(false);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Upload + metadata is one operation for the caller: do not leave a file without its metadata behind.
            try
            {
                await storage.DeleteAsync(fileId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (FastDfsException)
            {
                // The metadata failure is the error to report.
            }

            throw;
        }
    }

    private static string? NormalizeExt(string? ext) =>
        string.IsNullOrEmpty(ext) ? null : ext[0] == '.' ? ext[1..] : ext;

    /// <summary>The extension fdfs_upload_file would send: the file's own if it is a valid FastDFS extension.</summary>
    public static string? ExtensionOf(string path)
    {
        string ext = Path.GetExtension(path).TrimStart('.');
        return ext.Length is > 0 and <= ProtocolConstants.FileExtNameMaxLen && FileNameCodec.IsValidExtOrPrefix(ext) ? ext : null;
    }

    private static FileStream OpenForUpload(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private static long RemainingLength(Stream content) =>
        content.CanSeek ? content.Length - content.Position : throw new ArgumentException("the stream is not seekable: pass its length", nameof(content));
}
