using System.Text;
using FastDfs.Client.Tests.Fakes;
using FastDfs.TestSupport;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client.Tests;

/// <summary>The client sends byte for byte what the stock tools sent in the captures, and parses stock replies.</summary>
public class GoldenRequestTests
{
    [Fact]
    public async Task Upload_sends_the_stock_query_and_upload_frames_and_returns_the_file_id()
    {
        var ct = Replies.Timeout();
        var frames = HexCapture.Load("client-upload-file.hex");
        await using var storage = FakeServer.Start(_ => FakeReply.Raw(frames[3].Bytes));
        await using var tracker = FakeServer.Start(_ => Replies.QueryStore(storage.Endpoint));
        await using var client = new FastDfsClient(Replies.Options(tracker.Endpoint));

        var fileId = await client.UploadAsync(Encoding.ASCII.GetBytes("hello fastdfs\n"), "txt", ct: ct);

        Assert.Equal(frames[0].Bytes, Assert.Single(tracker.Requests).Frame);
        Assert.Equal(frames[2].Bytes, Assert.Single(storage.Requests).Frame);
        var stored = StoredFileResponse.Parse(frames[3].Body);
        Assert.Equal($"{stored.Group}/{stored.LogicName}", fileId.ToString());
    }

    [Fact]
    public async Task Delete_sends_the_stock_query_update_and_delete_frames()
    {
        var ct = Replies.Timeout();
        var frames = HexCapture.Load("client-delete-file.hex");
        var fileId = FromGroupFileBody(frames[2].Body);
        await using var storage = FakeServer.Start(_ => FakeReply.Raw(frames[3].Bytes));
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        await using var client = new FastDfsClient(Replies.Options(tracker.Endpoint));

        await client.DeleteAsync(fileId, ct);

        Assert.Equal(frames[0].Bytes, Assert.Single(tracker.Requests).Frame);
        Assert.Equal(frames[2].Bytes, Assert.Single(storage.Requests).Frame);
    }

