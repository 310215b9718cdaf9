using System.IO.Hashing;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests;

public class LayoutAndStreamingTests
{
    [Fact]
    public async Task First_start_creates_256x256_dirs_and_stock_state_files()
    {
        await using var storage = await TestStorage.StartAsync(subdirs: 256);
        string data = Path.Combine(storage.BasePath, "data");
        Assert.True(Directory.Exists(Path.Combine(data, "00", "00")));
        Assert.True(Directory.Exists(Path.Combine(data, "FF", "FF")));
        Assert.True(Directory.Exists(Path.Combine(data, "7A", "C3")));
        Assert.Equal(256, Directory.GetDirectories(data).Length - (Directory.Exists(Path.Combine(data, "sync")) ? 1 : 0));
        Assert.Equal(256, Directory.GetDirectories(Path.Combine(data, "FF")).Length);

        var flag = File.ReadAllLines(Path.Combine(data, ".data_init_flag")).Select(l => l.Split('=')[0]).ToArray();
        Assert.Equal(
            ["storage_join_time", "sync_old_done", "sync_src_server", "sync_until_timestamp", "last_ip_addr", "last_server_port",
             "current_trunk_file_id", "trunk_last_compress_time", "trunk_binlog_compress_stage", "store_path_mark0"], flag);
        string vars = File.ReadAllText(Path.Combine(data, ".fastdfs_vars"));
        string mark = vars.Trim()["store_path_mark=".Length..];
        Assert.Equal(75, mark.Length);
        Assert.Contains("store_path_mark0=" + mark, File.ReadAllLines(Path.Combine(data, ".data_init_flag")));
        var record = FdfsBase64.Decode(mark);
        Assert.Equal("127.0.0.1", FixedString.Read(record.AsSpan(0, 46)));

        Assert.True(File.Exists(Path.Combine(data, "sync", "binlog.000")));
        Assert.Equal("current_write=0\ncurrent_compress=0\n", File.ReadAllText(Path.Combine(data, "sync", "binlog_index.dat")));
    }

    [Fact]
    public async Task Restart_keeps_files_counters_and_round_robin_state()
    {
        await using var storage = await TestStorage.StartAsync();
        var content = Encoding.ASCII.GetBytes("persist me");
        string name = await storage.UploadAsync(content);
        await using (var client = await storage.ConnectAsync())
        {
            Assert.Equal(0, (await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name))).Status);
        }

        await storage.RestartAsync();
        var stat = File.ReadAllLines(Path.Combine(storage.BasePath, "data", "storage_stat.dat"));
        Assert.Equal("total_upload_count=1", stat[0]);
        Assert.Equal("success_upload_count=1", stat[1]);
        Assert.Equal("dist_write_file_count=1", stat[^1]);
        Assert.StartsWith("dist_path_index_high=", stat[^3]);

        await using (var client = await storage.ConnectAsync())
        {
            var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
            Assert.Equal(0, status);
            Assert.Equal(content, body);
        }

        string second = await storage.UploadAsync(content);
        Assert.NotEqual(name, second);
        await storage.RestartAsync();
        stat = File.ReadAllLines(Path.Combine(storage.BasePath, "data", "storage_stat.dat"));
        Assert.Equal("total_upload_count=2", stat[0]);
        Assert.Contains("success_download_count=2", stat);
        Assert.Contains("dist_write_file_count=2", stat);
        Assert.Equal(2, storage.BinlogLines().Count(l => l.Contains(" C ")));
    }

    /// <summary>A deterministic stream of bytes that is never materialised as one array.</summary>
    internal sealed class GeneratedStream(long length) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) * 31 >> 3);
            }

            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static IEnumerable<string> StoredFiles(string basePath) =>
        Directory.EnumerateFiles(Path.Combine(basePath, "data"), "*", SearchOption.AllDirectories)
            .Where(p => !p.Contains(Path.DirectorySeparatorChar + "sync" + Path.DirectorySeparatorChar) &&
                        Path.GetDirectoryName(p) != Path.Combine(basePath, "data"));

    [Fact]
    public async Task Dropped_upload_leaves_no_file_and_no_temp_file()
    {
        await using var storage = await TestStorage.StartAsync();
        await using (var client = await storage.ConnectAsync())
        {
            var header = new byte[ProtocolConstants.HeaderSize + UploadFileRequest.FixedSize];
            new PacketHeader(UploadFileRequest.FixedSize + 1_000_000, FdfsCommand.UploadFile).WriteTo(header);
            new UploadFileRequest(-1, 1_000_000, "bin").Write(header.AsSpan(ProtocolConstants.HeaderSize));
            await client.SendRawAsync(header);
            await client.SendRawAsync(new byte[300_000]);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!OpenFiles.PendingUnder(storage.BasePath).Any() && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, storage.Timeout);
            }

            // Being received: one file without a stored name.
            Assert.Single(OpenFiles.PendingUnder(storage.BasePath));
            Assert.DoesNotContain(StoredFiles(storage.BasePath), f => !Path.GetFileName(f).StartsWith('.'));
        }

        var until = DateTime.UtcNow.AddSeconds(20);
        while ((OpenFiles.PendingUnder(storage.BasePath).Any() || StoredFiles(storage.BasePath).Any()) && DateTime.UtcNow < until)
        {
            await Task.Delay(20, storage.Timeout);
        }

        Assert.Empty(OpenFiles.PendingUnder(storage.BasePath));
        Assert.Empty(StoredFiles(storage.BasePath));
        Assert.Empty(storage.BinlogLines());
        Assert.Equal(44, (await storage.UploadAsync([1, 2, 3])).Length);
    }
}
