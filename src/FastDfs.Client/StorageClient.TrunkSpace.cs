using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>FastDFS.NET extension: the storage's trunk space (<see cref="TrunkSpaceQuery"/>).</summary>
public sealed partial class StorageClient
{
    /// <summary>How the storage's trunk files are used. A storage without trunk files answers ENOENT, a stock
    /// storage EINVAL (both as <see cref="FastDfsException"/>).</summary>
    public async Task<TrunkSpace> QueryTrunkSpaceAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(TrunkSpaceQuery.Command, [], TrunkSpaceQuery.ResponseSize, ct).ConfigureAwait(false);
        try
        {
            return TrunkSpaceQuery.ParseResponse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }
}
