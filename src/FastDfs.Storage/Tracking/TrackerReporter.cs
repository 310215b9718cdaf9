using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Tracking;

/// <summary>State shared by the reporters of all trackers (spec 11.3).</summary>
internal sealed class ReporterCoordinator(int trackerCount)
{
    private int _answeredMask;

    /// <summary>Serialises SYNC_DEST_REQ: only one tracker assigns our old-data source.</summary>
    public SemaphoreSlim SyncDestLock { get; } = new(1, 1);

    public bool ParametersFetched { get; set; }

    /// <summary>Which tracker each connection last heard claim leadership (split-brain detection).</summary>
    public LeaderClaims Claims { get; } = new(trackerCount);

    /// <summary>Tracker <paramref name="trackerIndex"/> answered a JOIN of ours, accepting it or not (stock's my_result).</summary>
    public void MarkAnswered(int trackerIndex) => Interlocked.Or(ref _answeredMask, 1 << trackerIndex);

    /// <summary>
    /// Every tracker answered a JOIN: one that does not know us then gets INIT, not -1. Counting only accepted JOINs
    /// deadlocked when the tracker refusing our -1 was the leader, whose group list alone would tell us our status.
    /// </summary>
    public bool AllAnswered => Volatile.Read(ref _answeredMask) == (1 << trackerCount) - 1;
}

/// <summary>
/// The report loop for one tracker (spec 6.1-6.4, 6.6, 6.10, 11.3): connect, PARAMETER_REQ, JOIN,
/// SYNC_DEST_REQ / SYNC_NOTIFY, then BEAT, REPORT_DISK_USAGE and SYNC_REPORT on their intervals. Any error
/// closes the connection and the loop reconnects and re-joins; failures are logged once per streak.
/// </summary>
internal sealed partial class TrackerReporter(StorageContext ctx, TrackerAddress tracker, int trackerIndex, ReporterCoordinator coordinator, ILogger logger)
{
    private readonly StorageConfig _config = ctx.Config;
    private bool _failing;

