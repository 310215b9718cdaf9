using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Tracking;
using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary>The client commands on a storage in trunk mode that is its own trunk server (stock sample trunk settings).</summary>
public sealed class TrunkSessionTests
{
    private const string TrunkParameters =
        "use_trunk_file=1\nslot_min_size=256\nslot_max_size=65536\ntrunk_alloc_alignment_size=256\n" +
        "trunk_file_size=4194304\ntrunk_free_space_merge=1\nstore_slave_file_use_link=0\n";

    internal sealed class SelfLocator : ITrunkServerLocator
    {
        public TrunkServerRole Resolve() => TrunkServerRole.Self;
    }

    internal static async Task<TestStorage> StartTrunkStorageAsync()
    {
        var storage = await TestStorage.StartAsync();
        EnableTrunk(storage);
        return storage;
    }

    internal static void EnableTrunk(TestStorage storage)
    {
        storage.Server.Context.Parameters = TrackerParameters.Parse(TrunkParameters);
        storage.Server.Context.Trunk.Locator = new SelfLocator();
    }

    [Theory]
    [InlineData("Ck0ACGsE2BCILHfUAAAAE1Fb86A", 1, 0, 256, "814.txt", "M00/00/00/Ck0ACGsE2BCILHfUAAAAE1Fb86AAAAAAQAAAAAAAAEA814.txt")]
    [InlineData("Ck0ACWsE2BGIIEd7AAAD6ItQnck", 1, 256, 1024, "712.bin", "M00/00/00/Ck0ACWsE2BGIIEd7AAAD6ItQnckAAAAAQAAAQAAAAQA712.bin")]
    [InlineData("Ck0ACWsE2SGINFZEAAAAAYzcFoM", 1, 1280, 256, "9498822", "M00/00/00/Ck0ACWsE2SGINFZEAAAAAYzcFoMAAAAAQAABQAAAAEA9498822")]
    public void CapturedTrunkNames_AreBuiltExactly(string encoded, int trunkId, int offset, int alloc, string ext, string expected)
    {
        var fields = FileNameCodec.Decode("M00/00/00/" + encoded + ext);
        string name = FileNameCodec.BuildLogicName(0, 0, 0, fields.SourceRaw, fields.Timestamp, fields.SizeField, fields.Crc32, ext, new TrunkLocation(trunkId, offset, alloc));
        Assert.Equal(expected, name);
        var decoded = FileNameCodec.Decode(name);
        Assert.True(decoded.IsTrunk);
        Assert.False(decoded.IsSlave);
        Assert.Equal(new TrunkLocation(trunkId, offset, alloc), decoded.Trunk);
        Assert.Equal(ext, decoded.Tail);
    }

