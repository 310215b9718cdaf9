using System.Text;
using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client;

/// <summary>
/// Client for one storage server (spec section 5). File bodies are streamed in chunks in both directions;
/// no call holds a whole file in memory.
/// </summary>
public sealed partial class StorageClient : IDisposable, IAsyncDisposable
{
    private const int NameReplyLimit = ProtocolConstants.GroupNameMaxLen + 256;
    private const int FileInfoReplyLimit = 24 + ProtocolConstants.IpAddressSize;
    private const int MetadataReplyLimit = 16 << 20;
    private readonly ConnectionPoolSet _pools;
    private readonly bool _ownsPools;

    /// <summary>A storage client with its own connection pool (disposed with it).</summary>
    public StorageClient(FastDfsEndpoint endpoint, FastDfsClientOptions? options = null)
        : this(endpoint, new ConnectionPoolSet(options ?? FastDfsClientOptions.Default), ownsPools: true)
    {
    }

    /// <summary>A storage client sharing <paramref name="pools"/> (not disposed with it).</summary>
    public StorageClient(FastDfsEndpoint endpoint, ConnectionPoolSet pools)
        : this(endpoint, pools, ownsPools: false)
    {
    }

    private StorageClient(FastDfsEndpoint endpoint, ConnectionPoolSet pools, bool ownsPools)
    {
        Endpoint = endpoint;
        _pools = pools;
        _ownsPools = ownsPools;
    }

    public FastDfsEndpoint Endpoint { get; }

    private ConnectionPool Pool => _pools.GetPool(Endpoint);

    /// <summary>Uploads <paramref name="length"/> bytes of <paramref name="content"/> as a normal file (UPLOAD_FILE).</summary>
    /// <param name="ext">extension without the dot (max 6 characters of [A-Za-z0-9._-]); null or empty for none</param>
    /// <param name="storePathIndex">store path from QUERY_STORE, or -1 to let the storage choose</param>
    public Task<FileId> UploadAsync(Stream content, long length, string? ext, sbyte storePathIndex = -1, CancellationToken ct = default) =>
        UploadCoreAsync(FdfsCommand.UploadFile, content, length, ext, storePathIndex, ct);

    /// <summary>Uploads an appender file (UPLOAD_APPENDER_FILE) that can later be appended to, modified and truncated.</summary>
    public Task<FileId> UploadAppenderAsync(Stream content, long length, string? ext, sbyte storePathIndex = -1, CancellationToken ct = default) =>
        UploadCoreAsync(FdfsCommand.UploadAppenderFile, content, length, ext, storePathIndex, ct);

