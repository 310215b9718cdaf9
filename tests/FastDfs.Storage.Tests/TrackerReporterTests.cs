using System.Net;
using System.Net.Sockets;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;

namespace FastDfs.Storage.Tests;

public class TrackerReporterTests
{
    private static StorageConfig WithTracker(StorageConfig config, int port) =>
        config with { TrackerServers = [new TrackerAddress("127.0.0.1", port)] };

    [Fact]
    public async Task Storage_joins_and_reports_with_stock_frames()
    {
        await using var tracker = new ScriptedTracker();
        await using var storage = await TestStorage.StartAsync(tweak: c => WithTracker(c, tracker.Port));
        await tracker.WaitForAsync(frames =>
            frames.Count(f => f.Command == FdfsCommand.StorageBeat) >= 2 &&
            frames.Any(f => f.Command == FdfsCommand.StorageReportDiskUsage) &&
            frames.Any(f => f.Command == FdfsCommand.StorageSyncReport), storage.Timeout);

        var frames = tracker.Frames.ToArray();
        Assert.Equal(
            [FdfsCommand.StorageParameterReq, FdfsCommand.StorageJoin, FdfsCommand.StorageSyncDestReq, FdfsCommand.StorageSyncNotify],
            frames.Take(4).Select(f => f.Command));
        Assert.Empty(frames[0].Body);

        var join = StorageJoinRequest.Parse(frames[1].Body);
        Assert.Equal(TestStorage.Group, join.GroupName);
        Assert.Equal(storage.Server.EndPoint.Port, join.StoragePort);
        Assert.Equal(1, join.StorePathCount);
        Assert.Equal(4, join.SubdirCountPerPath);
        Assert.True(join.InitFlag);
        Assert.Equal(0, join.Status);
        Assert.Equal("127.0.0.1", join.CurrentTrackerIp);
        Assert.Equal([$"127.0.0.1:{tracker.Port}"], join.Trackers);
        Assert.True(join.JoinTime > 0);

        Assert.Empty(frames[2].Body);
        Assert.Equal(SyncSourceBody.Size, frames[3].Body.Length);
        Assert.Equal("", SyncSourceBody.Parse(frames[3].Body).SrcId);

        var beats = frames.Where(f => f.Command == FdfsCommand.StorageBeat).Select(f => f.Body.Length).ToArray();
        Assert.All(beats, length => Assert.True(length is 0 or StorageStatCounters.Size));
        Assert.Equal(StorageStatCounters.Size, beats[0]);
        Assert.All(frames.Where(f => f.Command == FdfsCommand.StorageReportDiskUsage), f => Assert.Equal(16, f.Body.Length));
        var disk = frames.First(f => f.Command == FdfsCommand.StorageReportDiskUsage).Body;
        Assert.True(Requests.ReadInt64(disk, 0) > 0);
        Assert.Equal(20, frames.First(f => f.Command == FdfsCommand.StorageSyncReport).Body.Length);

        // No old data to fetch: the storage records sync_old_done=1.
        Assert.Contains("sync_old_done=1", File.ReadAllLines(Path.Combine(storage.BasePath, "data", ".data_init_flag")));

        // An upload changes the counters: the next beat carries them.
        await storage.UploadAsync([1, 2, 3]);
        int before = tracker.Frames.Count;
        await tracker.WaitForAsync(f => f.Skip(before).Any(x => x.Command == FdfsCommand.StorageBeat && x.Body.Length == StorageStatCounters.Size &&
            StorageStatCounters.Parse(x.Body)[StorageStatCounters.Counter.SuccessUploadCount] == 1), storage.Timeout);
    }

    [Fact]
    public async Task Reserved_space_from_the_tracker_refuses_uploads_with_ENOSPC()
    {
        await using var tracker = new ScriptedTracker(reservedSpace: "99.99%");
        await using var storage = await TestStorage.StartAsync(tweak: c => WithTracker(c, tracker.Port));
        await tracker.WaitForAsync(f => f.Any(x => x.Command == FdfsCommand.StorageJoin), storage.Timeout);
        await using var client = await storage.ConnectAsync();
        var (status, _) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload(new byte[1000], "bin"));
        Assert.Equal(Errno.ENOSPC, status);
        // ENOSPC keeps the connection and the body was consumed.
        var (again, _) = await client.RequestAsync(FdfsCommand.ActiveTest, []);
        Assert.Equal(0, again);
    }

    [Fact]
    public async Task Storage_serves_uploads_without_any_reachable_tracker()
    {
        var unused = new TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        int deadPort = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        await using var storage = await TestStorage.StartAsync(tweak: c => WithTracker(c, deadPort));
        string name = await storage.UploadAsync(Encoding.ASCII.GetBytes("no tracker"));
        Assert.Equal(44, name.Length);
    }
}
