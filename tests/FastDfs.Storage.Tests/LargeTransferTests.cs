using System.IO.Hashing;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests;

[Collection(NonParallelCollection.Name)]
public class LargeTransferTests
{
    [Fact]
    public async Task Large_upload_and_download_stream_without_buffering_the_file()
    {
        const long size = 64L << 20;
        await using var storage = await TestStorage.StartAsync();
        await using var client = await storage.ConnectAsync();
        var header = new byte[ProtocolConstants.HeaderSize + UploadFileRequest.FixedSize];
        new PacketHeader(UploadFileRequest.FixedSize + size, FdfsCommand.UploadFile).WriteTo(header);
        new UploadFileRequest(-1, size, "bin").Write(header.AsSpan(ProtocolConstants.HeaderSize));

        var crc = new Crc32();
        var buffer = new byte[128 * 1024];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await client.SendRawAsync(header);
        using (var source = new LayoutAndStreamingTests.GeneratedStream(size))
        {
            int n;
            while ((n = source.Read(buffer, 0, buffer.Length)) > 0)
            {
                crc.Append(buffer.AsSpan(0, n));
                await client.Stream.WriteAsync(buffer.AsMemory(0, n), storage.Timeout);
            }
        }

        var (status, body) = await client.ReceiveAsync();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Equal(0, status);
        string name = StoredFileResponse.Parse(body).LogicName;
        var info = FileNameCodec.Decode(name);
        Assert.Equal(size, info.FileSize);
        Assert.Equal(crc.GetCurrentHashAsUInt32(), info.Crc32);
        Assert.Equal(size, new FileInfo(storage.FullPath(name)).Length);
        Assert.True(allocated < size / 8, $"allocated {allocated} bytes for a {size}-byte upload");

        // And back, also streamed.
        long downloadBefore = GC.GetTotalAllocatedBytes(precise: true);
        await client.SendAsync(FdfsCommand.DownloadFile, Requests.Download(name));
        var responseHeader = new byte[ProtocolConstants.HeaderSize];
        await client.Stream.ReadExactlyAsync(responseHeader, storage.Timeout);
        var h = PacketHeader.Read(responseHeader);
        Assert.Equal(0, h.Status);
        Assert.Equal(size, h.BodyLength);
        var check = new Crc32();
        for (long left = size; left > 0;)
        {
            int n = await client.Stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), storage.Timeout);
            Assert.True(n > 0);
            check.Append(buffer.AsSpan(0, n));
            left -= n;
        }

        Assert.Equal(crc.GetCurrentHashAsUInt32(), check.GetCurrentHashAsUInt32());
        long downloadAllocated = GC.GetTotalAllocatedBytes(precise: true) - downloadBefore;
        Assert.True(downloadAllocated < size / 8, $"allocated {downloadAllocated} bytes for a {size}-byte download");
    }
}