    /// <summary>Uploads a slave file of <paramref name="master"/> named master stem + <paramref name="prefix"/> + ext (UPLOAD_SLAVE_FILE).</summary>
    public Task<FileId> UploadSlaveAsync(FileId master, string prefix, string? ext, Stream content, long length, CancellationToken ct = default)
    {
        ValidateName(prefix, ProtocolConstants.FilePrefixMaxLen, nameof(prefix), allowEmpty: false);
        ValidateName(ext, ProtocolConstants.FileExtNameMaxLen, nameof(ext), allowEmpty: true);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var request = new UploadSlaveFileRequest(master.LogicName, length, prefix, ext ?? string.Empty);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            var header = new byte[request.HeaderSize];
            request.Write(header);
            c.WriteRequest(FdfsCommand.UploadSlaveFile, header, header.Length + length);
            await c.WriteBodyAsync(content, length, token).ConfigureAwait(false);
            return await ReadFileIdAsync(c, token).ConfigureAwait(false);
        }, RetryPolicy.IfNothingSent, ct, content).AsTask();
    }

    /// <summary>
    /// Downloads <paramref name="length"/> bytes (0 = to the end) from <paramref name="offset"/> into
    /// <paramref name="destination"/>, segment by segment. Returns the number of bytes written.
    /// </summary>
    public Task<long> DownloadAsync(FileId fileId, Stream destination, long offset = 0, long length = 0, CancellationToken ct = default)
    {
        byte[] request = DownloadRequest(fileId, offset, length);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            c.WriteRequest(FdfsCommand.DownloadFile, request);
            await c.FlushAsync(token).ConfigureAwait(false);
            long bodyLength = await c.ReadResponseAsync(token).ConfigureAwait(false);
            await c.CopyBodyAsync(bodyLength, destination, token).ConfigureAwait(false);
            return bodyLength;
        }, RetryPolicy.Idempotent, ct).AsTask();
    }

    /// <summary>
    /// Starts a download and returns a read-only stream over the reply body. The connection is held until
    /// the stream is disposed (returned to the pool if the body was read to the end, else closed).
    /// </summary>
    public async Task<Stream> OpenReadAsync(FileId fileId, long offset = 0, long length = 0, CancellationToken ct = default)
    {
        byte[] request = DownloadRequest(fileId, offset, length);
        var pool = Pool;
        var connection = await pool.RentAsync(ct).ConfigureAwait(false);
        try
        {
            return await StartDownloadAsync(pool, connection, request, ct).ConfigureAwait(false);
        }
        catch (FastDfsConnectionException ex) when (ConnectionPool.IsStaleFailure(connection, ex, RetryPolicy.Idempotent, null, ct))
        {
            pool.Return(connection);
        }
        catch
        {
            pool.Return(connection);
            throw;
        }

        // The pooled connection was stale: once more on a new connection.
        connection = await pool.RentAsync(fresh: true, ct).ConfigureAwait(false);
        try
        {
            return await StartDownloadAsync(pool, connection, request, ct).ConfigureAwait(false);
        }
        catch
        {
            pool.Return(connection);
            throw;
        }
    }

    /// <summary>Sends a download request and wraps the reply body in a stream that owns <paramref name="connection"/> (on success only).</summary>
    private async Task<Stream> StartDownloadAsync(ConnectionPool pool, FastDfsConnection connection, byte[] request, CancellationToken ct)
    {
        long bodyLength = await connection.RunAsync(async (c, token) =>
        {
            c.WriteRequest(FdfsCommand.DownloadFile, request);
            await c.FlushAsync(token).ConfigureAwait(false);
            return await c.ReadResponseAsync(token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return new DownloadStream(pool, connection, bodyLength, _pools.Options.NetworkTimeout);
    }

    /// <summary>Deletes a file and its metadata (DELETE_FILE).</summary>
    public Task DeleteAsync(FileId fileId, CancellationToken ct = default) =>
        ExchangeAsync(FdfsCommand.DeleteFile, GroupFile(fileId), 0, ct);

    /// <summary>Sets metadata (SET_METADATA): <see cref="MetadataOp.Overwrite"/> replaces, <see cref="MetadataOp.Merge"/> merges.</summary>
    public Task SetMetadataAsync(FileId fileId, IEnumerable<MetadataItem> metadata, MetadataOp op = MetadataOp.Overwrite, CancellationToken ct = default)
    {
        var request = new SetMetadataRequest(fileId.Group, fileId.LogicName, op, MetadataCodec.Pack(metadata));
        var body = new byte[request.Size];
        request.Write(body);
        return ExchangeAsync(FdfsCommand.SetMetadata, body, 0, ct);
    }

    /// <summary>Reads metadata (GET_METADATA); ENOENT when the file has none.</summary>
    public async Task<IReadOnlyList<MetadataItem>> GetMetadataAsync(FileId fileId, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.GetMetadata, GroupFile(fileId), MetadataReplyLimit, ct).ConfigureAwait(false);
        return MetadataCodec.Parse(body);
    }

    /// <summary>
    /// Asks the storage for size, create time, crc32 and source IP (QUERY_FILE_INFO); with
    /// <paramref name="skipCrc"/> appender/slave files report crc32 0 instead of being checksummed.
    /// </summary>
    public async Task<FileInfoResponse> QueryFileInfoAsync(FileId fileId, bool skipCrc = false, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.QueryFileInfo, GroupFile(fileId), FileInfoReplyLimit, ct, skipCrc ? (byte)1 : (byte)0).ConfigureAwait(false);
        try
        {
            return FileInfoResponse.Parse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }

    /// <summary>Checks that the storage answers (ACTIVE_TEST).</summary>
    public Task ActiveTestAsync(CancellationToken ct = default) =>
        ExchangeAsync(FdfsCommand.ActiveTest, [], 0, ct);

    public void Dispose()
    {
        if (_ownsPools)
        {
            _pools.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<FileId> UploadCoreAsync(FdfsCommand command, Stream content, long length, string? ext, sbyte storePathIndex, CancellationToken ct)
    {
        ValidateName(ext, ProtocolConstants.FileExtNameMaxLen, nameof(ext), allowEmpty: true);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var request = new UploadFileRequest(storePathIndex, length, ext ?? string.Empty);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            var header = new byte[UploadFileRequest.FixedSize];
            request.Write(header);
            c.WriteRequest(command, header, UploadFileRequest.FixedSize + length);
            await c.WriteBodyAsync(content, length, token).ConfigureAwait(false);
            return await ReadFileIdAsync(c, token).ConfigureAwait(false);
        }, RetryPolicy.IfNothingSent, ct, content).AsTask();
    }

    private async Task<byte[]> ExchangeAsync(FdfsCommand command, byte[] body, long maxReply, CancellationToken ct, byte status = 0) =>
        await Pool.ExecuteAsync((c, token) => c.ExchangeAsync(command, body, maxReply, token, status), RetryPolicyOf(command), ct).ConfigureAwait(false);

    /// <summary>Reads may run twice after a stale pooled connection; writes only if nothing was sent.</summary>
    private static RetryPolicy RetryPolicyOf(FdfsCommand command) => command is FdfsCommand.GetMetadata or FdfsCommand.QueryFileInfo or FdfsCommand.ActiveTest
        ? RetryPolicy.Idempotent
        : RetryPolicy.IfNothingSent;

    private static async ValueTask<FileId> ReadFileIdAsync(FastDfsConnection c, CancellationToken ct)
    {
        long length = await c.ReadResponseAsync(ct).ConfigureAwait(false);
        byte[] body = await c.ReadBodyAsync(length, NameReplyLimit, ct).ConfigureAwait(false);
        var stored = StoredFileResponse.Parse(body);
        return new FileId(stored.Group, stored.LogicName);
    }

    private static byte[] GroupFile(FileId fileId) => new GroupFileRequest(fileId.Group, fileId.LogicName).ToArray();

    private static byte[] DownloadRequest(FileId fileId, long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var request = new DownloadFileRequest(offset, length, fileId.Group, fileId.LogicName);
        var body = new byte[request.Size];
        request.Write(body);
        return body;
    }

    private static byte[] AppenderName(FileId appender) => Encoding.ASCII.GetBytes(appender.LogicName);

    private static void ValidateName(string? value, int maxLength, string parameter, bool allowEmpty)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (!allowEmpty)
            {
                throw new ArgumentException($"{parameter} must not be empty", parameter);
            }

            return;
        }

        if (value.Length > maxLength || !FileNameCodec.IsValidExtOrPrefix(value))
        {
            throw new ArgumentException($"{parameter} '{value}' must be at most {maxLength} characters of [A-Za-z0-9._-]", parameter);
        }
    }
}