    [Fact]
    public async Task Appender_commands_send_the_stock_frames()
    {
        var ct = Replies.Timeout();
        var frames = HexCapture.Load("client-appender-truncate-append-modify.hex");
        var upload = frames[2];
        var setMeta = frames[4];
        var fileInfo = frames[8];
        var truncate = frames[10];
        var append = frames[16];
        var modify = frames[22];
        Assert.All([upload, setMeta, truncate, append, modify], f => Assert.True(f.IsComplete));
        var appenderId = StoredFileResponse.Parse(frames[3].Body);
        var fileId = new FileId(appenderId.Group, appenderId.LogicName);

        var replies = new Queue<byte[]>([frames[3].Bytes, frames[5].Bytes, frames[9].Bytes, frames[11].Bytes, frames[17].Bytes, frames[23].Bytes]);
        await using var storage = FakeServer.Start(_ => FakeReply.Raw(replies.Dequeue()));
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));

        byte[] uploadContent = upload.Body[UploadFileRequest.FixedSize..].ToArray();
        var uploadFields = UploadFileRequest.Parse(upload.Body[..UploadFileRequest.FixedSize]);
        var uploaded = await client.UploadAppenderAsync(new MemoryStream(uploadContent), uploadContent.Length, uploadFields.Ext, uploadFields.StorePathIndex, ct);
        Assert.Equal(fileId, uploaded);

        var meta = SetMetadataRequest.Parse(setMeta.Body);
        await client.SetMetadataAsync(fileId, MetadataCodec.Parse(meta.PackedMetadata), meta.Op, ct);

        var info = await client.QueryFileInfoAsync(fileId, skipCrc: false, ct);
        var expectedInfo = FileInfoResponse.Parse(frames[9].Body);
        Assert.Equal(expectedInfo, info);

        long newSize = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(truncate.Body[8..]);
        await client.TruncateAsync(fileId, newSize, ct);

        byte[] appendData = append.Body[(16 + fileId.LogicName.Length)..].ToArray();
        await client.AppendAsync(fileId, new MemoryStream(appendData), appendData.Length, ct);

        long offset = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(modify.Body[8..]);
        byte[] modifyData = modify.Body[(24 + fileId.LogicName.Length)..].ToArray();
        await client.ModifyAsync(fileId, offset, new MemoryStream(modifyData), modifyData.Length, ct);

        var sent = storage.Requests.ToArray();
        Assert.Equal(upload.Bytes, sent[0].Frame);
        Assert.Equal(setMeta.Bytes, sent[1].Frame);
        Assert.Equal(fileInfo.Bytes, sent[2].Frame);
        Assert.Equal(truncate.Bytes, sent[3].Frame);
        Assert.Equal(append.Bytes, sent[4].Frame);
        Assert.Equal(modify.Bytes, sent[5].Frame);
        Assert.Equal(1, storage.Connections);
    }

    [Fact]
    public async Task Query_update_and_set_metadata_merge_send_the_stock_frames()
    {
        var ct = Replies.Timeout();
        var frames = HexCapture.Load("client-set-metadata-merge.hex");
        var fileId = FromGroupFileBody(frames[0].Body);
        var setMeta = frames[4];
        var meta = SetMetadataRequest.Parse(setMeta.Body);
        Assert.Equal(MetadataOp.Merge, meta.Op);
        await using var storage = FakeServer.Start(_ => FakeReply.Raw(frames[5].Bytes));
        await using var tracker = FakeServer.Start(Replies.TrackerFor(storage.Endpoint));
        await using var client = new FastDfsClient(Replies.Options(tracker.Endpoint));

        await client.SetMetadataAsync(fileId, MetadataCodec.Parse(meta.PackedMetadata), MetadataOp.Merge, ct);

        Assert.Equal(frames[0].Bytes, Assert.Single(tracker.Requests).Frame);
        Assert.Equal(setMeta.Bytes, Assert.Single(storage.Requests).Frame);
    }

    [Fact]
    public async Task Download_sends_offset_length_group_name_and_streams_the_reply()
    {
        var ct = Replies.Timeout();
        var fileId = FileId.Parse("group1/M00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt");
        byte[] content = Encoding.ASCII.GetBytes("hello fastdfs\n");
        await using var storage = FakeServer.Start(_ => FakeReply.Ok(content));
        using var client = new StorageClient(storage.Endpoint, Replies.Options(storage.Endpoint));
        var destination = new MemoryStream();

        long written = await client.DownloadAsync(fileId, destination, offset: 5, length: 1000, ct);

        Assert.Equal(content.Length, written);
        Assert.Equal(content, destination.ToArray());
        // Spec 5.3 / 19.1: pkg_len 76, cmd 14, offset[8], bytes[8], group[16], name.
        byte[] expected = Convert.FromHexString(
            "000000000000004C0E00" + "0000000000000005" + "00000000000003E8" + "67726F75703100000000000000000000")
            .Concat(Encoding.ASCII.GetBytes(fileId.LogicName)).ToArray();
        Assert.Equal(expected, Assert.Single(storage.Requests).Frame);
    }

    [Fact]
    public async Task Monitor_replies_from_stock_parse_into_groups_and_storages()
    {
        var ct = Replies.Timeout();
        var frames = HexCapture.Load("client-monitor-list.hex");
        await using var tracker = FakeServer.Start(r => FakeReply.Raw(r.Command == FdfsCommand.ServerListAllGroups ? frames[1].Bytes : frames[3].Bytes));
        using var client = new TrackerClient(Replies.Options(tracker.Endpoint));

        var groups = await client.ListGroupsAsync(ct);
        var group = Assert.Single(groups);
        var storages = await client.ListStoragesAsync(group.GroupName, ct: ct);

        Assert.Equal("group1", group.GroupName);
        Assert.Equal(3, group.StorageCount);
        Assert.Equal(3, storages.Count);
        Assert.All(storages, s => Assert.Equal(StorageStatus.Active, s.Status));
        var sent = tracker.Requests.ToArray();
        Assert.Equal(frames[0].Bytes, sent[0].Frame);
        Assert.Equal(frames[2].Bytes, sent[1].Frame);
    }

    private static FileId FromGroupFileBody(ReadOnlySpan<byte> body)
    {
        var request = GroupFileRequest.Parse(body);
        return new FileId(request.Group, request.LogicName);
    }
}
