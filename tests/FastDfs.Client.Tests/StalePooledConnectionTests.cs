using FastDfs.Client.Tests.Fakes;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client.Tests;

/// <summary>
/// A pooled connection that the server closed while it sat idle: reads run again once on a new connection,
/// writes whose request was already sent do not (the server may have applied them).
/// </summary>
public class StalePooledConnectionTests
{
    private static readonly FileId SampleFile = FileId.Parse("group1/M00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt");

    /// <summary>Answers with <paramref name="reply"/>, except the second request of connection 0, which it drops unanswered.</summary>
    private static FakeServer DropsSecondRequestOfFirstConnection(FakeReply reply)
    {
        int onFirstConnection = 0;
        return FakeServer.Start(r =>
            r.ConnectionIndex == 0 && Interlocked.Increment(ref onFirstConnection) == 2 ? FakeReply.CloseWithoutReply : reply);
    }

    [Fact]
    public async Task A_read_on_a_stale_pooled_connection_runs_again_on_a_new_connection()
    {
        var ct = Replies.Timeout();
        await using var storage = DropsSecondRequestOfFirstConnection(FakeReply.Ok(MetadataCodec.Pack([new MetadataItem("width", "160")])));
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        await client.GetMetadataAsync(SampleFile, ct);
        var second = await client.GetMetadataAsync(SampleFile, ct);

        Assert.Equal("160", Assert.Single(second).Value);
        Assert.Equal(2, storage.Connections);
        Assert.Equal([0, 0, 1], storage.Requests.Select(r => r.ConnectionIndex));
    }

    [Fact]
    public async Task A_streamed_download_on_a_stale_pooled_connection_runs_again_on_a_new_connection()
    {
        var ct = Replies.Timeout();
        await using var storage = DropsSecondRequestOfFirstConnection(FakeReply.Ok("hello"u8));
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        Assert.Equal(5, await client.DownloadAsync(SampleFile, Stream.Null, ct: ct));

        await using var stream = await client.OpenReadAsync(SampleFile, ct: ct);
        using var reader = new StreamReader(stream);

        Assert.Equal("hello", await reader.ReadToEndAsync(ct));
        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task A_tracker_query_on_a_stale_pooled_connection_runs_again_on_the_same_tracker()
    {
        var ct = Replies.Timeout();
        var storageEndpoint = new FastDfsEndpoint("10.0.0.1", 23000);
        await using var tracker = DropsSecondRequestOfFirstConnection(Replies.QueryFetch(storageEndpoint));
        using var client = new TrackerClient(Replies.Options(tracker.Endpoint));

        await client.QueryFetchAsync(SampleFile, ct);
        var second = await client.QueryFetchAsync(SampleFile, ct);

        Assert.Equal(23000, second.Port);
        Assert.Equal(3, tracker.Requests.Count);
    }

    [Fact]
    public async Task A_delete_already_sent_on_a_stale_pooled_connection_is_not_sent_again()
    {
        var ct = Replies.Timeout();
        await using var storage = DropsSecondRequestOfFirstConnection(FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        await client.DeleteAsync(SampleFile, ct);

        var ex = await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.DeleteAsync(SampleFile, ct));

        Assert.False(ex.IsTimeout);
        Assert.Equal(2, storage.Requests.Count);
        Assert.Equal(1, storage.Connections);

        // The broken connection was dropped: the next call opens a new one and succeeds.
        await client.DeleteAsync(SampleFile, ct);
        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task An_upload_already_sent_on_a_stale_pooled_connection_is_not_sent_again()
    {
        var ct = Replies.Timeout();
        await using var storage = DropsSecondRequestOfFirstConnection(FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        await client.ActiveTestAsync(ct);

        await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.UploadAsync(new MemoryStream(new byte[100]), 100, "txt", ct: ct));

        Assert.Equal(2, storage.Requests.Count);
        Assert.Equal(1, storage.Connections);
    }

    [Fact]
    public async Task A_read_failing_on_a_new_connection_is_not_retried()
    {
        var ct = Replies.Timeout();
        await using var storage = FakeServer.Start(_ => FakeReply.CloseWithoutReply);
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.GetMetadataAsync(SampleFile, ct));

        Assert.Equal(1, storage.Connections);
        Assert.Single(storage.Requests);
    }
}
