using System.Text;
using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>
/// Client for the tracker protocol (spec section 4). Each call goes to one tracker; trackers are tried in
/// turn starting round-robin, moving on after a connection failure or timeout (errno replies are final).
/// </summary>
public sealed partial class TrackerClient : IDisposable, IAsyncDisposable
{
    private const int SmallReplyLimit = 1 << 20;
    private readonly ConnectionPoolSet _pools;
    private readonly bool _ownsPools;
    private int _next = -1;

    /// <summary>A tracker client with its own connection pools (disposed with it).</summary>
    public TrackerClient(FastDfsClientOptions options)
        : this(new ConnectionPoolSet(options), ownsPools: true)
    {
    }

    /// <summary>A tracker client sharing <paramref name="pools"/> (not disposed with it).</summary>
    public TrackerClient(ConnectionPoolSet pools)
        : this(pools, ownsPools: false)
    {
    }

    private TrackerClient(ConnectionPoolSet pools, bool ownsPools)
    {
        if (pools.Options.Trackers.Count == 0)
        {
            throw new ArgumentException("no tracker server configured", nameof(pools));
        }

        _pools = pools;
        _ownsPools = ownsPools;
    }

    public FastDfsClientOptions Options => _pools.Options;

    /// <summary>Asks for a storage to upload to (QUERY_STORE_WITHOUT_GROUP_ONE / WITH_GROUP_ONE).</summary>
    public async Task<QueryStoreResponse> QueryStoreAsync(string? group = null, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(
            string.IsNullOrEmpty(group) ? FdfsCommand.QueryStoreWithoutGroupOne : FdfsCommand.QueryStoreWithGroupOne,
            GroupBody(group), ct).ConfigureAwait(false);
        return Parse(body, static b => QueryStoreResponse.Parse(b));
    }

    /// <summary>All writable storages of a group (QUERY_STORE_*_ALL).</summary>
    public async Task<QueryStoreAllResponse> QueryStoreAllAsync(string? group = null, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(
            string.IsNullOrEmpty(group) ? FdfsCommand.QueryStoreWithoutGroupAll : FdfsCommand.QueryStoreWithGroupAll,
            GroupBody(group), ct).ConfigureAwait(false);
        return Parse(body, static b => QueryStoreAllResponse.Parse(b));
    }

    /// <summary>A storage to read <paramref name="fileId"/> from (QUERY_FETCH_ONE).</summary>
    public async Task<StorageEndpoint> QueryFetchAsync(FileId fileId, CancellationToken ct = default) =>
        (await QueryFileAsync(FdfsCommand.QueryFetchOne, fileId, ct).ConfigureAwait(false)).Storages[0];

    /// <summary>Every storage holding <paramref name="fileId"/> (QUERY_FETCH_ALL).</summary>
    public async Task<IReadOnlyList<StorageEndpoint>> QueryFetchAllAsync(FileId fileId, CancellationToken ct = default) =>
        (await QueryFileAsync(FdfsCommand.QueryFetchAll, fileId, ct).ConfigureAwait(false)).Storages;

    /// <summary>The storage to modify or delete <paramref name="fileId"/> on (QUERY_UPDATE: its source storage when possible).</summary>
    public async Task<StorageEndpoint> QueryUpdateAsync(FileId fileId, CancellationToken ct = default) =>
        (await QueryFileAsync(FdfsCommand.QueryUpdate, fileId, ct).ConfigureAwait(false)).Storages[0];

    /// <summary>Checks that a tracker answers (ACTIVE_TEST).</summary>
    public async Task ActiveTestAsync(CancellationToken ct = default) =>
        await ExchangeAsync(FdfsCommand.ActiveTest, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);

    private async Task<QueryFetchResponse> QueryFileAsync(FdfsCommand command, FileId fileId, CancellationToken ct)
    {
        byte[] body = await ExchangeAsync(command, new GroupFileRequest(fileId.Group, fileId.LogicName).ToArray(), ct).ConfigureAwait(false);
        var response = Parse(body, static b => QueryFetchResponse.Parse(b));
        if (response.Storages.Count == 0)
        {
            throw new FastDfsProtocolException(default, $"{command} reply lists no storage");
        }

        return response;
    }

