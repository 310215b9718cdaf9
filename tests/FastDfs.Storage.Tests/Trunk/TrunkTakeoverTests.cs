using FastDfs.Protocol;
using FastDfs.Storage.Store;
using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary>Trunk file ids reserved with the tracker, and the takeover quarantine of the free space of a previous term.</summary>
public sealed class TrunkTakeoverTests
{
    [Fact]
    public async Task NamedTrunkServer_UsesOnlyIdsTheTrackerAccepted_AndNeverGoesBelowTheTrackerId()
    {
        string dir = Directory.CreateTempSubdirectory("fdfs-fid-").FullName;
        try
        {
            var flag = DataInitFlag.LoadOrCreate(dir, 1, 1);
            var ids = new TrunkFileIdSequence(flag, () => true);

            // Nothing reserved yet: no id (the upload becomes a normal file).
            var refused = await Assert.ThrowsAsync<ProtocolException>(() => ids.NextAsync(CancellationToken.None).AsTask());
            Assert.Equal(Errno.EAGAIN, refused.Status);

            // FETCH_TRUNK_FID answered 10 (a previous trunk server used or reserved up to 10).
            ids.StartTerm(10);
            Assert.Equal(10 + TrunkFileIdSequence.MinWindow, ids.ReservationWanted());
            ids.Reserved(10 + TrunkFileIdSequence.MinWindow);
            for (int i = 1; i <= TrunkFileIdSequence.MinWindow; i++)
            {
                Assert.Equal(10 + i, await ids.NextAsync(CancellationToken.None));
                Assert.Equal(10 + i, DataInitFlag.LoadOrCreate(dir, 1, 1).CurrentTrunkFileId); // saved before use
            }

            refused = await Assert.ThrowsAsync<ProtocolException>(() => ids.NextAsync(CancellationToken.None).AsTask());
            Assert.Equal(Errno.EAGAIN, refused.Status);
            // The window grows with what was used since the last reservation.
            Assert.Equal(14 + 2 * TrunkFileIdSequence.MinWindow, ids.ReservationWanted());

            // A new term with a lower tracker id (a stale tracker) never goes back; old reservations are dropped.
            ids.StartTerm(3);
            Assert.Equal(14, ids.Current);
            Assert.Equal(-1, ids.ReservedUpTo);
            await Assert.ThrowsAsync<ProtocolException>(() => ids.NextAsync(CancellationToken.None).AsTask());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task NotNamedByTheTracker_UsesLocalIds()
    {
        string dir = Directory.CreateTempSubdirectory("fdfs-fid-").FullName;
        try
        {
            var ids = new TrunkFileIdSequence(DataInitFlag.LoadOrCreate(dir, 1, 1), () => false);
            Assert.Equal(1, await ids.NextAsync(CancellationToken.None));
            Assert.Equal(2, await ids.NextAsync(CancellationToken.None));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Quarantine_AllocatesOnlyInNewTrunkFiles_ClaimsReplicas_AndLiftsIntoTheOldSpace()
    {
        using var bed = new TrunkTestBed(TrunkTestBed.StockSample(trunkFileSize: 1 << 20, merge: true));
        var before = bed.Store(1000);
        Assert.Equal(1, before.File.TrunkId);
        bed.Manager.BeginQuarantine();
        Assert.True(bed.Manager.InQuarantine);

        // The previous trunk server handed out [before.End, +4096) without our binlog knowing: never allocated here.
        var unknown = new TrunkBlock(before.File, (int)before.End, 4096);
        var during = Enumerable.Range(0, 50).Select(_ => bed.Store(3000)).ToList();
        Assert.All(during, slot => Assert.True(slot.File.TrunkId > 1, $"{slot} during the quarantine"));

        // Its replica arrives: the range is claimed (free here, quarantined), and stays out of the free space.
        Assert.True(bed.Manager.ClaimForReplica(unknown));
        Assert.DoesNotContain(bed.Manager.FreeBlocks(0), b => b.File.TrunkId == 1 && b.Offset < unknown.End && unknown.Offset < b.End);

        // A freed slot of the old file stays set apart too.
        bed.Free(before);
        Assert.All(Enumerable.Range(0, 5).Select(_ => bed.Store(100)), slot => Assert.NotEqual(1, slot.File.TrunkId));

        Assert.True(bed.Manager.LiftQuarantine());
        Assert.False(bed.Manager.InQuarantine);
        var after = bed.Store(100);
        Assert.Equal(1, after.File.TrunkId);
        Assert.False(after.Offset < unknown.End && unknown.Offset < after.End, $"{after} overlaps the claimed {unknown}");

        // The binlog replays to the same free space (the claim and the frees were logged).
        var expected = bed.Manager.FreeBlocks(0).OrderBy(b => (b.File.TrunkId, b.Offset)).ToList();
        using var reopened = bed.Reopen();
        Assert.Equal(expected, reopened.Manager.FreeBlocks(0).OrderBy(b => (b.File.TrunkId, b.Offset)).ToList());
    }
}
