using System.Text;
using FastDfs.Protocol;

namespace FastDfs.Storage.Tests;

/// <summary>Malformed frames: each is refused at once, and the server still serves a valid request afterwards.</summary>
public class BadInputTests
{
    private static async Task AssertStillServes(TestStorage storage)
    {
        string name = await storage.UploadAsync(Encoding.ASCII.GetBytes("still alive"));
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        Assert.Equal(0, status);
        Assert.Equal("still alive", Encoding.ASCII.GetString(body));
    }

    [Theory]
    [InlineData(FdfsCommand.UploadFile, -1L)]
    [InlineData(FdfsCommand.DownloadFile, -(1L << 62))]
    [InlineData(FdfsCommand.DownloadFile, 1L << 62)]
    [InlineData(FdfsCommand.DeleteFile, 1L << 32)]
    [InlineData(FdfsCommand.SetMetadata, 1L << 40)]
    [InlineData(FdfsCommand.GetMetadata, 300_000L)]
    [InlineData(FdfsCommand.QueryFileInfo, 1L << 62)]
    [InlineData(FdfsCommand.RegenerateAppenderFilename, 1L << 62)]
    [InlineData(FdfsCommand.TruncateFile, 1L << 62)]
    public async Task Negative_or_absurd_length_is_refused_at_once(FdfsCommand command, long declared)
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            await client.SendAsync(command, [], declaredLength: declared);
            var (status, _) = await client.ReceiveAsync();
            Assert.Equal(Errno.EINVAL, status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        await AssertStillServes(storage);
    }

    [Fact]
    public async Task Upload_length_inconsistent_with_file_size_is_refused_at_once()
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            var body = Requests.Upload(new byte[10], "txt");
            await client.SendAsync(FdfsCommand.UploadFile, body[..15], declaredLength: 1L << 62);
            var (status, _) = await client.ReceiveAsync();
            Assert.Equal(Errno.EINVAL, status);
        }

        await AssertStillServes(storage);
    }

    [Fact]
    public async Task Silent_and_half_sent_connections_are_closed_after_network_timeout_but_a_served_one_may_idle()
    {
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { NetworkTimeout = 2 });
        await using var silent = await storage.ConnectAsync();
        await using var halfHeader = await storage.ConnectAsync();
        await halfHeader.SendRawAsync([0, 0, 0, 0, 0]);
        await using var served = await storage.ConnectAsync();
        Assert.Equal(0, (await served.RequestAsync(FdfsCommand.ActiveTest, [])).Status);

        var started = DateTime.UtcNow;
        Assert.True(await silent.IsClosedByServerAsync());
        Assert.True(await halfHeader.IsClosedByServerAsync());
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 1, 8);

        // As stock: a connection that was served keeps waiting for its next request (pools, sync peers).
        await Task.Delay(1000);
        Assert.Equal(0, (await served.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
        await AssertStillServes(storage);
    }

    [Fact]
    public async Task A_declared_huge_upload_is_answered_enospc_at_once_and_closed()
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            long size = 1L << 62;
            var fixedPart = new byte[Protocol.Messages.UploadFileRequest.FixedSize];
            new Protocol.Messages.UploadFileRequest(-1, size, "bin").Write(fixedPart);
            await client.SendAsync(FdfsCommand.UploadFile, fixedPart, declaredLength: fixedPart.Length + size);
            await client.SendRawAsync(new byte[4096]); // the client starts sending; the storage does not wait for the rest
            var (status, _) = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(Errno.ENOSPC, status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        await AssertStillServes(storage);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(16)]
    [InlineData(200)]
    public async Task Unknown_command_is_EINVAL_and_closes(byte command)
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            await client.SendAsync((FdfsCommand)command, [1, 2, 3]);
            var (status, _) = await client.ReceiveAsync();
            Assert.Equal(Errno.EINVAL, status);
            Assert.True(await client.IsClosedByServerAsync());
        }

        await AssertStillServes(storage);
    }

    [Fact]
    public async Task Truncated_bodies_and_half_headers_do_not_hurt_the_server()
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            // Declares a 60-byte download request, sends 20 bytes and hangs up.
            await client.SendAsync(FdfsCommand.DownloadFile, new byte[20], declaredLength: 60);
        }

        await using (var client = await storage.ConnectAsync())
        {
            await client.SendRawAsync([0, 0, 0]);
        }

        await using (var client = await storage.ConnectAsync())
        {
            // Upload fixed part only, content missing.
            await client.SendAsync(FdfsCommand.UploadFile, Requests.Upload(new byte[100], "txt")[..20], declaredLength: 115);
        }

        await AssertStillServes(storage);
    }

    [Fact]
    public async Task Name_with_nul_and_junk_is_served_like_stock()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync(Encoding.ASCII.GetBytes("nul"));
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name + "\0/../../junk"));
        Assert.Equal(0, status);
        Assert.Equal("nul", Encoding.ASCII.GetString(body));
    }
}
