using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Tracker.Tests;

/// <summary>
/// Spare storages (SPARE_STORAGE, 251): a storage without a group waits until a member of a group has been OFFLINE for
/// spare_storage_takeover_time; then the deciding tracker gives it that member's place and retires the member.
/// </summary>
public sealed class SpareStorageTests
{
    private const string SpareIp = "127.0.0.4";

    private static SpareStorageReport Spare(string wanted = "", int paths = 1, int subdirs = 256, long totalMb = 50_000, long freeMb = 50_000,
        SpareAssignment? claim = null) =>
        new(wanted, claim?.Group ?? "", claim?.ReplacedId ?? "", "", 23000, paths, subdirs, totalMb, freeMb);

    private static async Task<(byte Status, SpareAssignment Place)> ReportAsync(RawConnection spare, SpareStorageReport report)
    {
        var (status, body) = await spare.RequestAsync(SpareStorageReport.Command, report.ToArray());
        return (status, status == Errno.Ok ? SpareAssignment.Parse(body) : SpareAssignment.None);
    }

    private static async Task<StorageSyncStatus> SyncStatusAsync(RawConnection client) =>
        StorageSyncStatus.Parse(await client.RequestOkAsync(FdfsCommand.ServerStorageSyncStatus, Frames.Group("group1")));

    /// <summary>A tracker (fake clock, takeover after 600 s) with two ACTIVE members of group1: A = 127.0.0.2 and B = 127.0.0.3.</summary>
    private sealed class GroupOfTwo : IAsyncDisposable
    {
        public required TestTracker Tracker { get; init; }
        public required FakeTimeProvider Clock { get; init; }
        public required FakeStorage A { get; init; }
        public required FakeStorage B { get; init; }
        public required RawConnection Client { get; init; }

        /// <summary>B stops: its connection closes and the tracker has it OFFLINE.</summary>
        public async Task StopBAsync()
        {
            await B.DisposeAsync();
            await Tracker.WaitUntilAsync(async () => await Client.StatusOfStorageAsync("group1", "127.0.0.3") == StorageStatus.Offline, "B OFFLINE");
        }

        /// <summary><paramref name="time"/> passes on the tracker's clock, and A beats (it stays ACTIVE).</summary>
        public async Task PassAsync(TimeSpan time)
        {
            Clock.Advance(time);
            await A.BeatAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Tracker.DisposeAsync();
        }
    }

