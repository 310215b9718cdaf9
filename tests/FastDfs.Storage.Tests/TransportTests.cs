using FastDfs.Protocol;

namespace FastDfs.Storage.Tests;

/// <summary>
/// The storage's own socket transport: sendfile downloads (ranges, ordering behind buffered replies) and
/// the max_connections limit.
/// </summary>
public class TransportTests
{
    private static byte[] Content(int length, int seed)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        return content;
    }

    [Fact]
    public async Task Sendfile_ranges_return_the_exact_bytes_at_any_offset()
    {
        await using var storage = await TestStorage.StartAsync();
        var content = Content(3 * 1024 * 1024 + 77, 1);
        string name = await storage.UploadAsync(content, "bin");
        await using var client = await storage.ConnectAsync();

        // Whole file (several sendfile pieces), an odd offset to the end, a range inside one piece, and ranges around the
        // copied parts (a copied head of 64 KB and tail of 256 KB, sendfile between them from 128 KB on): all copied, head and
        // tail touching (128 KB, 320 KB), one byte left to sendfile, one byte short of the sendfile size.
        foreach (var (offset, length) in new[]
                 {
                     (0L, 0L), (12_345L, 0L), (1_000_001L, 200_000L), (content.Length - 70_000L, 70_000L), (3L, 131_071L),
                     (5L, 131_072L), (7L, 327_680L), (9L, 327_681L), (content.Length - 327_681L, 0L), (content.Length - 131_072L, 0L),
                 })
        {
            var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name, offset, length));
            Assert.Equal(0, status);
            long expected = length == 0 ? content.Length - offset : length;
            Assert.Equal(expected, body.Length);
            Assert.True(content.AsSpan((int)offset, (int)expected).SequenceEqual(body), $"bytes differ for offset {offset}, length {length}");
        }
    }

    [Fact]
    public async Task Pipelined_requests_get_their_replies_in_order_around_sendfile()
    {
        await using var storage = await TestStorage.StartAsync();
        var large = Content(700_000, 2); // above the copied head and tail: its middle goes with sendfile
        var small = Content(100, 3);
        string largeName = await storage.UploadAsync(large, "bin");
        string smallName = await storage.UploadAsync(small, "bin");
        await using var client = await storage.ConnectAsync();

        // One write holding: a small download (copied into the output buffer), a large one (sendfile
        // after that buffer is flushed), a missing file (a status reply) and the small one again.
        var frames = new MemoryStream();
        foreach (string name in new[] { smallName, largeName, smallName[..^4] + ".xyz", smallName })
        {
            var body = Requests.Download(name);
            var header = new byte[ProtocolConstants.HeaderSize];
            new PacketHeader(body.Length, FdfsCommand.DownloadFile).WriteTo(header);
            frames.Write(header);
            frames.Write(body);
        }

        await client.SendRawAsync(frames.ToArray());
        var first = await client.ReceiveAsync();
        var second = await client.ReceiveAsync();
        var third = await client.ReceiveAsync();
        var fourth = await client.ReceiveAsync();
        Assert.Equal(0, first.Status);
        Assert.Equal(small, first.Body);
        Assert.Equal(0, second.Status);
        Assert.True(large.AsSpan().SequenceEqual(second.Body));
        Assert.Equal(Errno.ENOENT, third.Status);
        Assert.Equal(0, fourth.Status);
        Assert.Equal(small, fourth.Body);
    }

    [Fact]
    public async Task Connections_beyond_max_connections_are_closed_and_a_freed_slot_is_usable()
    {
        await using var storage = await TestStorage.StartAsync(tweak: config => config with { MaxConnections = 2 });
        await using var first = await storage.ConnectAsync();
        await using var second = await storage.ConnectAsync();
        Assert.Equal(0, (await first.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
        Assert.Equal(0, (await second.RequestAsync(FdfsCommand.ActiveTest, [])).Status);

        await using (var third = await storage.ConnectAsync())
        {
            Assert.True(await third.IsClosedByServerAsync());
        }

        await first.DisposeAsync();
        // The server notices the close asynchronously: poll until a new connection is served.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await using var retry = await storage.ConnectAsync();
            try
            {
                Assert.Equal(0, (await retry.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
                break;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, storage.Timeout);
            }
        }

        Assert.Equal(0, (await second.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
    }
}
