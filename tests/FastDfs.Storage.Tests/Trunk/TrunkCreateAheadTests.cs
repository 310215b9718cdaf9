using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary>trunk_create_file_advance: trunk files created ahead until the free trunk space reaches the threshold.</summary>
public sealed class TrunkCreateAheadTests
{
    private const int TrunkFileSize = 1 << 20;

    [Fact]
    public void CreateAhead_CreatesTrunkFilesUntilTheFreeSpaceReachesTheThreshold_AndLogsThem()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(TrunkFileSize));
        Assert.Equal(3, bed.Manager.CreateAhead(threshold: 2 * TrunkFileSize + 1, storePathCount: 1));
        Assert.Equal(3, bed.Manager.GetStats().TrunkFileCount);
        Assert.Equal(3L * TrunkFileSize, bed.Manager.GetStats().FreeBytes);
        Assert.Equal(3, bed.BinlogLinesWithoutTime().Count(l => l.StartsWith('A')));

        // Enough free space: nothing more. Use some of it, and the next run tops it up again.
        Assert.Equal(0, bed.Manager.CreateAhead(2 * TrunkFileSize + 1, 1));
        bed.Store(TrunkFileSize - 24);
        bed.Store(TrunkFileSize - 24);
        Assert.Equal(2, bed.Manager.CreateAhead(2 * TrunkFileSize + 1, 1));
        Assert.Equal(5, bed.Manager.GetStats().TrunkFileCount);

        // The files are in use: a restart from the binlog knows them all, and allocation takes the created space.
        using var reopened = bed.Reopen();
        Assert.Equal(5, reopened.Manager.GetStats().TrunkFileCount);
        Assert.Equal(3L * TrunkFileSize, reopened.Manager.GetStats().FreeBytes);
        reopened.Store(1000);
        Assert.Equal(5, reopened.Manager.GetStats().TrunkFileCount);
    }

    [Fact]
    public void Schedule_IsDueOncePerGridPoint_AndOffWithoutAnInterval()
    {
        var schedule = new TimeBaseSchedule();
        var t = new DateTime(2026, 11, 25, 6, 30, 0, DateTimeKind.Local);
        Assert.False(schedule.IsDue(t, "02:00", 3600)); // next grid point 07:00
        Assert.False(schedule.IsDue(t.AddMinutes(29), "02:00", 3600));
        Assert.True(schedule.IsDue(t.AddMinutes(30), "02:00", 3600));
        Assert.False(schedule.IsDue(t.AddMinutes(31), "02:00", 3600));
        Assert.True(schedule.IsDue(t.AddMinutes(95), "02:00", 3600)); // 08:05: the 08:00 run, once
        Assert.False(schedule.IsDue(t.AddMinutes(96), "02:00", 3600));
        Assert.False(schedule.IsDue(t.AddDays(1), "02:00", 0));
    }
}

/// <summary>delete_unused_trunk_files: a trunk file whose every slot was freed is deleted, and its id never comes back.</summary>
public sealed class TrunkDeleteUnusedTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TrunkFileFreedEntirely_IsDeletedOnlyWithTheSetting(bool deleteUnused)
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(1 << 20, merge: true) with { DeleteUnusedTrunkFiles = deleteUnused });
        var a = bed.Store(1000);
        var b = bed.Store(5000);
        var file = a.File;
        Assert.True(bed.Files.Exists(file));
        bed.Free(a);
        Assert.True(bed.Files.Exists(file)); // b still lives in it
        bed.Free(b);
        Assert.Equal(!deleteUnused, bed.Files.Exists(file));
        Assert.Equal(deleteUnused ? 0 : 1, bed.Manager.GetStats().TrunkFileCount);

        // A restart agrees, and a new upload never gets the deleted file's id back.
        using var reopened = bed.Reopen();
        Assert.Equal(deleteUnused ? 0 : 1, reopened.Manager.GetStats().TrunkFileCount);
        var c = reopened.Store(1000);
        Assert.Equal(deleteUnused, c.File.TrunkId > file.TrunkId);
    }
}