    private static async Task<GroupOfTwo> GroupOfTwoAsync(int takeover = 600)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // No heartbeat deadline: only the takeover time matters here.
        var tracker = await TestTracker.StartAsync(c => c with { SpareStorageTakeoverTime = takeover, CheckActiveInterval = 1_000_000 }, clock: clock);
        return new GroupOfTwo
        {
            Tracker = tracker,
            Clock = clock,
            A = await tracker.ActiveStorageAsync(localIp: "127.0.0.2", totalMb: 100_000, freeMb: 60_000),
            B = await tracker.ActiveStorageAsync(localIp: "127.0.0.3", totalMb: 100_000, freeMb: 60_000),
            Client = await tracker.ConnectAsync(),
        };
    }

    [Fact]
    public async Task A_spare_waits_while_the_group_is_whole_then_takes_the_place_of_a_member_missing_for_the_takeover_time()
    {
        await using var group = await GroupOfTwoAsync();
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await using var spare = await tracker.ConnectAsync(SpareIp);

        var (status, place) = await ReportAsync(spare, Spare());
        Assert.Equal(Errno.Ok, status);
        Assert.False(place.IsAssigned);
        var waiting = Assert.Single((await SyncStatusAsync(client)).Spares);
        Assert.Equal($"{SpareIp}:23000", waiting.Address);
        Assert.Equal("", waiting.AssignedGroup);

        // Both members up for longer than the takeover time: nothing happens.
        await group.PassAsync(TimeSpan.FromSeconds(700));
        await b.BeatAsync();
        Assert.False((await ReportAsync(spare, Spare())).Place.IsAssigned);

        // B stops: OFFLINE, but not for long enough yet.
        await group.StopBAsync();
        clock.Advance(TimeSpan.FromSeconds(599));
        Assert.False((await ReportAsync(spare, Spare())).Place.IsAssigned);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        clock.Advance(TimeSpan.FromSeconds(2));
        (status, place) = await ReportAsync(spare, Spare());
        Assert.Equal(Errno.Ok, status);
        Assert.Equal(new SpareAssignment("group1", "127.0.0.3"), place);
        Assert.Equal(StorageStatus.Deleted, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        var sync = await SyncStatusAsync(client);
        Assert.Equal($"retired: the spare storage {SpareIp}:23000 took its place", sync.Reasons["127.0.0.3"]);
        Assert.Equal(("group1", "127.0.0.3"), (sync.Spares.Single().AssignedGroup, sync.Spares.Single().ReplacedId));
        // Asked again (a lost reply, or telling the other trackers): the same place, nothing more retired.
        Assert.Equal(place, (await ReportAsync(spare, Spare(claim: place))).Place);
        Assert.Equal(place, (await ReportAsync(spare, Spare())).Place);
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.2"));

        // The spare joins group1 as a new member: it is no spare any more, and gets its copy from A.
        await using var joined = await tracker.JoinAsync(localIp: SpareIp, initFlag: true);
        Assert.Equal(StorageStatus.Init, joined.Joined.Status);
        Assert.Empty((await SyncStatusAsync(client)).Spares);
        var source = SyncSourceBody.Parse(await joined.Connection.RequestOkAsync(FdfsCommand.StorageSyncDestReq));
        Assert.Equal("127.0.0.2", source.SrcId);
        // A member that reports as a spare is refused.
        Assert.Equal(Errno.EEXIST, (await ReportAsync(spare, Spare())).Status);
    }

    [Fact]
    public async Task A_place_is_given_once_and_a_spare_keeps_the_one_it_was_given()
    {
        await using var group = await GroupOfTwoAsync();
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await group.StopBAsync();
        await group.PassAsync(TimeSpan.FromSeconds(601));
        await using var first = await tracker.ConnectAsync(SpareIp);
        var place = (await ReportAsync(first, Spare())).Place;
        Assert.Equal(new SpareAssignment("group1", "127.0.0.3"), place);

        // Another spare cannot claim that place, and the first cannot claim another one (A is ACTIVE anyway).
        await using var second = await tracker.ConnectAsync("127.0.0.5");
        Assert.Equal(Errno.EEXIST, (await ReportAsync(second, Spare(claim: place))).Status);
        Assert.False((await ReportAsync(second, Spare())).Place.IsAssigned);
        Assert.Equal(Errno.EEXIST, (await ReportAsync(first, Spare(claim: new("group1", "127.0.0.2")))).Status);
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.2"));
        Assert.Equal(place, (await ReportAsync(first, Spare())).Place);
    }

    [Fact]
    public async Task A_claim_is_checked_as_the_leader_checks_a_spare()
    {
        await using var group = await GroupOfTwoAsync();
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await group.StopBAsync();
        await group.PassAsync(TimeSpan.FromSeconds(601));
        await using var spare = await tracker.ConnectAsync(SpareIp);
        var claim = new SpareAssignment("group1", "127.0.0.3");
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, Spare(subdirs: 128, claim: claim))).Status);
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, Spare(totalMb: 99_000, freeMb: 39_000, claim: claim))).Status);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
        Assert.Equal(claim, (await ReportAsync(spare, Spare(claim: claim))).Place);
    }

    [Fact]
    public async Task With_a_cluster_secret_only_a_proven_connection_reports_a_spare()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { ClusterSecretKey = "s3cret" });
        await using var spare = await tracker.ConnectAsync(SpareIp);
        Assert.Equal(Errno.EPERM, (await ReportAsync(spare, Spare())).Status);
    }

    [Fact]
    public async Task A_spare_takes_no_place_it_does_not_fit()
    {
        await using var group = await GroupOfTwoAsync();
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await group.StopBAsync();
        await group.PassAsync(TimeSpan.FromSeconds(3600));

        await using var spare = await tracker.ConnectAsync(SpareIp);
        Assert.False((await ReportAsync(spare, Spare(wanted: "group2"))).Place.IsAssigned);    // another group only
        Assert.False((await ReportAsync(spare, Spare(subdirs: 128))).Place.IsAssigned);        // other directory layout
        // B held 40,000 MB of 100,000: a spare with less room and smaller disks does not fit.
        Assert.False((await ReportAsync(spare, Spare(totalMb: 99_000, freeMb: 39_000))).Place.IsAssigned);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // Without an ACTIVE member to copy from, no place is given either.
        await a.DisposeAsync();
        await tracker.WaitUntilAsync(async () => await client.StatusOfStorageAsync("group1", "127.0.0.2") == StorageStatus.Offline, "A OFFLINE");
        Assert.False((await ReportAsync(spare, Spare())).Place.IsAssigned);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
    }

    [Fact]
    public async Task With_takeover_time_0_spares_only_wait()
    {
        await using var group = await GroupOfTwoAsync(takeover: 0);
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await group.StopBAsync();
        await group.PassAsync(TimeSpan.FromDays(30));
        await using var spare = await tracker.ConnectAsync(SpareIp);
        Assert.False((await ReportAsync(spare, Spare())).Place.IsAssigned);
        Assert.Equal(StorageStatus.Offline, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
    }

    [Fact]
    public async Task A_claimed_place_is_taken_over_only_for_a_member_this_tracker_also_sees_missing()
    {
        await using var group = await GroupOfTwoAsync();
        var (tracker, clock, a, b, client) = (group.Tracker, group.Clock, group.A, group.B, group.Client);
        await using var spare = await tracker.ConnectAsync(SpareIp);

        // The place of a member that is ACTIVE here: refused.
        Assert.Equal(Errno.EBUSY, (await ReportAsync(spare, Spare(claim: new("group1", "127.0.0.3")))).Status);
        Assert.Equal(Errno.ENOENT, (await ReportAsync(spare, Spare(claim: new("group1", "127.0.0.9")))).Status);
        Assert.Equal(Errno.ENOENT, (await ReportAsync(spare, Spare(claim: new("group7", "127.0.0.3")))).Status);
        Assert.Equal(StorageStatus.Active, await client.StatusOfStorageAsync("group1", "127.0.0.3"));

        // Missing, but not for long enough here: "not yet" (the spare asks again).
        await group.StopBAsync();
        var (status, place) = await ReportAsync(spare, Spare(claim: new("group1", "127.0.0.3")));
        Assert.Equal((Errno.Ok, false), (status, place.IsAssigned));

        await group.PassAsync(TimeSpan.FromSeconds(601));
        // Not for a spare that asks for another group.
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, Spare(wanted: "group2", claim: new("group1", "127.0.0.3")))).Status);
        Assert.Equal(new SpareAssignment("group1", "127.0.0.3"), (await ReportAsync(spare, Spare(claim: new("group1", "127.0.0.3")))).Place);
        Assert.Equal(StorageStatus.Deleted, await client.StatusOfStorageAsync("group1", "127.0.0.3"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(SpareStorageReport.Size + 1)]
    public async Task A_malformed_report_is_refused_and_the_connection_keeps_serving(int length)
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var spare = await tracker.ConnectAsync(SpareIp);
        Assert.Equal(Errno.EINVAL, await spare.StatusOfAsync(SpareStorageReport.Command, new byte[length]));
        // A claim without the member it replaces, a port out of range, a group name that is not one, are refused as well.
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, new SpareStorageReport("grp\t1", "", "", "", 23000, 1, 256, 1, 1))).Status);
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, new SpareStorageReport("", "group1", "", "", 23000, 1, 256, 1, 1))).Status);
        Assert.Equal(Errno.EINVAL, (await ReportAsync(spare, new SpareStorageReport("", "", "", "", 70000, 1, 256, 1, 1))).Status);
        Assert.Equal(Errno.Ok, (await ReportAsync(spare, Spare())).Status);
    }
}
