using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>
/// FastDFS.NET-only storage queries: the built-in HTTP port (<see cref="HttpPortQuery"/>) and the trunk space
/// (<see cref="TrunkSpaceQuery"/>). A stock storage refuses them (EINVAL, <see cref="FastDfsException"/>).
/// </summary>
public sealed partial class StorageClient
{
    /// <summary>The HTTP port the storage serves files on (0 = HTTP off).</summary>
    public Task<int> QueryHttpPortAsync(CancellationToken ct = default) =>
        QueryAsync(HttpPortQuery.Command, HttpPortQuery.ResponseSize, static body => HttpPortQuery.ParseResponse(body), ct);

    /// <summary>How the storage's trunk files are used; a storage without trunk files answers ENOENT.</summary>
    public Task<TrunkSpace> QueryTrunkSpaceAsync(CancellationToken ct = default) =>
        QueryAsync(TrunkSpaceQuery.Command, TrunkSpaceQuery.ResponseSize, static body => TrunkSpaceQuery.ParseResponse(body), ct);

    /// <summary>An empty request and a fixed-size answer decoded by <paramref name="parse"/>.</summary>
    private async Task<T> QueryAsync<T>(FdfsCommand command, int responseSize, Func<byte[], T> parse, CancellationToken ct)
    {
        byte[] body = await ExchangeAsync(command, [], responseSize, ct).ConfigureAwait(false);
        try
        {
            return parse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }
}
