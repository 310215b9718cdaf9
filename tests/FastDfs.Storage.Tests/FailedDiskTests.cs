using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.TestSupport;

namespace FastDfs.Storage.Tests;

/// <summary>A store path whose disk fails while the storage runs is taken out of service; the other path goes on serving.</summary>
public class FailedDiskTests
{
    [Fact]
    public async Task A_disk_remounted_read_only_takes_its_path_out_of_service_until_it_is_writable_again()
    {
        using var small = SmallFileSystem.Mount(16);
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            StorePaths = [new StorePath(small.Path), new StorePath(c.BasePath)],
            StorePathCheckInterval = 1,
        });
        // No tracker: the small path may be used up to its last byte.
        storage.Server.Context.Parameters = Tracking.TrackerParameters.Default with { ReservedSpace = ReservedSpace.FromMegabytes(0) };
        string before = await storage.UploadAsync("before the failure"u8.ToArray(), "txt");
        Assert.All(storage.Server.Context.Paths.All, p => Assert.Null(p.Failure));

        small.Remount(readOnly: true);
        // The periodic check notices within its interval; the metrics and the trackers are told from the path's state.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (storage.Server.Context.Paths[0].Failure is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the read-only disk was not noticed");
            await Task.Delay(100);
        }

        Assert.Null(storage.Server.Context.Paths[1].Failure);
        Assert.Equal([true, false], storage.Server.Context.Paths.FailedPaths());
        await using var client = await storage.ConnectAsync();
        for (int i = 0; i < 10; i++)
        {
            // Uploads, also those asking for the failed path, land on the other one.
            var (status, body) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload("while failed"u8.ToArray(), "txt", storePath: (sbyte)(i % 2)));
            Assert.Equal(0, status);
            Assert.StartsWith("M01/", StoredFileResponse.Parse(body).LogicName);
        }

        // What it holds can still be read while the disk allows it (a read-only remount does).
        if (before.StartsWith("M00/", StringComparison.Ordinal))
        {
            var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(before));
            Assert.Equal(0, status);
            Assert.Equal("before the failure"u8.ToArray(), body);
        }

        small.Remount(readOnly: false);
        Assert.Equal(0, storage.Server.Context.PathHealth.CheckAll());
        Assert.Null(storage.Server.Context.Paths[0].Failure);
        var (againStatus, againBody) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload("back"u8.ToArray(), "txt", storePath: 0));
        Assert.Equal(0, againStatus);
        Assert.StartsWith("M00/", StoredFileResponse.Parse(againBody).LogicName);
    }

    [Fact]
    public async Task A_disk_whose_mount_is_gone_fails_its_check_and_a_write_error_asks_for_a_check_at_once()
    {
        string other = Directory.CreateTempSubdirectory("fdfs-second-path-").FullName;
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            StorePaths = [new StorePath(c.BasePath), new StorePath(other)],
            StorePathCheckInterval = 3600, // only the immediate checks
        });

        // The mount vanished: its directories are gone.
        Directory.Move(Path.Combine(other, "data"), Path.Combine(other, "data.gone"));
        Assert.Equal(1, storage.Server.Context.PathHealth.CheckAll());
        Assert.Contains("gone", storage.Server.Context.Paths[1].Failure);
        Directory.Move(Path.Combine(other, "data.gone"), Path.Combine(other, "data"));
        Assert.Equal(0, storage.Server.Context.PathHealth.CheckAll());
    }

    [Fact]
    public async Task A_full_disk_is_not_a_failed_disk_and_a_failed_path_is_not_listed_for_a_recovering_member()
    {
        using var small = SmallFileSystem.Mount(8);
        string other = Directory.CreateTempSubdirectory("fdfs-second-path-").FullName;
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            StorePaths = [new StorePath(small.Path), new StorePath(other)],
            StorePathCheckInterval = 3600,
        });
        string filler = small.Fill();
        Assert.Equal(0, storage.Server.Context.PathHealth.CheckAll()); // full, not broken
        File.Delete(filler);

        // Path 1's disk vanishes: a member recovering its own path 1 must not get our (empty) view of it as the list.
        string name = await storage.UploadAsync("on the second path"u8.ToArray(), "txt");
        Directory.Move(Path.Combine(other, "data"), Path.Combine(other, "data.gone"));
        Assert.Equal(1, storage.Server.Context.PathHealth.CheckAll());
        await using var client = await storage.ConnectAsync();
        Assert.Equal(Errno.EAGAIN, (await client.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 1).ToArray())).Status);
        Assert.Equal(Errno.EAGAIN, (await client.RequestAsync(FetchFilesRequest.Command,
            new FetchFilesRequest(TestStorage.Group, ["M01/00/00/fwAAAWdXAAAAAAAAAAAAAA1234567.bin"]).ToArray())).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 0).ToArray())).Status);
        _ = name;
    }

    [Fact]
    public async Task Replicas_for_a_path_being_refilled_on_a_spare_are_refused_with_EAGAIN_and_sent_again_later()
    {
        // A delete or an append replicated while the spare is refilled would be undone by a copy fetched before it.
        string other = Directory.CreateTempSubdirectory("fdfs-second-path-").FullName;
        string spare = Directory.CreateTempSubdirectory("fdfs-spare-").FullName;
        await using var storage = await TestStorage.StartAsync(tweak: c => c with
        {
            StorePaths = [new StorePath(c.BasePath), new StorePath(other)],
            StorePathCheckInterval = 3600,
        });
        var paths = storage.Server.Context.Paths;
        paths.Replace(1, spare);
        paths.EnsureDirectories(1);
        await using var peer = await storage.ConnectAsync();
        const string onSpare = "M01/00/00/fwAAAWdXAAAAAAAAAAAAAA1234567.bin", onFirst = "M00/00/00/fwAAAWdXAAAAAAAAAAAAAA7654321.bin";
        Assert.Equal(Errno.EAGAIN, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, Sync.SyncBodies.Create(onSpare, "x"u8.ToArray(), 1_700_000_000))).Status);
        Assert.Equal(Errno.EAGAIN, (await peer.RequestAsync(FdfsCommand.SyncDeleteFile, Sync.SyncBodies.Delete(onSpare, 1_700_000_001))).Status);
        Assert.Equal(0, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, Sync.SyncBodies.Create(onFirst, "y"u8.ToArray(), 1_700_000_002))).Status);

        paths[1].Refilling = false;
        paths[1].SetFailure(null);
        Assert.Equal(0, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, Sync.SyncBodies.Create(onSpare, "x"u8.ToArray(), 1_700_000_000))).Status);
        Assert.True(File.Exists(Path.Combine(spare, "data", onSpare[4..])));
    }
}
