using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tests.Trunk;

public sealed class TrunkAllocatorTests
{
    [Theory]
    [InlineData(1, 256)]
    [InlineData(14, 256)]
    [InlineData(232, 256)]
    [InlineData(233, 512)]
    [InlineData(256, 512)]
    [InlineData(300, 512)]
    [InlineData(1000, 1024)]
    public void AllocationSize_IsStocks(long fileSize, int expected)
    {
        Assert.Equal(expected, TrunkTestBed.StockSample().AllocSizeFor(fileSize));
    }

    [Fact]
    public void Settings_FromParameterReply_ApplyStockDefaultsAndAdjustments()
    {
        var values = new Dictionary<string, string>
        {
            ["use_trunk_file"] = "1", ["slot_min_size"] = "64", ["trunk_alloc_alignment_size"] = "512",
            ["trunk_file_size"] = "67108864", ["trunk_free_space_merge"] = "1",
        };
        var settings = TrunkSettings.FromParameters(values);
        Assert.True(settings.UseTrunkFile);
        Assert.Equal(512, settings.SlotMinSize); // raised to the alignment, as stock does
        Assert.Equal(16 << 20, settings.SlotMaxSize); // storage-side default: trunk_file_size / 4
        Assert.True(settings.FreeSpaceMerge);
        Assert.True(settings.FitsSlot((16 << 20) - 24));
        Assert.False(settings.FitsSlot((16 << 20) - 23));
    }

