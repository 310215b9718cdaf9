using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary><c>storage_trunk.dat</c> (snapshot + binlog tail at start-up) and trunk binlog compaction with backups.</summary>
public sealed class TrunkSnapshotTests
{
    private static List<TrunkBlock> Ordered(IEnumerable<TrunkBlock> blocks) => [.. blocks.OrderBy(b => (b.File.TrunkId, b.Offset))];

    /// <summary>Allocations and frees in a random order; returns the live slots.</summary>
    private static List<TrunkBlock> Churn(TrunkTestBed bed, int seed, int operations, List<TrunkBlock>? live = null)
    {
        var random = new Random(seed);
        live ??= [];
        for (int i = 0; i < operations; i++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int index = random.Next(live.Count);
                bed.Free(live[index]);
                live.RemoveAt(index);
            }
            else
            {
                live.Add(bed.Store(random.Next(1, 20_000)));
            }
        }

        return live;
    }

    [Fact]
    public void Snapshot_CoversTheBinlogUpToItsOffset_StartUpReplaysOnlyTheTail()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(trunkFileSize: 1 << 20, merge: true));
        var live = Churn(bed, 1, 300);
        Assert.True(bed.Manager.SaveSnapshot());
        string snapshot = Path.Combine(bed.BasePath, "data", "storage_trunk.dat");
        string binlog = Path.Combine(bed.BasePath, "data", "trunk", "binlog");
        var lines = File.ReadAllLines(snapshot);
        long covered = long.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new FileInfo(binlog).Length, covered);
        Assert.Equal(Ordered(bed.Manager.FreeBlocks(0)), Ordered(lines.Skip(1).Select(l => Parse(l).Block)));
        Assert.All(lines.Skip(1), l => Assert.Equal('A', Parse(l).Op));

        Churn(bed, 2, 100, live);
        var expected = Ordered(bed.Manager.FreeBlocks(0));

        // The covered part of the binlog is not read again: blank it out (same length) and the start-up still agrees.
        var bytes = File.ReadAllBytes(binlog);
        for (int i = 0; i < covered; i++)
        {
            bytes[i] = bytes[i] == (byte)'\n' ? (byte)'\n' : (byte)'#';
        }

        File.WriteAllBytes(binlog, bytes);
        using var reopened = bed.Reopen();
        Assert.Equal(expected, Ordered(reopened.Manager.FreeBlocks(0)));
    }

    [Fact]
    public void A_binlog_record_of_a_store_path_this_storage_does_not_have_is_skipped()
    {
        // Found by the session fuzzer: a member's TRUNK_SYNC_BINLOG line naming store path 7 of a one-path storage stopped
        // the trunk space from loading (IndexOutOfRangeException) for every later request.
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(trunkFileSize: 1 << 20));
        Churn(bed, 2, 100);
        var expected = Ordered(bed.Manager.FreeBlocks(0));
        File.AppendAllText(Path.Combine(bed.BasePath, "data", "trunk", "binlog"), "1795479600 A 7 0 0 1 0 256\n1795479600 D 0 9 9 1 -5 0\n");
        using var reopened = bed.Reopen();
        Assert.Equal(expected, Ordered(reopened.Manager.FreeBlocks(0)));
    }

    [Fact]
    public void ReloadFromBinlog_DeletesTheSnapshot_AndASnapshotBeyondTheBinlogIsIgnored()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(trunkFileSize: 1 << 20));
        Churn(bed, 3, 200);
        var expected = Ordered(bed.Manager.FreeBlocks(0));
        string snapshot = Path.Combine(bed.BasePath, "data", "storage_trunk.dat");

        // A snapshot claiming more binlog than there is (not ours) is ignored: the whole binlog is replayed.
        File.WriteAllText(snapshot, "999999999\n1 A 0 0 0 1 0 256\n");
        var reopened = bed.Reopen();
        Assert.Equal(expected, Ordered(reopened.Manager.FreeBlocks(0)));

        Assert.True(reopened.Manager.SaveSnapshot());
        reopened.Settings = reopened.Settings with { InitReloadFromBinlog = true };
        using var reloaded = reopened.Reopen();
        Assert.False(File.Exists(snapshot));
        Assert.Equal(expected, Ordered(reloaded.Manager.FreeBlocks(0)));
    }

    [Fact]
    public void Compaction_ReplacesTheBinlogByTheFreeSpace_KeepsBackups_AndReplaysAlone()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(trunkFileSize: 1 << 20, merge: true));
        var live = Churn(bed, 4, 400);
        var expected = Ordered(bed.Manager.FreeBlocks(0));
        string binlog = Path.Combine(bed.BasePath, "data", "trunk", "binlog");
        int linesBefore = File.ReadAllLines(binlog).Length;

        Assert.True(bed.Manager.Compact(maxBackups: 2));
        Assert.Equal(linesBefore, File.ReadAllLines(Assert.Single(bed.Binlog.Backups())).Length);
        for (int i = 0; i < 2; i++)
        {
            bed.Time.Advance(TimeSpan.FromSeconds(1)); // backups are named by the second
            Assert.True(bed.Manager.Compact(maxBackups: 2));
        }

        var lines = File.ReadAllLines(binlog);
        Assert.True(lines.Length < linesBefore, $"{lines.Length} lines after compaction, {linesBefore} before");
        Assert.Equal(expected, Ordered(lines.Select(l => Parse(l).Block)));
        Assert.Equal(2, bed.Binlog.Backups().Count); // the newest trunk_binlog_max_backups

        // The snapshot covers the whole compacted binlog; without it the compacted binlog alone gives the same space.
        string snapshot = Path.Combine(bed.BasePath, "data", "storage_trunk.dat");
        Assert.Equal(new FileInfo(binlog).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllLines(snapshot)[0]);
        File.Delete(snapshot);
        var reopened = bed.Reopen();
        Assert.Equal(expected, Ordered(reopened.Manager.FreeBlocks(0)));

        // Slots of a trunk file with no free block left are still freed after the compaction.
        foreach (var slot in live)
        {
            reopened.Free(slot);
        }

        Assert.Equal(reopened.Manager.GetStats().TotalBytes, reopened.Manager.GetStats().FreeBytes);
        reopened.Manager.Dispose();
    }

    [Theory]
    [InlineData("2026-01-01T01:00:00", "03:00", 86400, "2026-01-01T03:00:00")]
    [InlineData("2026-01-01T04:00:00", "03:00", 86400, "2026-01-02T03:00:00")]
    [InlineData("2026-01-01T04:10:00", "03:00", 3600, "2026-01-01T05:00:00")]
    [InlineData("2026-01-01T01:10:00", "03:00", 3600, "2026-01-01T02:00:00")]
    [InlineData("2026-01-01T03:00:00", "03:00", 86400, "2026-01-01T03:00:00")]
    public void CompactionSchedule_IsTheTimeBaseGrid(string now, string timeBase, int interval, string expected)
    {
        Assert.Equal(DateTime.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            TimeBaseSchedule.FirstRun(DateTime.Parse(now, System.Globalization.CultureInfo.InvariantCulture), timeBase, interval));
    }

    [Fact]
    public async Task TrunkStorage_CompactsOnDemand_WritesTheSnapshotOnStop_AndRestartsFromIt()
    {
        var storage = await TrunkSessionTests.StartTrunkStorageAsync();
        try
        {
            var files = new Dictionary<string, byte[]>();
            async Task UploadSomeAsync(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    var content = new byte[Random.Shared.Next(1, 5000)];
                    Random.Shared.NextBytes(content);
                    files[await storage.UploadAsync(content, "bin")] = content;
                }
            }

            async Task DeleteEveryThirdAsync()
            {
                foreach (var name in files.Keys.Where((_, i) => i % 3 == 0).ToList())
                {
                    await using var deleter = await storage.ConnectAsync();
                    Assert.Equal(0, (await deleter.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(name))).Status);
                    files.Remove(name);
                }
            }

            await UploadSomeAsync(40);
            await DeleteEveryThirdAsync();
            Assert.True(storage.Server.Context.Trunk.CompactNow());
            Assert.True(storage.Server.Context.InitFlag.TrunkLastCompressTime > 0);
            await UploadSomeAsync(40);
            await DeleteEveryThirdAsync();

            string snapshot = Path.Combine(storage.BasePath, "data", "storage_trunk.dat");
            File.Delete(snapshot);
            await storage.RestartAsync(); // a clean stop of the trunk server writes the snapshot
            Assert.True(File.Exists(snapshot));
            TrunkSessionTests.EnableTrunk(storage);
            await UploadSomeAsync(40);

            var slots = files.Keys.Select(n => FileNameCodec.Decode(n).Trunk!.Value).OrderBy(s => (s.TrunkId, s.Offset)).ToList();
            for (int i = 1; i < slots.Count; i++)
            {
                Assert.True(slots[i - 1].TrunkId != slots[i].TrunkId || slots[i - 1].Offset + slots[i - 1].AllocSize <= slots[i].Offset, $"{slots[i - 1]} overlaps {slots[i]}");
            }

            await using var client = await storage.ConnectAsync();
            foreach (var (name, content) in files)
            {
                var (status, body) = await client.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(name));
                Assert.Equal(0, status);
                Assert.Equal(content, body);
            }
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    private static TrunkBinlogRecord Parse(string line)
    {
        Assert.True(TrunkBinlogRecord.TryParse(line, out var record), line);
        return record;
    }
}
