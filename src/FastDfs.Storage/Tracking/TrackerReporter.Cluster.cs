using System.Globalization;
using System.Net;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Tracking;

/// <summary>
/// The tracker-cluster side of a report loop (spec 6.8, 6.10, 11.3, 14): storage ids, the announced address,
/// leader changes from flag 1, trunk servers only from the leader, CHANGE_STATUS toward a follower whose view
/// of us differs from the leader's, and NOTIFY_RESELECT_LEADER when two trackers claim leadership.
/// </summary>
internal sealed partial class TrackerReporter
{
    /// <summary>Our status as this tracker answered our JOIN.</summary>
    private StorageStatus _joinStatus;

    /// <summary>
    /// The leader's view of us last sent with CHANGE_STATUS on this connection (the storage then joins that tracker again):
    /// each view is pushed at most once, so a follower that does not take it is not asked on every beat. A later view is
    /// pushed too: a follower given the leader's WAIT_SYNC may have missed the source's OFFLINE, which is not repeated once
    /// the leader shows us ACTIVE (as stock, which checks again whenever the leader's list changes).
    /// </summary>
    private StorageStatus? _pushedView;

    private IPAddress AnnouncedOr(IPAddress connectedFrom) =>
        _config.AnnounceIp is { } announced && IPAddress.TryParse(announced, out var address) ? address : connectedFrom;

    private void Joined(StorageStatus status)
    {
        _joinStatus = status;
        coordinator.Claims.Forget(trackerIndex);
    }

    /// <summary>
    /// Whether the leader's view of us is further along than the follower's. Both views lag (the leader's comes with
    /// the last flag 4, the follower's JOIN answer is older still), and a follower that was pushed back from an
    /// available state into WAIT_SYNC/SYNCING stays there: no REPORT_STATUS follows once the copy is done (seen in a
    /// mixed cluster with a stock follower, and with stock storages in spec 12.5). Only forward pushes are sent; a
    /// follower that is ahead gets the later steps anyway, since sources report SYNCING/OFFLINE to every tracker.
    /// </summary>
    private static bool IsAhead(StorageStatus leaderView, StorageStatus followerView)
    {
        static int Rank(StorageStatus status) => status switch
        {
            StorageStatus.Init => 0,
            StorageStatus.WaitSync => 1,
            StorageStatus.Syncing => 2,
            _ when status.IsAvailable() => 3,
            _ => -1,
        };

        int leader = Rank(leaderView), follower = Rank(followerView);
        return leader < 0 || follower < 0 ? leaderView != followerView : leader > follower;
    }

    /// <summary>The follower's current view of us (GET_STATUS 71), or its JOIN answer when it cannot tell.</summary>
    private async Task<StorageStatus> FollowerViewAsync(TrackerConnection connection, CancellationToken stop)
    {
        byte[] host = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{ctx.SourceIp}:{ctx.Port}"));
        var body = new byte[ProtocolConstants.GroupNameMaxLen + host.Length];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), ctx.GroupName);
        host.CopyTo(body, ProtocolConstants.GroupNameMaxLen);
        var (status, reply) = await connection.RequestAsync(FdfsCommand.StorageGetStatus, body, stop).ConfigureAwait(false);
        return status == Errno.Ok && reply.Length == StorageBrief.Size ? StorageBrief.Parse(reply).Status : _joinStatus;
    }

    private bool IsThisTracker(StorageBrief? leader) =>
        leader is { } brief && brief.Port == tracker.Port && tracker.Hosts.Contains(brief.IpAddr);

    /// <summary>
    /// use_storage_id: our id is server_id from storage.conf (kept across address changes), else the tracker's
    /// answer to GET_SERVER_ID for our group and address.
    /// </summary>
    private async Task ResolveStorageIdAsync(TrackerConnection connection, CancellationToken stop)
    {
        var parameters = ctx.Parameters;
        if (!parameters.UseStorageId || ctx.StorageId is not null)
        {
            return;
        }

        string? id = _config.ServerId;
        if (id is null)
        {
            string host = string.Create(CultureInfo.InvariantCulture, $"{ctx.SourceIp}:{ctx.Port}");
            var body = new byte[ProtocolConstants.GroupNameMaxLen + host.Length];
            FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), ctx.GroupName);
            Encoding.ASCII.GetBytes(host, body.AsSpan(ProtocolConstants.GroupNameMaxLen));
            var (status, reply) = await connection.RequestAsync(FdfsCommand.StorageGetServerId, body, stop).ConfigureAwait(false);
            Check(status, "GET_SERVER_ID");
            id = Encoding.ASCII.GetString(reply).TrimEnd('\0');
        }

        ctx.UseStorageId(id, parameters.IdTypeIsId);
        logger.LogInformation("storage id {Id} (in file names: {InName})", id, parameters.IdTypeIsId);
    }

    /// <summary>Leader changes are taken from any tracker; the trunk server only from the leader's connection.</summary>
    private ChangeNotification FromLeaderOnly(ChangeNotification change)
    {
        if (change.Flags.HasFlag(ChangeFlags.TrackerLeader) && change.Leader is { } leader)
        {
            coordinator.Claims.Claim(trackerIndex, $"{leader.IpAddr}:{leader.Port}");
            if (!ctx.Group.Leader.Equals(leader))
            {
                logger.LogInformation("tracker leader is now {Ip}:{Port}", leader.IpAddr, leader.Port);
            }
        }

        bool fromLeader = change.Flags.HasFlag(ChangeFlags.TrackerLeader) ? IsThisTracker(change.Leader) : IsThisTracker(ctx.Group.Leader);
        return change.Flags.HasFlag(ChangeFlags.TrunkServer) && !fromLeader
            ? change with { Flags = change.Flags & ~ChangeFlags.TrunkServer }
            : change;
    }

    private async Task AfterBeatAsync(TrackerConnection connection, CancellationToken stop)
    {
        if (IsThisTracker(ctx.Group.Leader))
        {
            await ctx.Trunk.AfterLeaderBeatAsync(connection, stop).ConfigureAwait(false);
        }

        if (coordinator.Claims.TakeReselect(trackerIndex))
        {
            var (status, _) = await connection.RequestAsync(FdfsCommand.TrackerNotifyReselectLeader, default, stop).ConfigureAwait(false);
            logger.LogWarning("tracker {Tracker} and another tracker both claimed leadership: asked it to step down ({Status})",
                tracker, Errno.Describe(status));
        }

        var leader = ctx.Group.Leader;
        if (leader is null || IsThisTracker(leader) || leader.Value.IpAddr.Length == 0)
        {
            return;
        }

        // A follower whose view of us differs from the leader's takes the leader's (spec 6.8), then we re-join it.
        if (ctx.Group.StatusOf(ctx.MyId, ctx.SourceIp, ctx.Port) is { } leaderView && leaderView != _pushedView && leaderView != _joinStatus &&
            !(leaderView.IsAvailable() && _joinStatus.IsAvailable()) &&
            IsAhead(leaderView, await FollowerViewAsync(connection, stop).ConfigureAwait(false)))
        {
            _pushedView = leaderView;
            var (status, _) = await connection.RequestAsync(FdfsCommand.StorageChangeStatus, new[] { (byte)leaderView }, stop)
                .ConfigureAwait(false);
            Check(status, "CHANGE_STATUS");
            logger.LogInformation("tracker {Tracker}: told it our status {Status} as the leader sees it; joining again", tracker, leaderView);
            await JoinAsync(connection, stop).ConfigureAwait(false);
            await SyncSourceAsync(connection, stop).ConfigureAwait(false);
        }
    }
}
