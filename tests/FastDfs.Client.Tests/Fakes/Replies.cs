using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client.Tests.Fakes;

/// <summary>Tracker replies pointing at a fake storage (IPv4 mode, as stock sends them).</summary>
public static class Replies
{
    public static FakeReply QueryStore(FastDfsEndpoint storage, string group = "group1", byte storePathIndex = 0)
    {
        var response = new QueryStoreResponse(group, new StorageEndpoint(storage.Host, storage.Port), storePathIndex);
        var body = new byte[QueryStoreResponse.Size(IpFieldSize.V4)];
        response.Write(body, IpFieldSize.V4);
        return FakeReply.Ok(body);
    }

    public static FakeReply QueryFetch(FastDfsEndpoint storage, string group = "group1")
    {
        var response = new QueryFetchResponse(group, [new StorageEndpoint(storage.Host, storage.Port)]);
        var body = new byte[response.Size(IpFieldSize.V4)];
        response.Write(body, IpFieldSize.V4);
        return FakeReply.Ok(body);
    }

    /// <summary>A tracker that sends every store/fetch/update query to <paramref name="storage"/>.</summary>
    public static Func<ReceivedRequest, FakeReply> TrackerFor(FastDfsEndpoint storage) => request => request.Command switch
    {
        FdfsCommand.QueryStoreWithoutGroupOne or FdfsCommand.QueryStoreWithGroupOne => QueryStore(storage),
        FdfsCommand.QueryFetchOne or FdfsCommand.QueryUpdate => QueryFetch(storage),
        _ => FakeReply.Error(Errno.EINVAL),
    };

    public static CancellationToken Timeout(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static FastDfsClientOptions Options(params FastDfsEndpoint[] trackers) =>
        FastDfsClientOptions.Default with { Trackers = trackers, ConnectTimeout = TimeSpan.FromSeconds(5), NetworkTimeout = TimeSpan.FromSeconds(10) };
}
