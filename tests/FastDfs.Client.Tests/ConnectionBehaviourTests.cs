using FastDfs.Client.Tests.Fakes;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Client.Tests;

/// <summary>Failover, errno handling, pooling, streaming, cancellation and timeouts against fake servers.</summary>
public class ConnectionBehaviourTests
{
    private static readonly FileId SampleFile = FileId.Parse("group1/M00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt");

    [Fact]
    public async Task Failover_moves_to_the_next_tracker_when_the_first_refuses()
    {
        var ct = Replies.Timeout();
        var dead = FakeServer.ClosedEndpoint();
        await using var storage = FakeServer.Start(_ => FakeReply.Ok());
        await using var live = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        using var tracker = new TrackerClient(Replies.Options(dead, live.Endpoint));

        var first = await tracker.QueryStoreAsync(ct: ct);
        var second = await tracker.QueryStoreAsync(ct: ct);

        Assert.Equal(storage.Endpoint.Port, first.Storage.Port);
        Assert.Equal(storage.Endpoint.Port, second.Storage.Port);
        Assert.Equal(2, live.Requests.Count);
    }

    [Fact]
    public async Task All_trackers_down_reports_a_connection_error_naming_the_address()
    {
        var ct = Replies.Timeout();
        var dead = FakeServer.ClosedEndpoint();
        using var tracker = new TrackerClient(Replies.Options(dead));

        var ex = await Assert.ThrowsAsync<FastDfsConnectionException>(() => tracker.QueryStoreAsync(ct: ct));

        Assert.Equal(dead, ex.Endpoint);
        Assert.Contains(dead.ToString(), ex.Message);
        Assert.False(ex.IsServerError);
    }

    [Fact]
    public async Task Errno_reply_is_a_FastDfsException_and_is_not_retried_on_another_tracker()
    {
        var ct = Replies.Timeout();
        await using var first = FakeServer.Start(_ => FakeReply.Error(Errno.ENOENT));
        await using var second = FakeServer.Start(_ => FakeReply.Error(Errno.ENOENT));
        using var tracker = new TrackerClient(Replies.Options(first.Endpoint, second.Endpoint));

        var ex = await Assert.ThrowsAsync<FastDfsException>(() => tracker.QueryUpdateAsync(SampleFile, ct));

        Assert.Equal(Errno.ENOENT, ex.ErrorCode);
        Assert.Equal("error no: 2, error info: No such file or directory", ex.Message);
        Assert.Equal(1, first.Requests.Count + second.Requests.Count);
    }

