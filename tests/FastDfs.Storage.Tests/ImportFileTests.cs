using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Http;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;
using FastDfs.Storage.Tests.Sync;
using FastDfs.Storage.Tracking;
using FastDfs.TestSupport;

namespace FastDfs.Storage.Tests;

/// <summary>
/// IMPORT_FILE (253): a storage of group2 takes files of group1 under their logic names, serves them under both group
/// names (binary commands and HTTP), logs them as its own creations, and refuses what it cannot hold.
/// </summary>
public sealed class ImportFileTests
{
    /// <summary>The storage under test.</summary>
    private const string Target = "group2";

    /// <summary>The group the files come from (their old IDs name it).</summary>
    private const string Source = TestStorage.Group;

    /// <summary>The group1 storage that created the files: no member of group2.</summary>
    private const string SourceStorageIp = "10.1.2.3";

    private static Task<TestStorage> StartTargetAsync(Func<StorageConfig, StorageConfig>? tweak = null) =>
        TestStorage.StartAsync(tweak: c => (tweak ?? (x => x))(c with { GroupName = Target }));

    private static string NameOf(byte[] content, string ext = "jpg", bool appender = false, int storePath = 0, string sourceIp = SourceStorageIp) =>
        FileNameCodec.BuildLogicName(storePath, 1, 2, FileNameCodec.SourceFromIp(sourceIp), 1_790_000_000,
            FileNameCodec.MakeSizeField(content.Length, appender, trunk: false, Random.Shared.Next()), Crc32.HashToUInt32(content),
            FileNameCodec.FormatExtension(ext, Random.Shared));

    private static byte[] ImportBody(string name, byte[] content, byte[]? metadata = null, uint? crc32 = null, string group = Target,
        string source = Source) =>
        [.. ImportFile.RequestHead(group, source, name, metadata ?? [], content.Length, crc32 ?? Crc32.HashToUInt32(content)), .. content];

    private static async Task<byte> ImportAsync(RawClient client, string name, byte[] content, byte[]? metadata = null, uint? crc32 = null,
        string group = Target, string source = Source) =>
        (await client.RequestAsync(ImportFile.Command, ImportBody(name, content, metadata, crc32, group, source))).Status;

    private static async Task<RawClient> ConnectFromAsync(TestStorage storage, string address)
    {
        var client = new TcpClient(new IPEndPoint(IPAddress.Parse(address), 0));
        await client.ConnectAsync(IPAddress.Loopback, storage.Server.EndPoint.Port, storage.Timeout);
        return RawClient.Wrap(client, storage.Timeout);
    }

    private static async Task<bool> ServesAsync(RawClient client) => (await client.RequestAsync(FdfsCommand.ActiveTest, [])).Status == 0;

    private static byte[] SetMetadata(string name, byte[] packed, string group)
    {
        var request = new SetMetadataRequest(group, name, MetadataOp.Overwrite, packed);
        var body = new byte[request.Size];
        request.Write(body);
        return body;
    }

