using System.IO.Hashing;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}

/// <summary>Large bodies stream through client and storage. Allocation counters are process-wide, so this
/// runs in a collection that no other test runs beside.</summary>
[Collection(SerialCollection.Name)]
public sealed class LargeFileTests
{
    [Fact]
    public async Task LargeUploadAndDownloadStreamWithoutBufferingTheFile()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await using var client = cluster.CreateClient();
        const long size = 48L * 1024 * 1024;
        var source = new PatternStream(size);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var id = await client.UploadAsync(source, size, "bin", ct: ct);
        long uploadAllocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        // Client and storage both run in this process: together they must stay far below the file size.
        Assert.True(uploadAllocated < size / 4, $"upload allocated {uploadAllocated} bytes for {size}");
        Assert.Equal(source.Crc32, FileNameCodec.Decode(id.LogicName).Crc32);

        var crc = new Crc32();
        before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.Equal(size, await client.DownloadAsync(id, new HashingStream(crc), ct: ct));
        long downloadAllocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(downloadAllocated < size / 4, $"download allocated {downloadAllocated} bytes for {size}");
        Assert.Equal(source.Crc32, crc.GetCurrentHashAsUInt32());
    }
}
