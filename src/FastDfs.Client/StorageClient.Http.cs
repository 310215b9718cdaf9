using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>FastDFS.NET extension: the storage's built-in HTTP port (<see cref="HttpPortQuery"/>).</summary>
public sealed partial class StorageClient
{
    /// <summary>The HTTP port the storage serves files on (0 = HTTP off). A stock storage refuses the
    /// command (EINVAL, <see cref="FastDfsException"/>).</summary>
    public async Task<int> QueryHttpPortAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(HttpPortQuery.Command, [], HttpPortQuery.ResponseSize, ct).ConfigureAwait(false);
        try
        {
            return HttpPortQuery.ParseResponse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }
}