    private int HeartBeatSeconds => _config.HeartBeatInterval > 0 ? _config.HeartBeatInterval : 30;
    private int StatReportSeconds => _config.StatReportInterval > 0 ? _config.StatReportInterval : 300;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await RunConnectionAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolException or OperationCanceledException)
            {
                if (!_failing)
                {
                    logger.LogWarning("tracker {Tracker}: {Message}; retrying quietly", tracker, e.Message);
                    _failing = true;
                }
                else
                {
                    logger.LogDebug("tracker {Tracker}: {Message}", tracker, e.Message);
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(HeartBeatSeconds, 1, 10)), ctx.Clock, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunConnectionAsync(CancellationToken stop)
    {
        var connectTimeout = TimeSpan.FromSeconds(_config.ConnectTimeout > 0 ? _config.ConnectTimeout : 10);
        var networkTimeout = TimeSpan.FromSeconds(_config.NetworkTimeout > 0 ? _config.NetworkTimeout : 30);
        await using var connection = await TrackerConnection.ConnectAsync(tracker.Hosts, tracker.Port, connectTimeout, networkTimeout, stop, ctx.ClientBindAddress, ctx.PeerKey)
            .ConfigureAwait(false);
        if (connection.LocalEndPoint is { } local)
        {
            ctx.SetSourceIp(AnnouncedOr(local.Address));
        }

        if (!coordinator.ParametersFetched)
        {
            var (status, body) = await connection.RequestAsync(FdfsCommand.StorageParameterReq, default, stop).ConfigureAwait(false);
            Check(status, "PARAMETER_REQ");
            ctx.Parameters = TrackerParameters.Parse(body);
            coordinator.ParametersFetched = true;
        }

        await ResolveStorageIdAsync(connection, stop).ConfigureAwait(false);

        _pushedView = null;
        await JoinAsync(connection, stop).ConfigureAwait(false);
        await SyncSourceAsync(connection, stop).ConfigureAwait(false);
        if (_failing)
        {
            logger.LogInformation("tracker {Tracker}: joined again", tracker);
            _failing = false;
        }
        else
        {
            logger.LogInformation("tracker {Tracker}: joined as {Ip}:{Port}", tracker, ctx.SourceIp, ctx.Port);
        }

        byte[]? lastStats = null;
        long lastBeat = 0, lastDiskReport = 0, lastSyncReport = 0;
        long reportedVersion = -1;
        int reportedHealth = -1;
        bool reportedFailure = false;
        while (true)
        {
            long now = ctx.Now;
            // Failed store paths (and their return) as they change; nothing while every path works, so a stock tracker
            // never sees the FastDFS.NET command unless there is something to say.
            int health = ctx.Paths.HealthVersion;
            if (health != reportedHealth && !_pathHealthUnsupported && _pathHealthDropped < 2)
            {
                bool[] failed = ctx.Paths.FailedPaths();
                if (failed.Any(f => f) || reportedFailure)
                {
                    await ReportPathHealthAsync(connection, failed, stop).ConfigureAwait(false);
                    reportedFailure = failed.Any(f => f);
                }

                reportedHealth = health;
            }

            if (now - lastDiskReport >= StatReportSeconds)
            {
                await ReportDiskUsageAsync(connection, stop).ConfigureAwait(false);
                lastDiskReport = now;
            }

            if (now - lastBeat >= HeartBeatSeconds)
            {
                lastStats = await BeatAsync(connection, lastStats, stop).ConfigureAwait(false);
                lastBeat = now;
                await AfterBeatAsync(connection, stop).ConfigureAwait(false);
            }

            // SYNC_REPORT when a source timestamp rose, at most every heart_beat_interval (spec 6.4).
            long version = ctx.Replication.TimestampsVersion;
            if (version != reportedVersion && now - lastSyncReport >= HeartBeatSeconds)
            {
                await SyncReportAsync(connection, stop).ConfigureAwait(false);
                reportedVersion = version;
                lastSyncReport = now;
            }

            // Trunk file ids are reserved with the leader as soon as the trunk server runs low, not only after beats.
            bool leaderConnection = IsThisTracker(ctx.Group.Leader);
            if (leaderConnection && ctx.Trunk.Ids.TakeNeeded())
            {
                await ctx.Trunk.ReserveIdsAsync(connection, stop).ConfigureAwait(false);
            }

            var tick = Task.Delay(TimeSpan.FromSeconds(1), ctx.Clock, stop);
            await (leaderConnection ? Task.WhenAny(tick, ctx.Trunk.Ids.Needed) : tick).ConfigureAwait(false);
            stop.ThrowIfCancellationRequested();
        }
    }

    private async Task JoinAsync(TrackerConnection connection, CancellationToken stop)
    {
        var flag = ctx.InitFlag;
        var own = ctx.Group.StatusOf(ctx.MyId, ctx.SourceIp, ctx.Port);
        sbyte status = own is { } s ? (sbyte)s
            : _config.TrackerServers.Count == 1 || coordinator.AllAnswered ? (sbyte)StorageStatus.Init
            : (sbyte)-1;
        var join = new StorageJoinRequest
        {
            GroupName = ctx.GroupName,
            StoragePort = ctx.Port,
            StorePathCount = ctx.Paths.Count,
            SubdirCountPerPath = ctx.Paths.SubdirCount,
            UploadPriority = _config.UploadPriority,
            JoinTime = flag.StorageJoinTime,
            UpTime = ctx.StartTime,
            InitFlag = !flag.SyncOldDone,
            Status = status,
            StorageId = ctx.StorageId ?? "",
            AnnounceIp = _config.AnnounceIp,
            CurrentTrackerIp = connection.Host,
            Trackers = _config.TrackerServers.Take(ProtocolConstants.MaxTrackers).Select(t => t.ToString()).ToArray(),
        };
        var (replyStatus, body) = await connection.RequestAsync(FdfsCommand.StorageJoin, join.ToArray(), stop).ConfigureAwait(false);
        coordinator.MarkAnswered(trackerIndex);
        Check(replyStatus, "JOIN");
        var response = StorageJoinResponse.Parse(body);
        Joined(response.Status);
        if (response.SrcId.Length > 0 && flag.SyncSrcServer.Length == 0)
        {
            flag.SyncSrcServer = response.SrcId;
            flag.Save();
        }
    }

    /// <summary>
    /// A new storage asks once (under a global lock) who gives it the group's old files; every connection
    /// then tells its tracker the answer with SYNC_NOTIFY (spec 6.6, 11.3).
    /// </summary>
    private async Task SyncSourceAsync(TrackerConnection connection, CancellationToken stop)
    {
        var flag = ctx.InitFlag;
        if (!flag.SyncOldDone)
        {
            await coordinator.SyncDestLock.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                while (!flag.SyncOldDone)
                {
                    var (status, body) = await connection.RequestAsync(FdfsCommand.StorageSyncDestReq, default, stop).ConfigureAwait(false);
                    if (status == Errno.ENOENT)
                    {
                        // No writable peer yet: ask again later on this connection.
                        await Task.Delay(TimeSpan.FromSeconds(HeartBeatSeconds), ctx.Clock, stop).ConfigureAwait(false);
                        continue;
                    }

                    Check(status, "SYNC_DEST_REQ");
                    if (body.Length >= SyncSourceBody.Size)
                    {
                        var source = SyncSourceBody.Parse(body);
                        flag.SyncSrcServer = source.SrcId;
                        flag.SyncUntilTimestamp = source.UntilTimestamp;
                    }

                    flag.SyncOldDone = true;
                    flag.Save();
                }
            }
            finally
            {
                coordinator.SyncDestLock.Release();
            }
        }

        var notify = new byte[SyncSourceBody.Size];
        new SyncSourceBody(flag.SyncSrcServer, flag.SyncUntilTimestamp).Write(notify);
        var (notifyStatus, _) = await connection.RequestAsync(FdfsCommand.StorageSyncNotify, notify, stop).ConfigureAwait(false);
        if (notifyStatus != Errno.Ok)
        {
            logger.LogDebug("tracker {Tracker}: SYNC_NOTIFY answered {Status}", tracker, notifyStatus);
        }
    }

    private async Task<byte[]> BeatAsync(TrackerConnection connection, byte[]? lastSent, CancellationToken stop)
    {
        var stats = new byte[StorageStatCounters.Size];
        ctx.Counters.Write(stats);
        bool changed = lastSent is null || !stats.AsSpan().SequenceEqual(lastSent);
        var (status, body) = await connection.RequestAsync(
            FdfsCommand.StorageBeat, changed ? stats : ReadOnlyMemory<byte>.Empty, stop).ConfigureAwait(false);
        Check(status, "BEAT");
        ApplyChanges(body);
        return stats;
    }

    /// <summary>Set when this tracker does not know STORE_PATH_HEALTH (a stock tracker): it is not asked again.</summary>
    private bool _pathHealthUnsupported;

    /// <summary>Connections lost during STORE_PATH_HEALTH in a row: a tracker that drops the connection on it is not asked again.</summary>
    private int _pathHealthDropped;

    private async Task ReportPathHealthAsync(TrackerConnection connection, bool[] failed, CancellationToken stop)
    {
        _pathHealthDropped++;
        var (status, _) = await connection.RequestAsync(StorePathHealthReport.Command, new StorePathHealthReport(failed).ToArray(), stop)
            .ConfigureAwait(false);
        _pathHealthDropped = 0;
        if (status == Errno.EINVAL)
        {
            _pathHealthUnsupported = true;
            logger.LogWarning("tracker {Tracker} does not take STORE_PATH_HEALTH (a stock tracker?): it may send readers to this storage "
                + "for files of a failed store path", tracker);
        }
        else
        {
            Check(status, "STORE_PATH_HEALTH");
        }
    }

    private async Task ReportDiskUsageAsync(TrackerConnection connection, CancellationToken stop)
    {
        var paths = new PathDiskUsage[ctx.Paths.Count];
        for (int i = 0; i < paths.Length; i++)
        {
            var (totalMb, freeMb) = ctx.Paths[i].MeasureDiskUsage();
            paths[i] = new PathDiskUsage(totalMb, freeMb);
        }

        var body = DiskUsageReport.Encode(paths);

        var (status, reply) = await connection.RequestAsync(FdfsCommand.StorageReportDiskUsage, body, stop).ConfigureAwait(false);
        Check(status, "REPORT_DISK_USAGE");
        ApplyChanges(reply);
    }

    /// <summary>Every storage of the group with the last source timestamp applied from it (spec 6.4).</summary>
    private async Task SyncReportAsync(TrackerConnection connection, CancellationToken stop)
    {
        var body = ctx.Replication.BuildSyncReport();
        var (status, reply) = await connection.RequestAsync(FdfsCommand.StorageSyncReport, body, stop).ConfigureAwait(false);
        Check(status, "SYNC_REPORT");
        ApplyChanges(reply);
    }

    private void ApplyChanges(byte[] body)
    {
        var change = FromLeaderOnly(ChangeNotification.Parse(body));
        if (change.Flags != ChangeFlags.None)
        {
            ctx.Group.Apply(change);
        }
    }

    private void Check(byte status, string what)
    {
        if (status != Errno.Ok)
        {
            throw new ProtocolException($"{what} refused by {tracker}: {Errno.Describe(status)}", status);
        }
    }
}
