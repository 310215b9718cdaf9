using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

using FastDfs.TestSupport;

namespace FastDfs.Protocol.Tests.Golden;

public class FrameGoldenTests
{
    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(TestData.Directory, "*.hex").Order())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void EveryCapturedHeaderReencodesToTheSameBytes(string capture)
    {
        var frames = HexCapture.Load(capture);
        Assert.NotEmpty(frames);
        foreach (var frame in frames)
        {
            var header = frame.Header;
            Assert.Equal(frame.Bytes.AsSpan(0, 10).ToArray(), header.ToArray());
            Assert.True(header.BodyLength >= 0);
            if (!frame.IsRequest)
            {
                Assert.Equal(FdfsCommand.Response, header.Cmd);
                if (header.Status != 0)
                {
                    Assert.Equal(0, header.BodyLength); // error replies never carry a body
                }
            }
        }
    }

    [Fact]
    public void UploadExchangeParsesAndReencodes()
    {
        var frames = HexCapture.Load("client-upload-file.hex");
        var store = QueryStoreResponse.Parse(frames[1].Body);
        Assert.Equal(new QueryStoreResponse("group1", new StorageEndpoint("10.77.0.2", 23000), 0), store);
        var buffer = new byte[QueryStoreResponse.Size(16)];
        store.Write(buffer, 16);
        Assert.Equal(frames[1].Body.ToArray(), buffer);

        var upload = UploadFileRequest.Parse(frames[2].Body[..UploadFileRequest.FixedSize]);
        Assert.Equal(new UploadFileRequest(0, 14, "txt"), upload);
        var fixedPart = new byte[UploadFileRequest.FixedSize];
        upload.Write(fixedPart);
        Assert.Equal(frames[2].Body[..UploadFileRequest.FixedSize].ToArray(), fixedPart);

        var stored = StoredFileResponse.Parse(frames[3].Body);
        Assert.Equal("M00/00/00/Ck0AAmsE142AEeCFAAAADg4Qul0049.txt", stored.LogicName);
        var reply = new byte[stored.Size];
        stored.Write(reply);
        Assert.Equal(frames[3].Body.ToArray(), reply);
    }

    [Fact]
    public void MonitorListParsesAndReencodes()
    {
        var frames = HexCapture.Load("client-monitor-list.hex");
        var groups = GroupStat.ParseList(frames[1].Body);
        var group = Assert.Single(groups);
        Assert.Equal("group1", group.GroupName);
        Assert.Equal(258019, group.TotalMb);
        Assert.Equal(3, group.StorageCount);
        Assert.Equal(-1, group.CurrentTrunkFileId);
        var groupBytes = new byte[GroupStat.Size];
        group.Write(groupBytes);
        Assert.Equal(frames[1].Body.ToArray(), groupBytes);

        var storages = StorageStat.ParseList(frames[3].Body);
        Assert.Equal(3, storages.Count);
        Assert.Equal(StorageStatus.Active, storages[0].Status);
        Assert.Equal("10.77.0.2", storages[0].Id);
        Assert.Equal(23000, storages[0].StoragePort);
        var all = new byte[frames[3].Body.Length];
        for (int i = 0; i < storages.Count; i++)
        {
            storages[i].Write(all.AsSpan(i * 487), 16);
        }

        Assert.Equal(frames[3].Body.ToArray(), all);
    }

    [Fact]
    public void QueryUpdateAndFileInfoAndMetadataParse()
    {
        var frames = HexCapture.Load("client-appender-truncate-append-modify.hex");
        foreach (var frame in frames.Where(f => f.IsRequest && f.Header.Cmd == FdfsCommand.SetMetadata))
        {
            var request = SetMetadataRequest.Parse(frame.Body);
            var again = new byte[request.Size];
            request.Write(again);
            Assert.Equal(frame.Body.ToArray(), again);
            Assert.NotEmpty(MetadataCodec.Parse(request.PackedMetadata));
        }

        var infoReply = frames.Zip(frames.Skip(1))
            .First(p => p.First.IsRequest && p.First.Header.Cmd == FdfsCommand.QueryFileInfo).Second;
        var info = FileInfoResponse.Parse(infoReply.Body);
        var bytes = new byte[FileInfoResponse.Size(16)];
        info.Write(bytes, 16);
        Assert.Equal(infoReply.Body.ToArray(), bytes);
    }

    [Fact]
    public void JoinAndBeatRepliesParseAndReencode()
    {
        var frames = HexCapture.Load("storage-join-new-storage-leader.hex");
        var join = frames.First(f => f.IsRequest && f.Header.Cmd == FdfsCommand.StorageJoin);
        var request = StorageJoinRequest.Parse(join.Body);
        Assert.Equal("group1", request.GroupName);
        Assert.True(request.InitFlag);
        Assert.Equal(join.Body.ToArray(), request.ToArray());

        foreach (var (req, resp) in frames.Zip(frames.Skip(1)))
        {
            if (req.IsRequest && req.Header.Cmd == FdfsCommand.StorageBeat && !resp.IsRequest && resp.IsComplete)
            {
                var note = ChangeNotification.Parse(resp.Body);
                var again = new byte[note.Size];
                note.Write(again);
                Assert.Equal(resp.Body.ToArray(), again);
            }
        }
    }

    [Fact]
    public void DiskUsageAndSyncReportRequestsParseAndReencode()
    {
        var frames = HexCapture.Load("storage-beat-disk-usage-sync-report.hex").Where(f => f.IsRequest && f.IsComplete).ToList();
        var disk = frames.First(f => f.Header.Cmd == FdfsCommand.StorageReportDiskUsage);
        var paths = Messages.DiskUsageReport.Parse(disk.Body, disk.Body.Length / Messages.DiskUsageReport.EntrySize);
        Assert.All(paths, p => Assert.True(p.FreeMb <= p.TotalMb && p.TotalMb > 0));
        Assert.Equal(disk.Body.ToArray(), Messages.DiskUsageReport.Encode(paths));
        Assert.Throws<ProtocolException>(() => Messages.DiskUsageReport.Parse(disk.Body, paths.Length + 1));

        var report = frames.First(f => f.Header.Cmd == FdfsCommand.StorageSyncReport);
        var entries = Messages.SyncReport.Parse(report.Body);
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.Matches(@"^10\.77\.0\.\d+$", e.SourceId));
        Assert.Equal(report.Body.ToArray(), Messages.SyncReport.Encode(entries));
        Assert.Throws<ProtocolException>(() => Messages.SyncReport.Parse(report.Body[1..]));
    }

    [Fact]
    public void EveryCapturedSyncRequestParsesAndReencodes()
    {
        var frames = Directory.EnumerateFiles(TestData.Directory, "storage-sync-*.hex").Order(StringComparer.Ordinal)
            .SelectMany(path => HexCapture.Load(Path.GetFileName(path))).Where(f => f.IsRequest).ToList();
        int checkedFrames = 0;
        foreach (var frame in frames)
        {
            byte[] body = frame.Body.ToArray();
            // Stock leaves whatever its buffer held after the group name's NUL (0xbf...): only the name is the message.
            int groupAt = frame.Header.Cmd switch
            {
                FdfsCommand.SyncCreateFile or FdfsCommand.SyncUpdateFile => 20,
                FdfsCommand.SyncAppendFile or FdfsCommand.SyncModifyFile or FdfsCommand.SyncTruncateFile => 28,
                FdfsCommand.SyncDeleteFile => 4,
                _ => -1,
            };
            if (groupAt >= 0)
            {
                var field = body.AsSpan(groupAt, ProtocolConstants.GroupNameMaxLen);
                int nul = field.IndexOf((byte)0);
                if (nul >= 0)
                {
                    field[nul..].Clear();
                }
            }

            switch (frame.Header.Cmd)
            {
                case FdfsCommand.SyncCreateFile or FdfsCommand.SyncUpdateFile:
                {
                    var f = Messages.SyncFileFixed.Parse(body.AsSpan(0, Messages.SyncFileFixed.Size));
                    string name = FixedString.ReadCString(body.AsSpan(Messages.SyncFileFixed.Size, (int)f.NameLength));
                    Assert.Equal(frame.Header.BodyLength, Messages.SyncFileFixed.Size + f.NameLength + (frame.Header.Status == Errno.EEXIST ? 0 : f.FileSize));
                    Assert.Equal(body[..(Messages.SyncFileFixed.Size + (int)f.NameLength)], Messages.SyncFileFixed.Encode(f.Group, name, f.FileSize, f.Timestamp));
                    break;
                }

                case FdfsCommand.SyncAppendFile or FdfsCommand.SyncModifyFile or FdfsCommand.SyncTruncateFile:
                {
                    var f = Messages.SyncRangeFixed.Parse(body.AsSpan(0, Messages.SyncRangeFixed.Size));
                    string name = FixedString.ReadCString(body.AsSpan(Messages.SyncRangeFixed.Size, (int)f.NameLength));
                    Assert.Equal(body[..(Messages.SyncRangeFixed.Size + (int)f.NameLength)], Messages.SyncRangeFixed.Encode(f.Group, name, f.First, f.Second, f.Timestamp));
                    break;
                }

                case FdfsCommand.SyncDeleteFile:
                    Assert.Equal(body, Messages.SyncDeleteRequest.Parse(body).ToArray());
                    break;
                default:
                    continue;
            }

            checkedFrames++;
        }

        Assert.True(checkedFrames >= 20, $"{checkedFrames} sync frames checked");
        byte[] link = Messages.SyncLinkFixed.Encode("group1", "M00/00/00/link_s.jpg", "M00/00/00/master.jpg", 1795479441);
        var parsed = Messages.SyncLinkFixed.Parse(link);
        Assert.Equal(new Messages.SyncLinkFixed(20, 20, 1795479441, "group1"), parsed);
    }

    [Fact]
    public void ParameterReplyParsesAndReencodes()
    {
        var frames = HexCapture.Load("storage-get-my-ip-parameter-req.hex");
        var reply = frames.Single(f => !f.IsRequest && f.Header.BodyLength == 740);
        var parameters = Messages.ParameterReply.Parse(reply.Body);
        Assert.Equal(26, parameters.Count);
        Assert.Equal("0", parameters["use_trunk_file"]);
        Assert.Equal(reply.Body.ToArray(), Messages.ParameterReply.Encode(parameters));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "2", ["b"] = "x=y" },
            Messages.ParameterReply.Parse("# c\n a = 1\n\n=no key\na=2\nb=x=y\n\0c=ignored"u8));
    }

    [Fact]
    public void MetadataSortAndMergeFollowStock()
    {
        var existing = MetadataCodec.Sort(
        [
            new MetadataItem("zeta", "last"), new MetadataItem("alpha", "first"), new MetadataItem("mid", "dle"),
        ]);
        var merged = MetadataCodec.Merge(existing, [new MetadataItem("alpha", "NEW"), new MetadataItem("beta", "b")]);
        Assert.Equal("alpha\u0002NEW\u0001beta\u0002b\u0001mid\u0002dle\u0001zeta\u0002last",
            System.Text.Encoding.ASCII.GetString(MetadataCodec.Pack(merged)));
        var parsed = MetadataCodec.Parse("a\u0002b\u0001noval\u0001c\u0002d\0junk"u8);
        Assert.Equal([new MetadataItem("a", "b"), new MetadataItem("c", "d")], parsed);
    }
}