    [Fact]
    public async Task SmallUpload_LandsInASlot_WithStocksNameHeaderAndBinlogs()
    {
        await using var storage = await StartTrunkStorageAsync();
        var content = Encoding.ASCII.GetBytes("trunk small file A\n");
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string name = await storage.UploadAsync(content, "txt");

        Assert.Equal(60, name.Length);
        var info = FileNameCodec.Decode(name);
        Assert.True(info.IsTrunk);
        Assert.Equal(19, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32(content), info.Crc32);
        Assert.Equal(new TrunkLocation(1, 0, 256), info.Trunk);
        Assert.InRange(info.Timestamp, before, before + 5);
        Assert.StartsWith("M00/00/00/", name);

        // The slot header of spec 13 at offset 0 of data/00/00/000001, data right after it.
        string trunkFile = Path.Combine(storage.BasePath, "data", "00", "00", "000001");
        Assert.Equal(4L << 20, new FileInfo(trunkFile).Length);
        var head = new byte[24 + content.Length];
        await using (var stream = File.OpenRead(trunkFile))
        {
            await stream.ReadExactlyAsync(head, storage.Timeout);
        }

        Assert.Equal((byte)'F', head[0]);
        Assert.Equal(256, BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(1)));
        Assert.Equal(19, BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(5)));
        Assert.Equal(info.Crc32, BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(9)));
        Assert.Equal(info.Timestamp, BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(13)));
        Assert.Equal(info.Tail, Encoding.ASCII.GetString(head, 17, 7));
        Assert.Equal(content, head[24..]);

        Assert.Contains($"{info.Timestamp} C {name}", storage.BinlogLines());
        var trunkBinlog = File.ReadAllLines(Path.Combine(storage.BasePath, "data", "trunk", "binlog")).Select(l => l[(l.IndexOf(' ') + 1)..]);
        Assert.Equal(["A 0 0 0 1 0 4194304", "D 0 0 0 1 0 4194304", "A 0 0 0 1 256 4194048", "A 0 0 0 1 0 256", "D 0 0 0 1 0 256"], trunkBinlog);
        Assert.Equal(1, storage.Server.Context.InitFlag.CurrentTrunkFileId);

        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, status);
        Assert.Equal(content, body);
        (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, offset: 6, length: 5));
        Assert.Equal(0, status);
        Assert.Equal("small"u8.ToArray(), body);
        (status, body) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name));
        Assert.Equal(0, status);
        var fileInfo = FileInfoResponse.Parse(body);
        Assert.Equal(19, fileInfo.FileSize);
        Assert.Equal(info.Timestamp, fileInfo.CreateTimestamp);
        Assert.Equal(info.Crc32, fileInfo.Crc32);
        Assert.Equal("127.0.0.1", fileInfo.SourceIp);
    }

    [Fact]
    public async Task LargeAndAppenderUploads_StayNormalFiles()
    {
        await using var storage = await StartTrunkStorageAsync();
        string big = await storage.UploadAsync(new byte[65536 - 23], "bin");
        string fits = await storage.UploadAsync(new byte[65536 - 24], "bin");
        string appender = await storage.UploadAsync(new byte[10], "dat", appender: true);
        Assert.Equal(44, big.Length);
        Assert.Equal(60, fits.Length);
        Assert.Equal(44, appender.Length);
        Assert.True(File.Exists(storage.FullPath(big)));
        Assert.True(FileNameCodec.Decode(appender).IsAppender);
    }

    [Fact]
    public async Task Delete_ZeroesTheHeader_FreesTheSlot_AndTheSlotIsReused()
    {
        await using var storage = await StartTrunkStorageAsync();
        var content = new byte[300];
        Random.Shared.NextBytes(content);
        string first = await storage.UploadAsync(content, "bin");
        string keep = await storage.UploadAsync([1, 2, 3], "bin");
        var slot = FileNameCodec.Decode(first).Trunk!.Value;

        await using var client = await storage.ConnectAsync();
        var (status, _) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(first));
        Assert.Equal(0, status);
        (status, _) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(first));
        Assert.Equal(Errno.ENOENT, status);
        (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(first));
        Assert.Equal(Errno.ENOENT, status);
        (status, _) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(first));
        Assert.Equal(Errno.ENOENT, status);

        var header = new byte[24];
        await using (var stream = File.OpenRead(Path.Combine(storage.BasePath, "data", "00", "00", "000001")))
        {
            stream.Position = slot.Offset;
            await stream.ReadExactlyAsync(header, storage.Timeout);
        }

        Assert.All(header, b => Assert.Equal(0, b));
        Assert.Contains(storage.BinlogLines(), l => l.EndsWith($" D {first}", StringComparison.Ordinal));
        Assert.EndsWith($"A 0 0 0 1 {slot.Offset} {slot.AllocSize}", File.ReadAllLines(Path.Combine(storage.BasePath, "data", "trunk", "binlog"))[^1]);

        string reused = await storage.UploadAsync([9], "bin");
        Assert.Equal(slot.Offset, FileNameCodec.Decode(reused).Trunk!.Value.Offset);
        (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(first));
        Assert.Equal(Errno.ENOENT, status); // the old name never reads the new file
        var (keepStatus, keepBody) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(keep));
        Assert.Equal(0, keepStatus);
        Assert.Equal(new byte[] { 1, 2, 3 }, keepBody);
    }

    [Fact]
    public async Task ForgedOrMismatchedTrunkNames_AnswerEnoent_AndTheConnectionStays()
    {
        await using var storage = await StartTrunkStorageAsync();
        string name = await storage.UploadAsync([1, 2, 3, 4], "bin");
        var info = FileNameCodec.Decode(name);
        string wrongSize = FileNameCodec.BuildLogicName(0, 0, 0, info.SourceRaw, info.Timestamp, info.SizeField + 1, info.Crc32, info.Tail, info.Trunk);
        string wrongSlot = FileNameCodec.BuildLogicName(0, 0, 0, info.SourceRaw, info.Timestamp, info.SizeField, info.Crc32, info.Tail, info.Trunk!.Value with { Offset = 256 });
        string noTrunkFile = FileNameCodec.BuildLogicName(0, 0, 0, info.SourceRaw, info.Timestamp, info.SizeField, info.Crc32, info.Tail, info.Trunk!.Value with { TrunkId = 77 });
        await using var client = await storage.ConnectAsync();
        foreach (var forged in new[] { wrongSize, wrongSlot, noTrunkFile })
        {
            var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(forged));
            Assert.Equal(Errno.ENOENT, status);
            (status, _) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(forged));
            Assert.Equal(Errno.ENOENT, status);
        }

        var (okStatus, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, okStatus);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, body);
    }

    [Fact]
    public async Task MetadataAndSlaves_OfTrunkFiles_AreNormalFilesNextToTheName()
    {
        await using var storage = await StartTrunkStorageAsync();
        string master = await storage.UploadAsync(new byte[1000], "bin");
        await using var client = await storage.ConnectAsync();
        var (status, _) = await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(master, 'O', "width\u0002160"u8.ToArray()));
        Assert.Equal(0, status);
        string metaPath = storage.FullPath(master) + "-m";
        Assert.True(File.Exists(metaPath));
        var (getStatus, meta) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(master));
        Assert.Equal(0, getStatus);
        Assert.Equal("width\u0002160"u8.ToArray(), meta);

        var slaveContent = new byte[2000];
        Random.Shared.NextBytes(slaveContent);
        var (slaveStatus, slaveBody) = await client.RequestAsync(FdfsCommand.UploadSlaveFile, Requests.Slave(master, "_big", "bin", slaveContent));
        Assert.Equal(0, slaveStatus);
        string slave = StoredFileResponse.Parse(slaveBody).LogicName;
        Assert.Equal(master[..^4] + "_big.bin", slave);
        Assert.True(File.Exists(storage.FullPath(slave)));
        var (downloadStatus, downloaded) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(slave));
        Assert.Equal(0, downloadStatus);
        Assert.Equal(slaveContent, downloaded);

        (status, _) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(master));
        Assert.Equal(0, status);
        Assert.False(File.Exists(metaPath));
        Assert.Contains(storage.BinlogLines(), l => l.EndsWith($" D {master}-m", StringComparison.Ordinal));
        (status, _) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(master));
        Assert.Equal(Errno.ENOENT, status);
    }

    [Fact]
    public async Task Restart_KeepsFilesReadable_AndNeverReusesALiveSlot()
    {
        var storage = await StartTrunkStorageAsync();
        try
        {
            var files = new Dictionary<string, byte[]>();
            for (int i = 0; i < 40; i++)
            {
                var content = new byte[Random.Shared.Next(1, 5000)];
                Random.Shared.NextBytes(content);
                files[await storage.UploadAsync(content, "bin")] = content;
            }

            foreach (var name in files.Keys.Where((_, i) => i % 3 == 0).ToList())
            {
                await using var deleter = await storage.ConnectAsync();
                Assert.Equal(0, (await deleter.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(name))).Status);
                files.Remove(name);
            }

            await storage.RestartAsync();
            EnableTrunk(storage);
            for (int i = 0; i < 40; i++)
            {
                var content = new byte[Random.Shared.Next(1, 5000)];
                Random.Shared.NextBytes(content);
                files[await storage.UploadAsync(content, "bin")] = content;
            }

            var slots = files.Keys.Select(n => FileNameCodec.Decode(n).Trunk!.Value).OrderBy(s => (s.TrunkId, s.Offset)).ToList();
            for (int i = 1; i < slots.Count; i++)
            {
                Assert.True(slots[i - 1].TrunkId != slots[i].TrunkId || slots[i - 1].Offset + slots[i - 1].AllocSize <= slots[i].Offset, $"{slots[i - 1]} overlaps {slots[i]}");
            }

            await using var client = await storage.ConnectAsync();
            foreach (var (name, content) in files)
            {
                var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
                Assert.Equal(0, status);
                Assert.Equal(content, body);
            }
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    [Fact]
    public async Task TrunkOff_ReadsExistingTrunkFiles_ButStoresNewUploadsAsNormalFiles()
    {
        await using var storage = await StartTrunkStorageAsync();
        string trunkName = await storage.UploadAsync([5, 6, 7], "bin");
        storage.Server.Context.Parameters = TrackerParameters.Default;
        string normal = await storage.UploadAsync([5, 6, 7], "bin");
        Assert.Equal(44, normal.Length);
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(trunkName));
        Assert.Equal(0, status);
        Assert.Equal(new byte[] { 5, 6, 7 }, body);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(trunkName))).Status);
    }

    [Fact]
    public async Task UnknownTrunkServer_StoresNormalFiles()
    {
        await using var storage = await StartTrunkStorageAsync();
        storage.Server.Context.Group.Apply(new ChangeNotification(ChangeFlags.GroupServers, null, null, [])); // no group list yet
        storage.Server.Context.Trunk.Locator = new GroupTrunkServerLocator(storage.Server.Context.State);
        Assert.Equal(44, (await storage.UploadAsync([1], "bin")).Length);
    }
}
