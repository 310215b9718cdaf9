using System.IO.Hashing;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests;

public class UploadDownloadTests
{
    private static readonly byte[] Hello = Encoding.ASCII.GetBytes("hello fastdfs\n");

    [Theory]
    [InlineData("txt")]
    [InlineData("")]
    [InlineData("abcdef")]
    [InlineData("tar.gz")]
    public async Task Upload_generates_a_stock_name_that_decodes_to_the_content(string ext)
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello, ext);

        Assert.Equal(ProtocolConstants.NormalLogicFilenameLength, name.Length);
        Assert.StartsWith("M00/", name);
        Assert.EndsWith(ext.Length == 0 ? "" : "." + ext, name);
        var info = FileNameCodec.Decode(name);
        Assert.Equal("127.0.0.1", info.Source);
        Assert.Equal(Hello.Length, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32(Hello), info.Crc32);
        Assert.False(info.IsAppender);
        var mtime = new DateTimeOffset(File.GetLastWriteTimeUtc(storage.FullPath(name))).ToUnixTimeSeconds();
        Assert.Equal(mtime, info.Timestamp);
        Assert.Equal(Hello, await File.ReadAllBytesAsync(storage.FullPath(name)));
    }

    [Fact]
    public async Task Appender_upload_sets_the_appender_flag_and_size_zero()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello, "dat", appender: true);
        var info = FileNameCodec.Decode(name);
        Assert.True(info.IsAppender);
        Assert.Equal(0, info.FileSize);
        Assert.Equal(Crc32.HashToUInt32(Hello), info.Crc32);
    }

    [Fact]
    public async Task Download_serves_whole_file_ranges_and_clamps_length()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        await using var client = await storage.ConnectAsync();

        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, status);
        Assert.Equal(Hello, body);

        (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, 6, 3));
        Assert.Equal(0, status);
        Assert.Equal("fas", Encoding.ASCII.GetString(body));

        (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, 5, 1000));
        Assert.Equal(0, status);
        Assert.Equal(Hello[5..], body);
    }

    [Fact]
    public async Task Download_offset_at_size_is_EINVAL_and_closes()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        await using var client = await storage.ConnectAsync();
        var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, Hello.Length));
        Assert.Equal(Errno.EINVAL, status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Zero_byte_file_downloads_as_empty_success()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync([], "bin");
        Assert.Equal(0, FileNameCodec.Decode(name).FileSize);
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, status);
        Assert.Empty(body);
    }

    [Fact]
    public async Task Missing_file_is_ENOENT_and_keeps_the_connection()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        string missing = name[..^8] + "0000.txt";
        await using var client = await storage.ConnectAsync();
        var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(missing));
        Assert.Equal(Errno.ENOENT, status);
        var (again, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, again);
        Assert.Equal(Hello, body);
    }

    [Fact]
    public async Task Wrong_group_for_a_file_not_here_is_ENOENT_and_for_a_malformed_name_EINVAL_and_closes_the_connection()
    {
        // A file moved here from another group and deleted since is asked for by its old ID: as any deleted file.
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        File.Delete(storage.FullPath(name));
        await using var client = await storage.ConnectAsync();
        Assert.Equal(Errno.ENOENT, (await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, group: "group2"))).Status);
        var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download("M00/ZZ/00/" + name[10..], group: "group2"));
        Assert.Equal(Errno.EINVAL, status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Another_groups_name_for_a_file_held_here_is_served()
    {
        // A file moved between groups keeps its old ID (ImportFileTests); a logic name is unique across groups.
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, group: "group2"));
        Assert.Equal(0, status);
        Assert.Equal(Hello, body);
    }

    [Fact]
    public async Task Directory_names_are_EISDIR_and_parent_escapes_are_EINVAL()
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download("M00/00/00/.."));
            Assert.Equal(Errno.EISDIR, status);
        }

        foreach (string bad in new[] { "M00/../../etc/passwd", "M00/00/00/../../../x", "../../../../etc/passwd", "M00/0a/00/abc", "M05/00/00/abcdefg" })
        {
            await using var client = await storage.ConnectAsync();
            var (status, _) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(bad));
            Assert.Equal(Errno.EINVAL, status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        string name = await storage.UploadAsync(Hello);
        Assert.Equal(44, name.Length);
    }

    [Theory]
    [InlineData("t/x", -1)]
    [InlineData("txt", 3)]
    [InlineData("txt", -2)]
    public async Task Upload_with_bad_ext_or_store_path_is_EINVAL(string ext, int storePath)
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            var (status, _) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload(Hello, ext, (sbyte)storePath));
            Assert.Equal(Errno.EINVAL, status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        Assert.Equal(44, (await storage.UploadAsync(Hello)).Length);
    }

    [Fact]
    public async Task Delete_removes_file_and_metadata_then_answers_ENOENT()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Hello);
        await using var client = await storage.ConnectAsync();
        var meta = Protocol.Metadata.MetadataCodec.Pack([new("a", "1")]);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'O', meta))).Status);
        Assert.True(File.Exists(storage.FullPath(name) + "-m"));

        var (status, body) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(name));
        Assert.Equal(0, status);
        Assert.Empty(body);
        Assert.False(File.Exists(storage.FullPath(name)));
        Assert.False(File.Exists(storage.FullPath(name) + "-m"));

        (status, _) = await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(name));
        Assert.Equal(Errno.ENOENT, status);
        var lines = storage.BinlogLines();
        Assert.Contains(lines, l => l.EndsWith(" D " + name));
        Assert.Contains(lines, l => l.EndsWith(" D " + name + "-m"));
    }

    [Fact]
    public async Task Active_test_answers_empty_and_with_body_is_EINVAL()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.ActiveTest, []);
        Assert.Equal(0, status);
        Assert.Empty(body);
        (status, _) = await client.RequestAsync(FdfsCommand.ActiveTest, [1]);
        Assert.Equal(Errno.EINVAL, status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Quit_closes_without_reply()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var client = await storage.ConnectAsync();
        await client.SendAsync(FdfsCommand.Quit, []);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Slave_upload_names_after_master_and_refuses_duplicates_and_missing_masters()
    {
        await using var storage = await TestStorage.StartAsync();
        string master = await storage.UploadAsync(Hello, "txt");
        await using var client = await storage.ConnectAsync();
        var content = Encoding.ASCII.GetBytes("big version");
        var (status, body) = await client.RequestAsync(FdfsCommand.UploadSlaveFile, Requests.Slave(master, "_big", "txt", content));
        Assert.Equal(0, status);
        string slave = StoredFileResponse.Parse(body).LogicName;
        Assert.Equal(FileNameCodec.BuildSlaveName(master, "_big", "txt"), slave);
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(slave)));

        (status, _) = await client.RequestAsync(FdfsCommand.UploadSlaveFile, Requests.Slave(master, "_big", "txt", content));
        Assert.Equal(Errno.EEXIST, status);

        string missingMaster = master[..^8] + "0000.txt";
        (status, _) = await client.RequestAsync(FdfsCommand.UploadSlaveFile, Requests.Slave(missingMaster, "_s", "", content));
        Assert.Equal(Errno.ENOENT, status);

        // The connection survived both errors; the file info of a slave computes its crc.
        (status, body) = await client.RequestAsync(FdfsCommand.QueryFileInfo, Requests.GroupAndName(slave));
        Assert.Equal(0, status);
        Assert.Equal(content.Length, Requests.ReadInt64(body, 0));
        Assert.Equal((long)(int)Crc32.HashToUInt32(content), Requests.ReadInt64(body, 16));

        (status, _) = await client.RequestAsync(FdfsCommand.UploadSlaveFile, Requests.Slave(master, "", "txt", content));
        Assert.Equal(Errno.EINVAL, status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Contains(storage.BinlogLines(), l => l.EndsWith(" C " + slave));
    }
}
