using System.IO.Hashing;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests;

/// <summary>Every client operation against a real tracker and storage on 127.0.0.1.</summary>
public sealed class ClientEndToEndTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private FastDfsClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(ct: Timeouts.Test());
        _client = _cluster.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    private static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(0, "txt")]
    [InlineData(1, "")]
    [InlineData(14, "jpeg")]
    [InlineData(5000, "tar.gz")]
    [InlineData(300_000, "bin")]
    public async Task UploadedFilesDownloadByteIdenticalAndTheirNamesEncodeSizeAndCrc(int size, string ext)
    {
        var ct = Timeouts.Test();
        byte[] content = RandomBytes(size, size);
        var id = await _client.UploadAsync(content, ext, ct: ct);

        Assert.Equal("group1", id.Group);
        Assert.Equal(ProtocolConstants.NormalLogicFilenameLength, id.LogicName.Length);
        var name = FileNameCodec.Decode(id.LogicName);
        Assert.Equal(size, name.FileSize);
        Assert.Equal(Crc32.HashToUInt32(content), name.Crc32);
        Assert.Equal("127.0.0.1", name.Source);
        Assert.False(name.IsAppender);
        if (ext.Length > 0)
        {
            Assert.EndsWith("." + ext, id.LogicName, StringComparison.Ordinal);
        }

        Assert.Equal(content, await _client.DownloadBytesAsync(id, ct: ct));
        var info = await _client.GetFileInfoAsync(id, ct);
        Assert.Equal(size, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32(content), info.Crc32);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5000)]
    [InlineData(300_000)]
    public async Task A_client_with_blocking_sockets_uploads_and_downloads_byte_identical_files(int size)
    {
        var ct = Timeouts.Test();
        byte[] content = RandomBytes(size, size + 1);
        await using var client = new FastDfsClient(FastDfsClientOptions.ForTrackers(_cluster.TrackerAddress) with { BlockingSockets = true });

        var id = await client.UploadAsync(content, "bin", ct: ct);

        Assert.Equal(Crc32.HashToUInt32(content), FileNameCodec.Decode(id.LogicName).Crc32);
        Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        Assert.Equal(content, await _client.DownloadBytesAsync(id, ct: ct));
        await client.DeleteAsync(id, ct);
        await Assert.ThrowsAsync<FastDfsException>(() => _client.DownloadBytesAsync(id, ct: ct));
    }

    [Fact]
    public async Task TrunkSpaceQuery_OfAStorageWithoutTrunkFiles_IsENOENT_AndTheConnectionStaysUsable()
    {
        var ct = Timeouts.Test();
        var storage = _client.GetStorage(new Protocol.Messages.StorageEndpoint("127.0.0.1", _cluster.Storages[0].EndPoint.Port));
        var error = await Assert.ThrowsAsync<FastDfsException>(() => storage.QueryTrunkSpaceAsync(ct));
        Assert.Equal(Errno.ENOENT, error.ErrorCode);
        Assert.True(await storage.QueryHttpPortAsync(ct) >= 0);
    }

    [Fact]
    public async Task RangeDownloadsClampLikeStock()
    {
        var ct = Timeouts.Test();
        byte[] content = RandomBytes(1000, 7);
        var id = await _client.UploadAsync(content, "dat", ct: ct);
        Assert.Equal(content[100..300], await _client.DownloadBytesAsync(id, 100, 200, ct));
        Assert.Equal(content[900..], await _client.DownloadBytesAsync(id, 900, 0, ct));
        Assert.Equal(content[995..], await _client.DownloadBytesAsync(id, 995, 1000, ct));
        var error = await Assert.ThrowsAsync<FastDfsException>(() => _client.DownloadBytesAsync(id, 1000, 0, ct));
        Assert.Equal(Errno.EINVAL, error.ErrorCode);
        // The storage closed that connection after EINVAL; the next call still works.
        Assert.Equal(content, await _client.DownloadBytesAsync(id, ct: ct));
    }

    [Fact]
    public async Task DeleteRemovesTheFileAndItsMetadata()
    {
        var ct = Timeouts.Test();
        var id = await _client.UploadAsync("bye"u8.ToArray(), "txt", [new MetadataItem("k", "v")], ct: ct);
        Assert.Single(await _client.GetMetadataAsync(id, ct));
        await _client.DeleteAsync(id, ct);
        var download = await Assert.ThrowsAsync<FastDfsException>(() => _client.DownloadBytesAsync(id, ct: ct));
        Assert.Equal(Errno.ENOENT, download.ErrorCode);
        var again = await Assert.ThrowsAsync<FastDfsException>(() => _client.DeleteAsync(id, ct));
        Assert.Equal(Errno.ENOENT, again.ErrorCode);
        var meta = await Assert.ThrowsAsync<FastDfsException>(() => _client.GetMetadataAsync(id, ct));
        Assert.Equal(Errno.ENOENT, meta.ErrorCode);
    }

    [Fact]
    public async Task MetadataOverwriteMergeAndClear()
    {
        var ct = Timeouts.Test();
        var id = await _client.UploadAsync("m"u8.ToArray(), "txt", ct: ct);
        await _client.SetMetadataAsync(id, [new("zeta", "last"), new("alpha", "first"), new("mid", "dle")], MetadataOp.Overwrite, ct);
        await _client.SetMetadataAsync(id, [new("alpha", "NEW"), new("beta", "b")], MetadataOp.Merge, ct);
        var merged = await _client.GetMetadataAsync(id, ct);
        Assert.Equal(
            [new MetadataItem("alpha", "NEW"), new("beta", "b"), new("mid", "dle"), new("zeta", "last")],
            merged);
        await _client.SetMetadataAsync(id, [new("only", "one")], MetadataOp.Overwrite, ct);
        Assert.Equal([new MetadataItem("only", "one")], await _client.GetMetadataAsync(id, ct));
        await _client.SetMetadataAsync(id, [], MetadataOp.Overwrite, ct);
        var cleared = await Assert.ThrowsAsync<FastDfsException>(() => _client.GetMetadataAsync(id, ct));
        Assert.Equal(Errno.ENOENT, cleared.ErrorCode);
    }

    [Fact]
    public async Task AppenderFilesAppendModifyTruncateAndRegenerate()
    {
        var ct = Timeouts.Test();
        var id = await _client.UploadAppenderAsync(new MemoryStream("ABCDEFGHIJ"u8.ToArray()), 10, "dat", ct: ct);
        Assert.True(FileNameCodec.Decode(id.LogicName).IsAppender);

        await _client.AppendAsync(id, "KLMNO"u8.ToArray(), ct);
        await _client.ModifyAsync(id, 2, new MemoryStream("cd"u8.ToArray()), 2, ct);
        Assert.Equal("ABcdEFGHIJKLMNO"u8.ToArray(), await _client.DownloadBytesAsync(id, ct: ct));

        await _client.TruncateAsync(id, 4, ct);
        Assert.Equal("ABcd"u8.ToArray(), await _client.DownloadBytesAsync(id, ct: ct));
        await _client.TruncateAsync(id, 6, ct);
        Assert.Equal("ABcd\0\0"u8.ToArray(), await _client.DownloadBytesAsync(id, ct: ct));

        var info = await _client.GetFileInfoAsync(id, ct);
        Assert.Equal(FastDfsFileType.Appender, info.Type);
        Assert.Equal(6, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32("ABcd\0\0"u8), info.Crc32);

        var normal = await _client.RegenerateAppenderFilenameAsync(id, ct);
        var decoded = FileNameCodec.Decode(normal.LogicName);
        Assert.False(decoded.IsAppender);
        Assert.Equal(6, decoded.FileSize);
        Assert.Equal(Crc32.HashToUInt32("ABcd\0\0"u8), decoded.Crc32);
        Assert.Equal("ABcd\0\0"u8.ToArray(), await _client.DownloadBytesAsync(normal, ct: ct));
        var old = await Assert.ThrowsAsync<FastDfsException>(() => _client.DownloadBytesAsync(id, ct: ct));
        Assert.Equal(Errno.ENOENT, old.ErrorCode);

        var notAppender = await Assert.ThrowsAsync<FastDfsException>(() => _client.AppendAsync(normal, "x"u8.ToArray(), ct));
        Assert.Equal(Errno.EINVAL, notAppender.ErrorCode);
    }

    [Fact]
    public async Task SlaveFilesDeriveTheirNameFromTheMaster()
    {
        var ct = Timeouts.Test();
        var master = await _client.UploadAsync(RandomBytes(3000, 1), "jpg", ct: ct);
        byte[] thumb = RandomBytes(500, 2);
        var slave = await _client.UploadSlaveAsync(master, "_150x150", "jpg", new MemoryStream(thumb), thumb.Length, ct: ct);
        Assert.Equal(FileNameCodec.BuildSlaveName(master.LogicName, "_150x150", "jpg"), slave.LogicName);
        Assert.Equal(thumb, await _client.DownloadBytesAsync(slave, ct: ct));
        var info = await _client.GetFileInfoAsync(slave, ct);
        Assert.Equal(FastDfsFileType.Slave, info.Type);
        Assert.Equal(500, info.FileSize);

        var duplicate = await Assert.ThrowsAsync<FastDfsException>(
            () => _client.UploadSlaveAsync(master, "_150x150", "jpg", new MemoryStream(thumb), thumb.Length, ct: ct));
        Assert.Equal(Errno.EEXIST, duplicate.ErrorCode);
    }

    [Fact]
    public async Task MonitorShowsTheStorageActiveWithRealCounters()
    {
        var ct = Timeouts.Test();
        var id = await _client.UploadAsync(RandomBytes(100, 3), "bin", ct: ct);
        await _client.DownloadBytesAsync(id, ct: ct);
        await Eventually.TrueAsync(async () =>
        {
            var storage = Assert.Single(await _client.ListStoragesAsync("group1", ct: ct));
            return storage.Counters[Protocol.Messages.StorageStatCounters.Counter.SuccessUploadCount] >= 1 &&
                   storage.Counters[Protocol.Messages.StorageStatCounters.Counter.SuccessDownloadCount] >= 1;
        }, TimeSpan.FromSeconds(20), "counters in the heartbeat", ct);
        var group = Assert.Single(await _client.ListGroupsAsync(ct));
        Assert.Equal("group1", group.GroupName);
        Assert.Equal(1, group.WritableServerCount);
        var only = Assert.Single(await _client.ListStoragesAsync("group1", ct: ct));
        Assert.Equal(StorageStatus.Active, only.Status);
        Assert.Equal(_cluster.Storages[0].EndPoint.Port, only.StoragePort);
        Assert.True(only.TotalMb > 0);
    }
}