    /// <summary>The uploads and the delete of cluster B replayed: the trunk binlog is byte-identical (timestamps aside).</summary>
    [Fact]
    public void CapturedClusterSequence_IsReproducedLineForLine()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample());
        var first = bed.Store(19);
        Assert.Equal(new TrunkBlock(new TrunkFileKey(0, 0, 0, 1), 0, 256), first);
        Assert.Equal(["A 0 0 0 1 0 67108864", "D 0 0 0 1 0 67108864", "A 0 0 0 1 256 67108608", "A 0 0 0 1 0 256", "D 0 0 0 1 0 256"], bed.BinlogLinesWithoutTime());

        bed.Store(1000);
        var t300 = bed.Store(300);
        bed.Store(14);
        bed.Free(t300);
        bed.Store(1000);
        Assert.Equal(new TrunkBlock(t300.File, 1280, 256), bed.Store(1));
        Assert.Equal(3072, bed.Store(256).Offset);
        Assert.Equal(new TrunkBlock(t300.File, 1536, 256), bed.Store(232));
        Assert.Equal(3584, bed.Store(233).Offset);
        Assert.Equal(4096, bed.Store(14).Offset);

        string[] captured = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Trunk", "captured-trunk-binlog.txt"));
        Assert.Equal(captured.Select(l => l[(l.IndexOf(' ') + 1)..]), bed.BinlogLinesWithoutTime());
    }

    [Fact]
    public void NewTrunkFile_IsSparse()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample());
        var slot = bed.Store(100);
        Assert.Equal(64L << 20, bed.Files.Length(slot.File));
        Assert.True(bed.Files.DiskBytes(slot.File) < 1 << 20, $"a new 64 MB trunk file occupies {bed.Files.DiskBytes(slot.File)} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FreeSpaceMerge_JoinsNeighbours(bool merge)
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(merge: merge));
        var a = bed.Store(100);
        var b = bed.Store(100);
        var c = bed.Store(100);
        bed.Store(100);
        bed.Free(a);
        bed.Free(c);
        bed.Free(b);
        var blocks = bed.Manager.FreeBlocks(0).Where(x => x.Offset < 1024).OrderBy(x => x.Offset).ToList();
        if (merge)
        {
            Assert.Equal([new TrunkBlock(a.File, 0, 768)], blocks);
        }
        else
        {
            Assert.Equal([a, b, c], blocks);
        }

        // Either way a 768-byte request fits only after merging; the freed space is still handed out again.
        Assert.True(bed.Store(700).Offset == (merge ? 0 : 1024));
    }

    [Fact]
    public void DoubleFree_IsRefused_AndNothingIsHandedOutTwice()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample());
        var slot = bed.Store(100);
        bed.Free(slot);
        var e = Assert.Throws<Protocol.ProtocolException>(() => bed.Free(slot));
        Assert.Equal(Protocol.Errno.ENOENT, e.Status);
        Assert.Equal(slot, bed.Store(100));
        Assert.NotEqual(slot.Offset, bed.Store(100).Offset);
    }

    [Fact]
    public async Task FailedUpload_GivesItsSlotBack()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample());
        var slot = await bed.Manager.AllocateAsync(0, 124, CancellationToken.None);
        await bed.Manager.ConfirmAsync(slot, false, CancellationToken.None);
        Assert.Equal(slot, bed.Store(100));
    }

    /// <summary>
    /// Random alloc/free sequences (several seeds, merge on and off, small trunk files so many are created):
    /// live slots never overlap each other or free space, the bytes add up, and a restart rebuilds exactly
    /// the same free space from the binlog.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    public void RandomAllocFree_NeverOverlaps_AndSurvivesRestart(int seed, bool merge)
    {
        var random = new Random(seed);
        var settings = TrunkTestBed.StockSample(trunkFileSize: 1 << 20, merge: merge) with { SlotMaxSize = 128 << 10 };
        var bed = new TrunkTestBed(settings);
        try
        {
            var live = new List<TrunkBlock>();
            for (int step = 0; step < 3000; step++)
            {
                if (live.Count > 0 && random.Next(100) < 45)
                {
                    int index = random.Next(live.Count);
                    bed.Free(live[index]);
                    live.RemoveAt(index);
                }
                else
                {
                    long size = random.Next(4) == 0 ? random.Next(1, settings.SlotMaxSize - 24) : random.Next(1, 2000);
                    live.Add(bed.Store(size));
                }

                if (step % 500 == 499)
                {
                    AssertConsistent(bed, live);
                }
            }

            AssertConsistent(bed, live);
            var before = bed.Manager.FreeBlocks(0).OrderBy(b => (b.File.TrunkId, b.Offset)).ToList();
            bed = bed.Reopen();
            Assert.Equal(before, bed.Manager.FreeBlocks(0).OrderBy(b => (b.File.TrunkId, b.Offset)).ToList());
            for (int i = 0; i < 200; i++)
            {
                live.Add(bed.Store(random.Next(1, 5000)));
            }

            AssertConsistent(bed, live);
        }
        finally
        {
            bed.Dispose();
        }
    }

    [Fact]
    public async Task Restart_WithAnUnconfirmedWrittenSlot_DoesNotHandItOutAgain()
    {
        var bed = new TrunkTestBed(TrunkTestBed.StockSample());
        try
        {
            bed.Store(10);
            var slot = await bed.Manager.AllocateAsync(0, 124, CancellationToken.None);
            using (var handle = bed.Files.OpenWrite(slot.File))
            {
                TrunkFileStore.WriteHeader(handle, slot.Offset, new TrunkSlotHeader(TrunkSlotHeader.TypeRegular, slot.Size, 100, 1, 2, "123.txt"));
            }

            // Crash before the confirm: the binlog still lists the slot as free.
            bed = bed.Reopen();
            var next = bed.Store(100);
            Assert.True(next.Offset >= slot.End, $"slot {slot} was handed out again as {next}");
        }
        finally
        {
            bed.Dispose();
        }
    }

    private static void AssertConsistent(TrunkTestBed bed, List<TrunkBlock> live)
    {
        var all = live.Select(b => (Block: b, Free: false))
            .Concat(bed.Manager.FreeBlocks(0).Select(b => (Block: b, Free: true)))
            .OrderBy(x => x.Block.File.TrunkId).ThenBy(x => x.Block.Offset).ToList();
        for (int i = 1; i < all.Count; i++)
        {
            var (a, b) = (all[i - 1].Block, all[i].Block);
            if (a.File == b.File)
            {
                Assert.True(a.End <= b.Offset, $"overlap: {a} ({(all[i - 1].Free ? "free" : "live")}) and {b} ({(all[i].Free ? "free" : "live")})");
            }
        }

        var stats = bed.Manager.GetStats();
        Assert.Equal(stats.TotalBytes, all.Sum(x => (long)x.Block.Size));
        Assert.Equal(live.Sum(b => (long)b.Size), stats.UsedBytes);
    }
}