    [Fact]
    public async Task Imported_files_read_back_naming_the_source_group_and_the_own_group()
    {
        await using var storage = await StartTargetAsync();
        byte[] plain = "a file of group1"u8.ToArray();
        byte[] appender = "an appender of group1"u8.ToArray();
        byte[] withMetadata = "a file with metadata"u8.ToArray();
        var items = new List<MetadataItem> { new("width", "1024"), new("author", "me") };
        byte[] packed = MetadataCodec.Pack(items);
        string plainName = NameOf(plain), appenderName = NameOf(appender, "log", appender: true), metaName = NameOf(withMetadata, "png");

        // Through the client (FastDfsException on refusal), then raw frames.
        using (var client = new StorageClient(new FastDfsEndpoint("127.0.0.1", storage.Server.EndPoint.Port)))
        {
            await client.ImportFileAsync(Target, Source, plainName, ReadOnlyMemory<byte>.Empty, new MemoryStream(plain), plain.Length,
                Crc32.HashToUInt32(plain), storage.Timeout);
            var refused = await Assert.ThrowsAsync<FastDfsException>(() => client.ImportFileAsync(Target, Source, plainName,
                ReadOnlyMemory<byte>.Empty, new MemoryStream("other"u8.ToArray()), 5, Crc32.HashToUInt32("other"u8), storage.Timeout));
            Assert.Equal(Errno.EEXIST, refused.ErrorCode);
        }

        await using var raw = await storage.ConnectAsync();
        Assert.Equal(0, await ImportAsync(raw, appenderName, appender));
        Assert.Equal(0, await ImportAsync(raw, metaName, withMetadata, packed));

        foreach (var (name, content) in new[] { (plainName, plain), (appenderName, appender), (metaName, withMetadata) })
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(name)));
            foreach (string group in (string[])[Source, Target])
            {
                var (status, body) = await raw.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, group: group));
                Assert.Equal(0, status);
                Assert.Equal(content, body);
                (status, body) = await raw.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name, group));
                Assert.Equal(0, status);
                var info = FileInfoResponse.Parse(body);
                Assert.Equal(content.Length, info.FileSize);
                Assert.Equal(Crc32.HashToUInt32(content), info.Crc32);
            }
        }

        Assert.True(FileNameCodec.Decode(appenderName).IsAppender);
        foreach (string group in (string[])[Source, Target])
        {
            var (status, body) = await raw.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(metaName, group));
            Assert.Equal(0, status);
            Assert.Equal(MetadataCodec.Pack(MetadataCodec.Sort(items)), body);
            Assert.Equal(Errno.ENOENT, (await raw.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(plainName, group))).Status);
        }

        // Each is this storage's own creation (upper case): its group's members replicate it as an upload.
        var lines = storage.BinlogLines();
        foreach (string name in (string[])[plainName, appenderName, metaName, metaName + "-m"])
        {
            Assert.Single(lines, l => l.EndsWith($" C {name}", StringComparison.Ordinal));
        }

        var stats = storage.Server.Context.Counters;
        Assert.Equal(4L, stats[StorageStatCounters.Counter.TotalUploadCount]);
        Assert.Equal(3L, stats[StorageStatCounters.Counter.SuccessUploadCount]);
    }

    [Fact]
    public async Task A_repeated_import_changes_nothing_but_different_metadata_and_another_file_under_the_name_is_eexist()
    {
        await using var storage = await StartTargetAsync();
        await using var raw = await storage.ConnectAsync();
        byte[] content = "moved twice"u8.ToArray();
        string name = NameOf(content);
        byte[] first = MetadataCodec.Pack([new("k", "1")]);
        Assert.Equal(0, await ImportAsync(raw, name, content, first));
        long mtime = File.GetLastWriteTimeUtc(storage.FullPath(name)).Ticks;

        Assert.Equal(0, await ImportAsync(raw, name, content, first));
        Assert.Equal(0, await ImportAsync(raw, name, content)); // no metadata given: the stored one stays
        Assert.Single(storage.BinlogLines(), l => l.EndsWith($" {name}", StringComparison.Ordinal));
        Assert.Single(storage.BinlogLines(), l => l.EndsWith($" {name}-m", StringComparison.Ordinal));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(storage.FullPath(name)).Ticks);

        // Other metadata for the same content: set, and logged as an update.
        byte[] second = MetadataCodec.Pack([new("k", "2")]);
        Assert.Equal(0, await ImportAsync(raw, name, content, second));
        Assert.Equal(second, (await raw.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name, Source))).Body);
        Assert.Single(storage.BinlogLines(), l => l.EndsWith($" U {name}-m", StringComparison.Ordinal));

        // Another content (same size, and another size) under the name: EEXIST, the file unchanged, the connection serves on.
        Assert.Equal(Errno.EEXIST, await ImportAsync(raw, name, "moved thrice"u8.ToArray()));
        Assert.Equal(Errno.EEXIST, await ImportAsync(raw, name, "MOVED TWICE"u8.ToArray()));
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(name)));
        Assert.Equal(second, (await raw.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name, Target))).Body);
        Assert.True(await ServesAsync(raw));
        Assert.Empty(OpenFiles.PendingUnder(storage.BasePath));
    }

    [Fact]
    public async Task A_crc32_that_does_not_match_the_content_is_eio_and_stores_nothing()
    {
        await using var storage = await StartTargetAsync();
        await using var raw = await storage.ConnectAsync();
        byte[] content = new byte[300 * 1024];
        new Random(3).NextBytes(content);
        string name = NameOf(content);
        byte[] metadata = MetadataCodec.Pack([new("k", "v")]);
        Assert.Equal(Errno.EIO, await ImportAsync(raw, name, content, metadata, crc32: Crc32.HashToUInt32(content) ^ 1));
        Assert.False(File.Exists(storage.FullPath(name)));
        Assert.False(File.Exists(storage.FullPath(name) + "-m"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(storage.FullPath(name))!));
        Assert.DoesNotContain(storage.BinlogLines(), l => l.Contains(name, StringComparison.Ordinal));
        Assert.True(await ServesAsync(raw));
        Assert.Equal(0, await ImportAsync(raw, name, content, metadata));
    }

    [Fact]
    public async Task Names_it_cannot_hold_as_files_and_foreign_groups_are_einval()
    {
        await using var storage = await StartTargetAsync();
        byte[] content = "x"u8.ToArray();
        string trunkName = FileNameCodec.BuildLogicName(0, 1, 2, FileNameCodec.SourceFromIp(SourceStorageIp), 1_790_000_000,
            FileNameCodec.MakeSizeField(1, appender: false, trunk: true, 5), Crc32.HashToUInt32(content), "000.jpg", new TrunkLocation(1, 0, 256));
        Assert.Equal(ProtocolConstants.TrunkLogicFilenameLength, trunkName.Length);
        string good = NameOf(content);
        var refused = new (string Name, string Group, string Source)[]
        {
            (trunkName, Target, Source),
            (NameOf(content, storePath: 1), Target, Source), // one store path only
            (good[..7] + "7F" + good[9..], Target, Source), // a sub-directory it does not have (4 per level)
            (good + "-m", Target, Source), // a metadata file
            ("M00/01/02/../../../etc", Target, Source),
            (good, Source, Source), // the request names another group than the storage's
            (good, Target, Target), // a move within one group
        };
        foreach (var (name, group, source) in refused)
        {
            await using var raw = await storage.ConnectAsync();
            Assert.Equal(Errno.EINVAL, await ImportAsync(raw, name, content, group: group, source: source));
            Assert.True(await raw.IsClosedByServerAsync(), name);
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage.BasePath, "data", "01", "02")));

        // A body whose lengths disagree with the header: a protocol error too.
        await using (var raw = await storage.ConnectAsync())
        {
            var body = ImportBody(good, content);
            await raw.SendAsync(ImportFile.Command, body, declaredLength: body.Length + 1);
            await raw.SendRawAsync([0]);
            Assert.Equal(Errno.EINVAL, (await raw.ReceiveAsync()).Status);
        }

        // A slave's name is imported as a plain file under that name.
        await using (var raw = await storage.ConnectAsync())
        {
            string slave = FileNameCodec.BuildSlaveName(good, "_150x150", "jpg");
            Assert.Equal(0, await ImportAsync(raw, slave, "thumbnail"u8.ToArray()));
            Assert.Equal("thumbnail"u8.ToArray(), await File.ReadAllBytesAsync(storage.FullPath(slave)));
        }
    }

    [Fact]
    public async Task A_caller_that_may_not_administer_gets_eperm_and_the_connection_serves_on()
    {
        await using var storage = await StartTargetAsync();
        byte[] content = "not yours"u8.ToArray();
        string name = NameOf(content);
        await using var stranger = await ConnectFromAsync(storage, "127.0.0.9");
        Assert.Equal(Errno.EPERM, await ImportAsync(stranger, name, content));
        Assert.True(await ServesAsync(stranger));
        Assert.False(File.Exists(storage.FullPath(name)));
    }

    [Fact]
    public async Task A_full_disk_is_enospc_with_nothing_left_behind()
    {
        await using var storage = await StartTargetAsync();
        storage.Server.Context.Parameters = TrackerParameters.Default with { ReservedSpace = ReservedSpace.FromRatio(0.999999) };
        await using var raw = await storage.ConnectAsync();
        byte[] content = new byte[100 * 1024];
        string name = NameOf(content);
        Assert.Equal(Errno.ENOSPC, await ImportAsync(raw, name, content, MetadataCodec.Pack([new("k", "v")])));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(storage.FullPath(name))!));
        Assert.True(await ServesAsync(raw));
    }

    [Fact]
    public async Task A_disk_filling_up_during_an_import_is_enospc_with_nothing_left_behind()
    {
        const int MB = 1024 * 1024;
        using var small = SmallFileSystem.Mount(8);
        await using var storage = await StartTargetAsync(c => c with { StorePaths = [new StorePath(small.Path)] });
        storage.Server.Context.Parameters = TrackerParameters.Default with { ReservedSpace = ReservedSpace.FromMegabytes(0) };
        await using var raw = await storage.ConnectAsync();
        byte[] content = new byte[3 * MB];
        new Random(9).NextBytes(content);
        string name = NameOf(content);
        byte[] body = ImportBody(name, content, MetadataCodec.Pack([new("k", "v")]));
        int first = body.Length - content.Length + MB;
        await raw.SendAsync(ImportFile.Command, body[..first], declaredLength: body.Length);

        // Once the storage has written part of the file, the disk fills up under it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!OpenFiles.PendingUnder(Path.Combine(small.Path, "data")).Any(f => f.Length > 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "the import never reached the disk");
            await Task.Delay(20, storage.Timeout);
        }

        small.Fill();
        await raw.SendRawAsync(body[first..]);
        Assert.Equal(Errno.ENOSPC, (await raw.ReceiveAsync()).Status);
        Assert.Empty(OpenFiles.PendingUnder(small.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(small.Path, "data", "01", "02")));
        Assert.True(await ServesAsync(raw));
    }

    [Fact]
    public async Task An_imported_appender_is_appended_to_and_a_file_deleted_naming_the_source_group_on_any_member()
    {
        await using var storage = await StartTargetAsync();
        // Another ACTIVE member besides us: the names' source (a group1 storage) is neither, so any member may change them.
        storage.Server.Context.Group.Apply(new ChangeNotification(ChangeFlags.GroupServers, null, null,
            [new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1"), new StorageBrief(StorageStatus.Active, 0, "127.0.0.5", "127.0.0.5")]));
        await using var raw = await storage.ConnectAsync();
        byte[] content = "log line 1\n"u8.ToArray();
        string appender = NameOf(content, "log", appender: true);
        string plain = NameOf("plain"u8.ToArray());
        Assert.Equal(0, await ImportAsync(raw, appender, content));
        Assert.Equal(0, await ImportAsync(raw, plain, "plain"u8.ToArray(), MetadataCodec.Pack([new("k", "v")])));

        Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.AppendFile, Requests.Append(appender, "log line 2\n"u8.ToArray()))).Status);
        Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.ModifyFile, Requests.Modify(appender, 0, "LOG"u8.ToArray()))).Status);
        var (status, body) = await raw.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(appender, group: Source));
        Assert.Equal(0, status);
        Assert.Equal("LOG line 1\nlog line 2\n"u8.ToArray(), body);
        Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.SetMetadata, SetMetadata(appender, MetadataCodec.Pack([new("a", "b")]), Source))).Status);

        Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(plain, Source))).Status);
        Assert.False(File.Exists(storage.FullPath(plain)));
        Assert.False(File.Exists(storage.FullPath(plain) + "-m"));
        Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(appender, Source))).Status);
        var lines = storage.BinlogLines();
        Assert.Contains(lines, l => l.EndsWith($" A {appender} 11 11", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith($" D {plain}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith($" D {plain}-m", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith($" D {appender}", StringComparison.Ordinal));

        // The single-writer rule still holds for a name whose source is the other member of our group.
        byte[] theirs = "theirs"u8.ToArray();
        string theirName = NameOf(theirs, "log", appender: true, sourceIp: "127.0.0.5");
        Assert.Equal(0, await ImportAsync(raw, theirName, theirs));
        Assert.Equal(Errno.EAGAIN, (await raw.RequestAsync(FdfsCommand.AppendFile, Requests.Append(theirName, "x"u8.ToArray()))).Status);
    }

    [Fact]
    public async Task A_foreign_group_name_for_a_file_not_here_is_ENOENT_as_for_a_deleted_file_and_a_malformed_name_is_refused_as_before()
    {
        await using var storage = await StartTargetAsync();
        string here = await storage.UploadAsync("uploaded to group2"u8.ToArray());
        string missing = NameOf("never imported"u8.ToArray());
        var requests = new (FdfsCommand Command, byte[] Body)[]
        {
            (FdfsCommand.DownloadFile, Requests.Download(missing, group: Source)),
            (FdfsCommand.QueryFileInfo, Requests.GroupAndName(missing, Source)),
            (FdfsCommand.GetMetadata, Requests.GroupAndName(missing, Source)),
            (FdfsCommand.DeleteFile, Requests.GroupAndName(missing, Source)),
            (FdfsCommand.SetMetadata, SetMetadata(missing, MetadataCodec.Pack([new("k", "v")]), Source)),
        };
        // A moved file deleted since (the trackers still send its old ID here): as any deleted file.
        await using (var raw = await storage.ConnectAsync())
        {
            foreach (var (command, body) in requests)
            {
                Assert.Equal(Errno.ENOENT, (await raw.RequestAsync(command, body)).Status);
            }

            Assert.Equal(0, (await raw.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(here, group: Source))).Status);
        }

        var refused = new (FdfsCommand Command, byte[] Body)[]
        {
            // A name no storage of ours could hold under another group's name.
            (FdfsCommand.DownloadFile, Requests.Download("M00/ZZ/00/" + missing[10..], group: Source)),
            // The storage-to-storage commands refuse another group even for a file that is here.
            (FdfsCommand.SyncDeleteFile, [.. new byte[4], .. GroupField(Source), .. System.Text.Encoding.ASCII.GetBytes(here)]),
        };
        foreach (var (command, body) in refused)
        {
            await using var raw = await storage.ConnectAsync();
            Assert.Equal(Errno.EINVAL, (await raw.RequestAsync(command, body)).Status);
            Assert.True(await raw.IsClosedByServerAsync(), command.ToString());
        }

        // Our own group for the missing file: ENOENT as ever; and a file of ours is served under any group name (a name is
        // unique across groups, so that gives nothing away).
        await using var client = await storage.ConnectAsync();
        Assert.Equal(Errno.ENOENT, (await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(missing, group: Target))).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(here, group: Source))).Status);
        Assert.True(File.Exists(storage.FullPath(here)));
    }

    private static byte[] GroupField(string group)
    {
        var field = new byte[ProtocolConstants.GroupNameMaxLen];
        FixedString.Write(field, group);
        return field;
    }

    [Fact]
    public async Task Http_serves_an_imported_file_under_the_source_groups_url_with_its_token()
    {
        const string secret = "FastDFS1234567890";
        await using var storage = await StartTargetAsync(c => c with
        {
            HttpServerPort = 0,
            Http = HttpConfig.Default with { Enabled = true, AntiStealCheckToken = true, AntiStealSecretKey = secret },
        });
        await using var raw = await storage.ConnectAsync();
        byte[] content = "served over http"u8.ToArray();
        string name = NameOf(content, "txt");
        Assert.Equal(0, await ImportAsync(raw, name, content));

        using var http = new HttpClient { BaseAddress = new Uri($"http://{storage.Server.HttpEndPoint}") };
        long ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Url(string group, string logicName) =>
            $"/{group}/{logicName}?token={AntiStealToken.Compute($"{group}/{logicName}", secret, ts)}&ts={ts}";

        using (var answer = await http.GetAsync(Url(Source, name), storage.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(content, await answer.Content.ReadAsByteArrayAsync(storage.Timeout));
        }

        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url(Source, name)), storage.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(content.Length, head.Content.Headers.ContentLength);
        }

        using (var own = await http.GetAsync(Url(Target, name), storage.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        // The token is over the ID the URL names: one computed for group2 does not open group1's URL.
        using (var wrongToken = await http.GetAsync($"/{Source}/{name}?token={AntiStealToken.Compute($"{Target}/{name}", secret, ts)}&ts={ts}", storage.Timeout))
        {
            Assert.Equal(HttpStatusCode.Forbidden, wrongToken.StatusCode);
        }

        // Not here under another group's name: 404 as before, before any token check.
        string missing = NameOf("missing"u8.ToArray(), "txt");
        using (var notHere = await http.GetAsync($"/{Source}/{missing}", storage.Timeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, notHere.StatusCode);
            Assert.Equal($"group {Source} is not served here\n", await notHere.Content.ReadAsStringAsync(storage.Timeout));
        }
    }

    [Fact]
    public async Task An_import_replicates_to_the_groups_other_member_as_an_upload_and_honours_sync_ack_replicas()
    {
        await using var peer = new FakePeer();
        await using var tracker = ScriptedTracker.GroupWithOnePeer(peer.Port, "127.0.0.9");
        await using var storage = await StartTargetAsync(c => c with
        {
            TrackerServers = [new TrackerAddress("127.0.0.1", tracker.Port)],
            SyncWaitMsec = 20,
            SyncAckReplicas = 2,
            SyncAckTimeout = 5,
        });
        await storage.WaitForPeerStreamingAsync();

        await using var raw = await storage.ConnectAsync();
        byte[] content = "replicated"u8.ToArray();
        string name = NameOf(content);
        // Answered once the peer holds it (sync_ack_replicas = 2), so the peer got it by then.
        Assert.Equal(0, await ImportAsync(raw, name, content, MetadataCodec.Pack([new("k", "v")])));
        Assert.Contains(name, peer.Created); // (its -m file goes as SYNC_UPDATE_FILE, as any metadata file)
    }
}
