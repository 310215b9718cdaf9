using FastDfs.Protocol;
using FastDfs.Tracker.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Tracker.Tests;

/// <summary>Malformed input never stops the tracker; every test ends with a valid request that succeeds.</summary>
public sealed class BadInputTests
{
    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(4L << 30)]
    [InlineData(256 * 1024 - 9)]
    public async Task AbsurdPackageLength_ClosesTheConnectionWithoutReply(long declared)
    {
        await using var tracker = await TestTracker.StartAsync();
        await using (var bad = await tracker.ConnectAsync())
        {
            await bad.SendAsync(FdfsCommand.QueryStoreWithoutGroupOne, ReadOnlyMemory<byte>.Empty, declared);
            Assert.True(await bad.IsClosedByServerAsync());
        }

        await using var good = await tracker.ConnectAsync();
        Assert.Empty(await good.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task SilentAndHalfSentConnections_AreClosedAfterNetworkTimeout_AServedOneMayIdle()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { NetworkTimeout = 2 });
        await using var silent = await tracker.ConnectAsync();
        await using var halfHeader = await tracker.ConnectAsync();
        await halfHeader.SendRawAsync([0, 0, 0, 0, 0]);
        await using var halfBody = await tracker.ConnectAsync();
        await halfBody.SendAsync(FdfsCommand.ServerListOneGroup, new byte[3], declaredLength: 16);
        await using var served = await tracker.ConnectAsync();
        Assert.Empty(await served.RequestOkAsync(FdfsCommand.ActiveTest));

        Assert.True(await silent.IsClosedByServerAsync());
        Assert.True(await halfHeader.IsClosedByServerAsync());
        Assert.True(await halfBody.IsClosedByServerAsync());
        await Task.Delay(1000, tracker.Ct);
        Assert.Empty(await served.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task ASysFilesLockHolderThatFallsSilentLosesTheLock()
    {
        // The lock expires by the tracker's clock, which the test moves: no sleeping through network_timeout.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var tracker = await TestTracker.StartAsync(c => c with { NetworkTimeout = 20 }, clock: clock);
        await using var storage = await tracker.ActiveStorageAsync();
        await using var first = await tracker.ConnectAsync();
        Assert.Empty(await first.RequestOkAsync(FdfsCommand.TrackerGetSysFilesStart));
        await using var second = await tracker.ConnectAsync();
        Assert.Equal(Errno.EBUSY, await second.StatusOfAsync(FdfsCommand.TrackerGetSysFilesStart));
        clock.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(Errno.EBUSY, await second.StatusOfAsync(FdfsCommand.TrackerGetSysFilesStart));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(await second.RequestOkAsync(FdfsCommand.TrackerGetSysFilesStart));
    }

    [Fact]
    public async Task LargestAcceptedPackage_IsReadAndAnswered()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ActiveTest, new byte[256 * 1024 - 10]));
        Assert.Empty(await client.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task UnknownCommand_IsEinval_AndTheConnectionStaysUsable()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync((FdfsCommand)250, new byte[] { 1, 2, 3 }));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.UploadFile));
        Assert.Equal(Errno.EINVAL, await client.StatusOfAsync(FdfsCommand.ActiveTest, new byte[1]));
        Assert.Empty(await client.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Theory]
    [InlineData(FdfsCommand.StorageBeat)]
    [InlineData(FdfsCommand.StorageReportDiskUsage)]
    [InlineData(FdfsCommand.StorageSyncReport)]
    [InlineData(FdfsCommand.StorageChangeStatus)]
    [InlineData(FdfsCommand.StorageSyncDestReq)]
    [InlineData(FdfsCommand.StorageSyncNotify)]
    [InlineData(FdfsCommand.StorageSyncDestQuery)]
    [InlineData(FdfsCommand.StorageFetchTrunkFid)]
    [InlineData(FdfsCommand.StorageReportTrunkFid)]
    [InlineData(FdfsCommand.StorageReportTrunkFree)]
    [InlineData(FdfsCommand.StorageReplicaChange)]
    public async Task StorageCommandBeforeJoin_IsEacces(FdfsCommand command)
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(Errno.EACCES, await client.StatusOfAsync(command));
        Assert.Empty(await client.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task MalformedStorageReports_AreEinval_AndTheStorageKeepsWorking()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync();
        var c = storage.Connection;
        Assert.Equal(Errno.EINVAL, await c.StatusOfAsync(FdfsCommand.StorageBeat, new byte[100]));
        Assert.Equal(Errno.EINVAL, await c.StatusOfAsync(FdfsCommand.StorageReportDiskUsage, new byte[32]));
        Assert.Equal(Errno.EINVAL, await c.StatusOfAsync(FdfsCommand.StorageSyncReport, new byte[21]));
        Assert.Equal(Errno.EINVAL, await c.StatusOfAsync(FdfsCommand.StorageJoin, new byte[100]));

        // The storage is still ACTIVE and its next beat is answered. The reply may carry a change notification
        // (the lone tracker elects itself leader in the background and then tells its storages), so it is
        // checked as a well-formed beat reply, not as "no change".
        await storage.BeatAsync();
        await using var client = await tracker.ConnectAsync();
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.1"));
    }

    [Fact]
    public async Task Quit_ClosesTheConnection_AndOtherConnectionsAreUnaffected()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var other = await tracker.ConnectAsync();
        await using (var quitter = await tracker.ConnectAsync())
        {
            await quitter.SendAsync(FdfsCommand.Quit, ReadOnlyMemory<byte>.Empty);
            Assert.True(await quitter.IsClosedByServerAsync());
        }

        Assert.Empty(await other.RequestOkAsync(FdfsCommand.ActiveTest));
    }

    [Fact]
    public async Task FragmentedFrames_AreReassembled()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var client = await tracker.ConnectAsync();
        var frame = new byte[10 + 16];
        new PacketHeader(16, FdfsCommand.ServerListOneGroup).WriteTo(frame);
        FixedString.Write(frame.AsSpan(10), "group9");
        foreach (var b in frame)
        {
            await client.SendRawAsync([b]);
        }

        var (header, body) = await client.ReceiveAsync();
        Assert.Equal(Errno.ENOENT, header.Status);
        Assert.Empty(body);
        Assert.Empty(await client.RequestOkAsync(FdfsCommand.ActiveTest));
    }
}