    /// <summary>Sends a request whose body is given whole and returns the (bounded) reply body, with tracker failover.</summary>
    public Task<byte[]> ExchangeAsync(FdfsCommand command, ReadOnlyMemory<byte> body, CancellationToken ct = default) =>
        ExecuteAsync((c, token) => c.ExchangeAsync(command, body, SmallReplyLimit, token), RetryPolicyOf(command), ct);

    /// <summary>
    /// Queries and listings may run again after a stale pooled connection; administration commands (delete
    /// storage/group, set trunk server...) only when nothing was sent.
    /// </summary>
    internal static RetryPolicy RetryPolicyOf(FdfsCommand command) => command is
        FdfsCommand.QueryStoreWithoutGroupOne or FdfsCommand.QueryStoreWithGroupOne or
        FdfsCommand.QueryStoreWithoutGroupAll or FdfsCommand.QueryStoreWithGroupAll or
        FdfsCommand.QueryFetchOne or FdfsCommand.QueryFetchAll or FdfsCommand.QueryUpdate or
        FdfsCommand.ServerListAllGroups or FdfsCommand.ServerListOneGroup or FdfsCommand.ServerListStorage or
        FdfsCommand.ServerGetLeader or FdfsCommand.StorageParameterReq or FdfsCommand.ActiveTest or
        FdfsCommand.ServerTrackerClusterStat or FdfsCommand.ServerStorageClusterStat or FdfsCommand.ServerStorageVolumeStat or
        AddMovedFiles.Command // adding the same entries again changes nothing
        ? RetryPolicy.Idempotent
        : RetryPolicy.IfNothingSent;

    /// <summary>
    /// Runs <paramref name="exchange"/> on a connection to one tracker, failing over to the next tracker on
    /// connection failures and timeouts, up to the configured attempts (no retry on a stale pooled connection).
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, CancellationToken ct = default) =>
        ExecuteAsync(exchange, RetryPolicy.None, ct);

    /// <summary>
    /// Runs <paramref name="exchange"/> on a connection to one tracker. A pooled connection the tracker had closed
    /// is first retried once on a new connection to the same tracker as <paramref name="retry"/> allows (see
    /// <see cref="ConnectionPool.ExecuteAsync{T}(Func{FastDfsConnection, CancellationToken, ValueTask{T}}, RetryPolicy, CancellationToken, Stream?)"/>);
    /// other connection failures and timeouts fail over to the next tracker, up to the configured attempts.
    /// Errno replies are final.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(Func<FastDfsConnection, CancellationToken, ValueTask<T>> exchange, RetryPolicy retry, CancellationToken ct = default)
    {
        var trackers = Options.Trackers;
        int attempts = Options.TrackerAttempts;
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)trackers.Count);
        FastDfsConnectionException? last = null;
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            var endpoint = trackers[(start + attempt) % trackers.Count];
            try
            {
                return await _pools.GetPool(endpoint).ExecuteAsync(exchange, retry, ct).ConfigureAwait(false);
            }
            catch (FastDfsConnectionException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

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

    private static byte[] GroupBody(string? group)
    {
        if (string.IsNullOrEmpty(group))
        {
            return [];
        }

        var body = new byte[ProtocolConstants.GroupNameMaxLen];
        FixedString.Write(body, group);
        return body;
    }

    private static byte[] GroupAndIdBody(string group, string? storageId)
    {
        int idLength = string.IsNullOrEmpty(storageId) ? 0 : Encoding.ASCII.GetByteCount(storageId);
        var body = new byte[ProtocolConstants.GroupNameMaxLen + idLength];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), group);
        if (idLength > 0)
        {
            Encoding.ASCII.GetBytes(storageId!, body.AsSpan(ProtocolConstants.GroupNameMaxLen));
        }

        return body;
    }

    private static T Parse<T>(byte[] body, Func<byte[], T> parse)
    {
        try
        {
            return parse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(default, ex.Message, ex);
        }
    }
}