    [Fact]
    public async Task Pool_reuses_one_connection_for_sequential_calls_and_keeps_it_after_ENOENT()
    {
        var ct = Replies.Timeout();
        int calls = 0;
        await using var storage = FakeServer.Start(_ => Interlocked.Increment(ref calls) == 2 ? FakeReply.Error(Errno.ENOENT) : FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        await client.DeleteAsync(SampleFile, ct);
        await Assert.ThrowsAsync<FastDfsException>(() => client.DeleteAsync(SampleFile, ct));
        await client.DeleteAsync(SampleFile, ct);

        Assert.Equal(3, storage.Requests.Count);
        Assert.Equal(1, storage.Connections);
    }

    [Fact]
    public async Task Connection_is_discarded_after_EINVAL_and_the_next_call_reconnects()
    {
        var ct = Replies.Timeout();
        int calls = 0;
        await using var storage = FakeServer.Start(_ => Interlocked.Increment(ref calls) == 1 ? FakeReply.Error(Errno.EINVAL, close: true) : FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        var ex = await Assert.ThrowsAsync<FastDfsException>(() => client.DeleteAsync(SampleFile, ct));
        Assert.Equal(Errno.EINVAL, ex.ErrorCode);
        await client.DeleteAsync(SampleFile, ct);

        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task Connection_is_discarded_after_an_IO_error_and_the_next_call_reconnects()
    {
        var ct = Replies.Timeout();
        int calls = 0;
        await using var storage = FakeServer.Start(_ => Interlocked.Increment(ref calls) == 1 ? FakeReply.CloseWithoutReply : FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.DeleteAsync(SampleFile, ct));
        await client.DeleteAsync(SampleFile, ct);

        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task Upload_of_64_MB_is_streamed_without_allocating_its_size()
    {
        var ct = Replies.Timeout(120);
        const long size = 64L << 20;
        await using var storage = FakeServer.Start(
            r => r.Command == FdfsCommand.UploadFile
                ? FakeReply.Ok(new Protocol.Messages.StoredFileResponse("group1", SampleFile.LogicName).ToBytes())
                : FakeReply.Ok(),
            captureLimit: 64);
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        await client.ActiveTestAsync(ct);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var fileId = await client.UploadAsync(new PatternStream(size), size, "bin", -1, ct);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(SampleFile, fileId);
        Assert.Equal(UploadFileRequest_FixedSize + size, storage.BodyBytesReceived);
        // The counter is process-wide (other tests run in parallel): a quarter of the file size still proves
        // the body is streamed, not buffered.
        Assert.True(allocated < size / 4, $"allocated {allocated} bytes for a {size}-byte upload");
    }

    [Fact]
    public async Task Download_of_a_large_body_is_copied_segment_by_segment()
    {
        var ct = Replies.Timeout(60);
        const int size = 8 << 20;
        byte[] content = new byte[size];
        Random.Shared.NextBytes(content);
        await using var storage = FakeServer.Start(r => r.Command == FdfsCommand.DownloadFile ? FakeReply.Ok(content) : FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        var destination = new MemoryStream();
        await client.DownloadAsync(SampleFile, destination, ct: ct);
        await using (var stream = await client.OpenReadAsync(SampleFile, ct: ct))
        {
            var viaStream = new MemoryStream();
            await stream.CopyToAsync(viaStream, ct);
            Assert.Equal(content, viaStream.ToArray());
        }

        await client.DeleteAsync(SampleFile, ct);

        Assert.Equal(content, destination.ToArray());
        Assert.Equal(1, storage.Connections);
    }

    [Fact]
    public async Task Cancellation_aborts_a_call_waiting_for_a_reply_and_drops_the_connection()
    {
        await using var storage = FakeServer.Start(r => r.ConnectionIndex == 0 ? FakeReply.NoReply : FakeReply.Ok());
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeleteAsync(SampleFile, cancel.Token));
        await client.DeleteAsync(SampleFile, Replies.Timeout());

        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task Network_timeout_becomes_a_timeout_connection_exception()
    {
        await using var storage = FakeServer.Start(_ => FakeReply.NoReply);
        var options = Replies.Options(storage.Endpoint) with { NetworkTimeout = TimeSpan.FromMilliseconds(300) };
        using var client = new StorageClient(storage.Endpoint, options);

        var ex = await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.DeleteAsync(SampleFile, Replies.Timeout()));

        Assert.True(ex.IsTimeout);
        Assert.Equal(Errno.ETIMEDOUT, ex.ErrorCode);
    }

    [Fact]
    public async Task Blocking_sockets_run_a_call_to_its_end_on_the_calling_thread()
    {
        var ct = Replies.Timeout();
        byte[] content = new byte[300_000];
        Random.Shared.NextBytes(content);
        await using var storage = FakeServer.Start(r => r.Command == FdfsCommand.DownloadFile ? FakeReply.Ok(content) : FakeReply.Ok());
        var options = Replies.Options(storage.Endpoint) with { BlockingSockets = true };
        using var client = new StorageClient(storage.Endpoint, options);

        // Nothing is awaited asynchronously: the returned tasks are complete when the calls return.
        var delete = client.DeleteAsync(SampleFile, ct);
        Assert.True(delete.IsCompleted);
        await delete;
        var destination = new MemoryStream();
        var download = client.DownloadAsync(SampleFile, destination, ct: ct);
        Assert.True(download.IsCompleted);
        await download;

        Assert.Equal(content, destination.ToArray());
        Assert.Equal(1, storage.Connections);
    }

    [Fact]
    public async Task Blocking_sockets_turn_the_network_timeout_into_a_timeout_connection_exception()
    {
        await using var storage = FakeServer.Start(r => r.ConnectionIndex == 0 ? FakeReply.NoReply : FakeReply.Ok());
        var options = Replies.Options(storage.Endpoint) with { BlockingSockets = true, NetworkTimeout = TimeSpan.FromSeconds(1) }; // 300 ms timed out the second call once on a loaded machine
        using var client = new StorageClient(storage.Endpoint, options);

        var ex = await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.DeleteAsync(SampleFile, Replies.Timeout()));
        await client.DeleteAsync(SampleFile, Replies.Timeout());

        Assert.True(ex.IsTimeout, ex.Message);
        Assert.Equal(Errno.ETIMEDOUT, ex.ErrorCode);
        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task Blocking_sockets_report_a_refused_connection_with_its_errno()
    {
        var dead = FakeServer.ClosedEndpoint();
        using var client = new StorageClient(dead, Replies.Options(dead) with { BlockingSockets = true });

        var ex = await Assert.ThrowsAsync<FastDfsConnectionException>(() => client.DeleteAsync(SampleFile, Replies.Timeout()));

        Assert.Equal(111, ex.ErrorCode);
        Assert.Contains(dead.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Fact]
    public async Task Pooling_off_opens_a_connection_per_call()
    {
        var ct = Replies.Timeout();
        await using var storage = FakeServer.Start(_ => FakeReply.Ok());
        var options = Replies.Options(storage.Endpoint) with { UseConnectionPool = false };
        using var client = new StorageClient(storage.Endpoint, options);

        await client.DeleteAsync(SampleFile, ct);
        await client.DeleteAsync(SampleFile, ct);

        Assert.Equal(2, storage.Connections);
    }

    [Fact]
    public async Task Get_file_info_decodes_normal_names_without_a_server_and_asks_for_appenders()
    {
        var ct = Replies.Timeout();
        await using var storage = FakeServer.Start(_ =>
        {
            var body = new byte[40];
            new Protocol.Messages.FileInfoResponse(24, 1_794_429_619, 0x5643a22f, "10.99.0.3").Write(body, 16);
            return FakeReply.Ok(body);
        });
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        await using var client = new FastDfsClient(Replies.Options(tracker.Endpoint));

        var normal = await client.GetFileInfoAsync(SampleFile, ct);
        Assert.Equal(FastDfsFileType.Normal, normal.Type);
        Assert.Equal(14, normal.FileSize);
        Assert.Equal("10.99.0.3", normal.SourceIpAddress);
        Assert.False(normal.FromStorage);
        Assert.Empty(tracker.Requests);

        var appenderName = FileNameCodec.BuildLogicName(0, 0, 0, FileNameCodec.SourceFromIp("10.99.0.3"), 1_794_429_619,
            FileNameCodec.MakeSizeField(0, appender: true, trunk: false, random23: 5), 0x5643a22f, "000.txt");
        var appender = await client.GetFileInfoAsync(new FileId("group1", appenderName), ct);
        Assert.Equal(FastDfsFileType.Appender, appender.Type);
        Assert.Equal(24, appender.FileSize);
        Assert.True(appender.FromStorage);
        Assert.Equal(0x5643a22fu, appender.Crc32);
    }

    private const long UploadFileRequest_FixedSize = Protocol.Messages.UploadFileRequest.FixedSize;

    /// <summary>A non-seekable stream of <c>length</c> generated bytes (no backing buffer).</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[i] = (byte)(_position + i);
            }

            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

internal static class StoredFileResponseExtensions
{
    public static byte[] ToBytes(this Protocol.Messages.StoredFileResponse response)
    {
        var bytes = new byte[response.Size];
        response.Write(bytes);
        return bytes;
    }
}
