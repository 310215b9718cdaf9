using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Storage.Tests;

/// <summary>Changes of one appender file (or one metadata file) at once, and changes cut off half-way.</summary>
public class AppenderIntegrityTests
{
    [Fact]
    public async Task Concurrent_appends_to_one_file_each_land_once()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync([], "log", appender: true);
        const int Clients = 8, Rounds = 3, ChunkSize = 300_000;
        using var halfSent = new Barrier(Clients);
        var tasks = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            await using var client = await storage.ConnectAsync();
            for (int r = 0; r < Rounds; r++)
            {
                // Every chunk is one repeated byte: a chunk written over another, or twice, shows in the content.
                var chunk = new byte[ChunkSize];
                Array.Fill(chunk, (byte)(c * Rounds + r + 1));
                var frame = Requests.Append(name, chunk);
                // All clients are in the middle of their body at once: each storage session has read the file's length.
                await client.SendAsync(FdfsCommand.AppendFile, frame[..100_000], declaredLength: frame.Length);
                halfSent.SignalAndWait(TimeSpan.FromSeconds(30));
                await Task.Delay(100);
                await client.SendRawAsync(frame[100_000..]);
                var (status, _) = await client.ReceiveAsync();
                Assert.Equal(0, status);
            }
        }));
        await Task.WhenAll(tasks);

        var content = await File.ReadAllBytesAsync(storage.FullPath(name));
        Assert.Equal(Clients * Rounds * ChunkSize, content.Length);
        var seen = new HashSet<byte>();
        for (int offset = 0; offset < content.Length; offset += ChunkSize)
        {
            var chunk = content.AsSpan(offset, ChunkSize);
            Assert.True(chunk.IndexOfAnyExcept(chunk[0]) < 0, $"chunk at {offset} is mixed");
            Assert.True(seen.Add(chunk[0]), $"chunk {chunk[0]} appears twice");
        }

        // The binlog describes the same sequence: each append starts where the previous one ended.
        var appends = storage.BinlogLines().Where(l => l.Contains(" A ", StringComparison.Ordinal)).Select(l => l.Split(' ')).ToList();
        Assert.Equal(Clients * Rounds, appends.Count);
        Assert.Equal(Enumerable.Range(0, Clients * Rounds).Select(i => (long)i * ChunkSize), appends.Select(a => long.Parse(a[3])).Order());
    }

    [Fact]
    public async Task Concurrent_metadata_merges_keep_every_item()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync("m"u8.ToArray());
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async c =>
        {
            await using var client = await storage.ConnectAsync();
            for (int r = 0; r < 10; r++)
            {
                var packed = MetadataCodec.Pack([new MetadataItem($"k{c}_{r}", $"v{c}")]);
                var (status, _) = await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'M', packed));
                Assert.Equal(0, status);
            }
        }));

        await using var reader = await storage.ConnectAsync();
        var (getStatus, body) = await reader.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal(0, getStatus);
        Assert.Equal(80, MetadataCodec.Parse(body).Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_append_or_modify_cut_off_mid_body_rolls_the_file_back(bool append)
    {
        await using var storage = await TestStorage.StartAsync();
        var original = Encoding.ASCII.GetBytes("0123456789");
        string name = await storage.UploadAsync(original, "dat", appender: true);
        var body = append
            ? Requests.Append(name, new byte[600_000])
            : Requests.Modify(name, 4, Enumerable.Repeat((byte)'x', 600_000).ToArray());
        await using (var client = await storage.ConnectAsync())
        {
            // The header and 60 % of the body (more than one 256 KB write), then the client dies.
            await client.SendAsync(append ? FdfsCommand.AppendFile : FdfsCommand.ModifyFile, body[..(body.Length * 6 / 10)], declaredLength: body.Length);
            await Task.Delay(300);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        byte[] content;
        while ((content = await ReadWhileItMayShrinkAsync(storage.FullPath(name))).Length != original.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the file stayed at {content.Length} bytes");
            await Task.Delay(50);
        }

        var lines = storage.BinlogLines();
        if (append)
        {
            Assert.Equal(original, content);
            Assert.DoesNotContain(lines, l => l.Contains(" A ", StringComparison.Ordinal));
        }
        else
        {
            // Bytes below the old size that the modify did overwrite stay, and are logged so that every member gets them.
            Assert.Equal("0123xxxxxx", Encoding.ASCII.GetString(content));
            Assert.Contains(lines, l => l.EndsWith($" M {name} 4 6", StringComparison.Ordinal));
        }

        // The next append lands right after the old content.
        await using var next = await storage.ConnectAsync();
        Assert.Equal(0, (await next.RequestAsync(FdfsCommand.AppendFile, Requests.Append(name, "AB"u8.ToArray()))).Status);
        Assert.Equal(12, new FileInfo(storage.FullPath(name)).Length);
    }

    /// <summary>The file's bytes; empty when the rollback shrank it while it was read (read again later).</summary>
    private static async Task<byte[]> ReadWhileItMayShrinkAsync(string path)
    {
        try
        {
            return await File.ReadAllBytesAsync(path);
        }
        catch (EndOfStreamException)
        {
            return [];
        }
    }
}
