using System.IO.Hashing;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Storage.Tests;

public class AppenderMetadataTests
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData(0x2F00_0000_0005_4D30L)] // found by the session fuzzer: beyond what a file can hold
    [InlineData(0x0000_0100_0000_0000L)] // 1 TB: a sparse hole larger than the disk's free space
    public async Task A_truncate_growing_past_the_free_space_is_ENOSPC_and_changes_nothing(long size)
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Ascii("ABCDEFGHIJ"), "dat", appender: true);
        await using var client = await storage.ConnectAsync();

        Assert.Equal(Errno.ENOSPC, (await client.RequestAsync(FdfsCommand.TruncateFile, Requests.Truncate(name, size))).Status);
        Assert.Equal("ABCDEFGHIJ", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(storage.FullPath(name))));
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
        Assert.DoesNotContain(storage.BinlogLines(), l => l.Contains(" T ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_checksum_of_a_huge_appender_file_is_cut_off_by_network_timeout_and_the_server_serves_on()
    {
        // Found by the in-memory session fuzzer: a 300 GB sparse appender (a member's SYNC_TRUNCATE may grow one) made
        // QUERY_FILE_INFO read zeros for minutes after its client had gone.
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { NetworkTimeout = 1 });
        string name = await storage.UploadAsync(Ascii("ABCDEFGHIJ"), "dat", appender: true);
        using (var handle = File.OpenHandle(storage.FullPath(name), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(handle, 1L << 40);
        }

        await using var client = await storage.ConnectAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await client.SendAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name));
        Assert.True(await client.IsClosedByServerAsync(), "a reply came for a 1 TB checksum");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"closed only after {started.Elapsed}");

        // Without the checksum (stock's no-CRC flag) the same file is answered at once.
        await using var again = await storage.ConnectAsync();
        var (status, body) = await again.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name), status: 1);
        Assert.Equal(0, status);
        Assert.Equal(1L << 40, Requests.ReadInt64(body, 0));
    }

    [Fact]
    public async Task Append_modify_truncate_and_regenerate_follow_stock()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Ascii("ABCDEFGHIJ"), "dat", appender: true);
        await using var client = await storage.ConnectAsync();

        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(name, Ascii("KLMNO")))).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ModifyFile, Requests.Modify(name, 15, Ascii("pq")))).Status);
        Assert.Equal("ABCDEFGHIJKLMNOpq", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(storage.FullPath(name))));

        // Growing truncate fills with zeros (17 -> 30).
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.TruncateFile, Requests.Truncate(name, 30))).Status);
        var content = await File.ReadAllBytesAsync(storage.FullPath(name));
        Assert.Equal(30, content.Length);
        Assert.All(content[17..], b => Assert.Equal(0, b));

        var (status, body) = await client.RequestAsync(FdfsCommand.RegenerateAppenderFilename, Encoding.ASCII.GetBytes(name));
        Assert.Equal(0, status);
        string renamed = StoredFileResponse.Parse(body).LogicName;
        Assert.Equal(44, renamed.Length);
        Assert.Equal(name[..10], renamed[..10]);
        Assert.Equal(name[^7..], renamed[^7..]);
        var info = FileNameCodec.Decode(renamed);
        Assert.False(info.IsAppender);
        Assert.Equal(30, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32(content), info.Crc32);
        Assert.Equal("127.0.0.1", info.Source);
        Assert.False(File.Exists(storage.FullPath(name)));
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(renamed)));

        (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(Errno.ENOENT, status);

        var lines = storage.BinlogLines();
        string[] expected =
        [
            $"C {name}", $"A {name} 10 5", $"M {name} 15 2", $"T {name} 17 30", $"R {renamed} {name}",
        ];
        var ops = lines.Select(l => l[(l.IndexOf(' ') + 1)..]).ToArray();
        Assert.Equal(expected, ops);
        Assert.All(lines, l => Assert.Matches(@"^\d{10} [CAMTR] M00/", l));
        long mtime = new DateTimeOffset(File.GetLastWriteTimeUtc(storage.FullPath(renamed))).ToUnixTimeSeconds();
        Assert.Equal(mtime.ToString(), lines[3].Split(' ')[0]);
    }

    [Fact]
    public async Task Append_to_a_normal_file_is_EINVAL_and_to_a_missing_file_ENOENT()
    {
        await using var storage = await TestStorage.StartAsync();
        string normal = await storage.UploadAsync(Ascii("plain"));
        string appender = await storage.UploadAsync(Ascii("ABC"), "dat", appender: true);
        await using (var client = await storage.ConnectAsync())
        {
            string missing = appender[..^8] + "0000.dat";
            Assert.Equal(Errno.ENOENT, (await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(missing, Ascii("x")))).Status);
            Assert.Equal(Errno.EINVAL, (await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(normal, Ascii("x")))).Status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        await using (var client = await storage.ConnectAsync())
        {
            Assert.Equal(Errno.EINVAL, (await client.RequestAsync(FdfsCommand.ModifyFile, Requests.Modify(appender, 4, Ascii("x")))).Status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        await using (var client = await storage.ConnectAsync())
        {
            // offset == size acts as an append; size 0 appends change nothing.
            Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ModifyFile, Requests.Modify(appender, 3, Ascii("D")))).Status);
            Assert.Equal(0, (await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(appender, []))).Status);
            Assert.Equal(0, (await client.RequestAsync(FdfsCommand.TruncateFile, Requests.Truncate(appender, 4))).Status);
            Assert.Equal("ABCD", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(storage.FullPath(appender))));
        }

        Assert.DoesNotContain(storage.BinlogLines(), l => l.Contains(" T ") || l.Contains(" A "));
    }

    [Fact]
    public async Task File_info_is_40_bytes_with_a_sign_extended_crc()
    {
        await using var storage = await TestStorage.StartAsync();
        // Find content whose crc32 has bit 31 set.
        byte[] content = Ascii("x");
        for (int i = 0; Crc32.HashToUInt32(content) < 0x80000000u; i++)
        {
            content = Ascii("content " + i);
        }

        string name = await storage.UploadAsync(content);
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name));
        Assert.Equal(0, status);
        Assert.Equal(40, body.Length);
        Assert.Equal(content.Length, Requests.ReadInt64(body, 0));
        Assert.Equal(FileNameCodec.Decode(name).Timestamp, Requests.ReadInt64(body, 8));
        Assert.Equal(0xFFFFFFFFu, (uint)(Requests.ReadInt64(body, 16) >> 32));
        Assert.Equal(Crc32.HashToUInt32(content), (uint)Requests.ReadInt64(body, 16));
        Assert.Equal("127.0.0.1", FixedString.Read(body.AsSpan(24)));
        var parsed = FileInfoResponse.Parse(body);
        Assert.Equal(Crc32.HashToUInt32(content), parsed.Crc32);
    }

    [Fact]
    public async Task File_info_of_an_appender_computes_the_crc_unless_flag_bit0()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Ascii("ABCDEFGHIJ"), "dat", appender: true);
        await using var client = await storage.ConnectAsync();
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(name, Ascii("KLMNOPQRSTUVWX")))).Status);
        var (status, body) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name));
        Assert.Equal(0, status);
        Assert.Equal(24, Requests.ReadInt64(body, 0));
        Assert.Equal(Crc32.HashToUInt32(Ascii("ABCDEFGHIJKLMNOPQRSTUVWX")), (uint)Requests.ReadInt64(body, 16));

        (status, body) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name), status: 1);
        Assert.Equal(0, status);
        Assert.Equal(0, Requests.ReadInt64(body, 16));

        (status, _) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(name[..^8] + "0000.dat"));
        Assert.Equal(Errno.ENOENT, status);
    }

    [Fact]
    public async Task Metadata_overwrite_merge_and_delete_follow_section_10()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Ascii("data"));
        await using var client = await storage.ConnectAsync();

        var (status, _) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal(Errno.ENOENT, status);

        var first = MetadataCodec.Pack([new("zeta", "last"), new("alpha", "first"), new("mid", "dle")]);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'O', first))).Status);
        var (_, stored) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal("alpha\u0002first\u0001mid\u0002dle\u0001zeta\u0002last", Encoding.ASCII.GetString(stored));

        var merge = MetadataCodec.Pack([new("beta", "b"), new("alpha", "NEW")]);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'M', merge))).Status);
        (_, stored) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal("alpha\u0002NEW\u0001beta\u0002b\u0001mid\u0002dle\u0001zeta\u0002last", Encoding.ASCII.GetString(stored));

        // Empty 'M' is a no-op, empty 'O' deletes.
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'M', []))).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'O', []))).Status);
        (status, _) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal(Errno.ENOENT, status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'O', []))).Status);

        var meta = storage.BinlogLines().Where(l => l.Contains("-m")).Select(l => l.Split(' ')[1]).ToArray();
        Assert.Equal(["C", "U", "D"], meta);

        // Missing data file: ENOENT keeps the connection; a bad op flag is EINVAL and closes it.
        string missing = name[..^8] + "0000.txt";
        Assert.Equal(Errno.ENOENT, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(missing, 'O', first))).Status);
        Assert.Equal(Errno.EINVAL, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'X', first))).Status);
        Assert.True(await client.IsClosedByServerAsync());
    }
}
