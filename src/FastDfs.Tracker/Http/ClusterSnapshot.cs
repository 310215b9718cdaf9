using FastDfs.Protocol.Config;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Tracker.Http;

/// <summary>The dashboard's <c>/api/cluster</c> document: the tracker's view of every group and storage.</summary>
internal sealed record ClusterSnapshot(long Time, TrackerSummary Tracker, IReadOnlyList<GroupSummary> Groups, IReadOnlyList<SpareStorageEntry> Spares)
{
    public static ClusterSnapshot Take(TrackerRuntime runtime, int httpPort, Func<string, int, IntegrityStatus?>? integrity = null)
    {
        long now = runtime.Now;
        var options = runtime.Config;
        var groups = runtime.Cluster.Read(all => all.Select(g => new GroupSummary(
            g.Name,
            g.StoragePort,
            g.TotalMb,
            g.FreeMb,
            g.Storages.Count,
            g.Storages.Count(s => s.Status == StorageStatus.Active),
            g.Storages.Select(s => StorageOf(s, g, now, options, integrity)).ToList())).ToList());
        var tracker = new TrackerSummary(ProtocolConstants.Version, runtime.StartTime, runtime.CurrentConnections, runtime.PeakConnections, httpPort,
            runtime.Cluster.MovedFiles.Count);
        return new ClusterSnapshot(now, tracker, groups, runtime.Cluster.Spares());
    }

    private static StorageSummary StorageOf(StorageNode s, StorageGroup group, long now, TrackerConfig options,
        Func<string, int, IntegrityStatus?>? integrity) => new(
        s.Id,
        s.Ip,
        s.Port,
        s.Status.ToMonitorName(),
        StatusReason(s, now, options),
        s.Version,
        s.JoinTime,
        s.UpTime,
        s.LastHeartbeat,
        s.TotalMb,
        s.FreeMb,
        s.PathTotalMb.Zip(s.PathFreeMb, (total, free) => (total, free)).Select((p, i) => new PathUsage(p.total, p.free, s.HasFailedPath(i))).ToList(),
        SyncLag(s, group),
        s.LastSyncedTimestamp,
        s.SrcId,
        s.IsTrunkServer,
        new OperationCounters(
            s.Counters[C.SuccessUploadCount], s.Counters[C.TotalUploadCount],
            s.Counters[C.SuccessDownloadCount], s.Counters[C.TotalDownloadCount],
            s.Counters[C.SuccessDeleteCount], s.Counters[C.TotalDeleteCount],
            s.Counters[C.SuccessUploadBytes], s.Counters[C.SuccessDownloadBytes],
            s.Counters[C.SuccessSyncInBytes], s.Counters[C.SuccessSyncOutBytes],
            s.Counters.ConnectionCurrentCount),
        s.Status.IsAvailable() && integrity?.Invoke(s.Ip, s.Port) is { } report ? IntegritySummary.Of(report) : null,
        s.DrainingSince > 0 ? DrainText(ClusterState.DrainStateOf(group, s)) : null);

    /// <summary>A draining storage's line: done, or the members still behind.</summary>
    private static string DrainText(DrainState drain) => drain.Complete
        ? "drained by the sync timestamps: the other members report its changes applied (fdfs monitor drain --wait compares the files)"
        : "draining: no uploads; waiting for " + string.Join(", ", drain.WaitingFor.Select(w => $"{w.Id} ({w.BehindSeconds}s behind)"));

    /// <summary>How far this storage is behind the newest write of its peers, in seconds (0 = caught up or alone).</summary>
    internal static long SyncLag(StorageNode storage, StorageGroup group)
    {
        long newestPeerWrite = 0;
        foreach (var peer in group.Storages)
        {
            if (!ReferenceEquals(peer, storage) && peer.Status.IsAvailable())
            {
                newestPeerWrite = Math.Max(newestPeerWrite, peer.Counters[C.LastSourceUpdate]);
            }
        }

        return newestPeerWrite > 0 ? Math.Max(0, newestPeerWrite - storage.LastSyncedTimestamp) : 0;
    }

    /// <summary>A sentence a person can act on, for each state of spec 11.1.</summary>
    internal static string StatusReason(StorageNode s, long now, TrackerConfig options) => s.Status switch
    {
        StorageStatus.Active => $"serving; last heartbeat {Math.Max(0, now - s.LastHeartbeat)}s ago",
        StorageStatus.Online => "connected; waiting for its first heartbeat",
        StorageStatus.Offline => s.LastHeartbeat > 0
            ? $"no heartbeat for {Math.Max(0, now - s.LastHeartbeat)}s (check_active_interval {options.CheckActiveInterval}s) or disconnected"
            : "disconnected",
        StorageStatus.Init => "joined; waiting for a sync source to be chosen",
        StorageStatus.WaitSync => s.SrcId.Length > 0 ? $"waiting for {s.SrcId} to start copying existing files" : "waiting for a peer to copy existing files",
        StorageStatus.Syncing => s.SrcId.Length > 0 ? $"copying existing files from {s.SrcId}" : "copying existing files",
        StorageStatus.IpChanged => "its IP address changed",
        StorageStatus.Deleted => s.RetiredFor is { } spare ? $"retired: the spare storage {spare} took its place" : "deleted by an administrator",
        StorageStatus.Recovery => s.Recovery is { } progress ? "recovering a replaced disk, " + progress.Describe() : "recovering its data from a peer",
        _ => "unknown state",
    };
}

/// <param name="MovedFiles">entries of the moved-files map (files moved to another group, answered there)</param>
internal sealed record TrackerSummary(string Version, long StartTime, int Connections, int PeakConnections, int HttpPort, int MovedFiles);

internal sealed record GroupSummary(string Name, int StoragePort, long TotalMb, long FreeMb, int StorageCount, int ActiveCount,
    IReadOnlyList<StorageSummary> Storages);

internal sealed record StorageSummary(string Id, string Ip, int Port, string Status, string Reason, string Version, long JoinTime,
    long UpTime, long LastHeartbeat, long TotalMb, long FreeMb, IReadOnlyList<PathUsage> Paths, long SyncLagSeconds,
    long LastSyncedTimestamp, string SyncSource, bool IsTrunkServer, OperationCounters Counters, IntegritySummary? Integrity, string? Drain);

/// <summary>A FastDFS.NET storage's integrity report (null for stock storages and ones that did not answer).</summary>
internal sealed record IntegritySummary(long ScrubPasses, bool ScrubRunning, long ScrubFinished, long ScrubFilesChecked, long DamagedFound,
    long Repaired, long Unrepairable, long ReplicasRefused, long AntiEntropyRounds, long AntiEntropyResent, long AntiEntropyRestored)
{
    public static IntegritySummary Of(IntegrityStatus r) => new(r.ScrubPasses, r.ScrubRunning, r.ScrubFinished, r.ScrubFilesChecked,
        r.CorruptFound, r.Repaired, r.Unrepairable, r.ReplicasRefused, r.AntiEntropyRounds, r.AntiEntropyResent, r.AntiEntropyRestored);
}

/// <summary>One store path of a storage; <c>Failed</c> when its disk is out of service (STORE_PATH_HEALTH).</summary>
internal sealed record PathUsage(long TotalMb, long FreeMb, bool Failed);

internal sealed record OperationCounters(long Uploads, long UploadsTotal, long Downloads, long DownloadsTotal, long Deletes,
    long DeletesTotal, long UploadBytes, long DownloadBytes, long SyncInBytes, long SyncOutBytes, int Connections);
