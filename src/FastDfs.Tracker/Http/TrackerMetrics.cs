using System.Diagnostics.Metrics;
using FastDfs.Protocol;
using FastDfs.Protocol.Diagnostics;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Tracker.Http;

/// <summary>
/// The tracker's <see cref="System.Diagnostics.Metrics"/> instruments, exported on <c>/metrics</c>: requests
/// and latencies per command, connections, and the cluster as the tracker sees it (storages per state,
/// disk, sync lag and operation counters per storage from their heartbeats). One meter per instance.
/// </summary>
internal sealed class TrackerMetrics : IDisposable
{
    private readonly ServerMeter _server = new("FastDfs.Tracker", "fastdfs.tracker");

    public TrackerMetrics(TrackerRuntime runtime)
    {
        var meter = _server.Meter;
        meter.CreateObservableUpDownCounter("fastdfs.tracker.connections", () => runtime.CurrentConnections,
            description: "Open FastDFS protocol connections");

        var cluster = runtime.Cluster;
        meter.CreateObservableGauge("fastdfs.tracker.storages", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.GroupBy(s => s.Status).Select(byStatus => new Measurement<int>(byStatus.Count(),
                Tag("group", g.Name), Tag("status", byStatus.Key.ToMonitorName()))))
            .ToList()), description: "Storages per group and state");
        meter.CreateObservableGauge("fastdfs.tracker.storage.disk.total", () => PerStorage(cluster, s => s.TotalMb * 1024 * 1024), "By",
            "Disk size of each storage (sum of its store paths)");
        meter.CreateObservableGauge("fastdfs.tracker.storage.disk.free", () => PerStorage(cluster, s => s.FreeMb * 1024 * 1024), "By",
            "Free disk of each storage");
        meter.CreateObservableGauge("fastdfs.tracker.storage.recovery.remaining", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.Where(s => s.Status == StorageStatus.Recovery && s.Recovery is not null)
                .Select(s => new Measurement<long>(Math.Max(0, s.Recovery!.Value.FilesTotal - s.Recovery.Value.FilesDone), StorageTags(s))))
            .ToList()), description: "Files a storage recovering a replaced disk still has to fetch (RECOVERY_PROGRESS)");
        meter.CreateObservableGauge("fastdfs.tracker.spare_storages", () => cluster.Spares()
            .GroupBy(s => s.AssignedGroup.Length > 0 ? "assigned" : "waiting")
            .Select(state => new Measurement<int>(state.Count(), Tag("state", state.Key)))
            .ToList(), description: "Spare storages (spare_storage = true) this tracker hears from, waiting or given a place");
        meter.CreateObservableGauge("fastdfs.tracker.storage.sync.lag", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.Select(s => new Measurement<long>(ClusterSnapshot.SyncLag(s, g), StorageTags(s))))
            .ToList()), "s", "Seconds between the newest write of a storage's peers and what it has synced");
        meter.CreateObservableCounter("fastdfs.tracker.storage.operations", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.SelectMany(s => new[]
            {
                Operation(s, s.Counters[C.SuccessUploadCount], "upload"),
                Operation(s, s.Counters[C.SuccessDownloadCount], "download"),
                Operation(s, s.Counters[C.SuccessDeleteCount], "delete"),
            }))
            .ToList()), description: "Successful operations per storage (from heartbeats)");
    }

    public string MeterName => _server.Name;

    public static long StartTimestamp() => ServerMeter.StartTimestamp();

    public void RecordCommand(byte command, long startTimestamp) => _server.RecordCommand(command, startTimestamp);

    public void RecordHttp(string method, int statusCode, long startTimestamp) => _server.RecordHttp(method, statusCode, startTimestamp);

    public void Dispose() => _server.Dispose();

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);

    private static KeyValuePair<string, object?>[] StorageTags(StorageNode s) =>
        [Tag("group", s.Group.Name), Tag("storage", s.Id), Tag("endpoint", $"{s.Ip}:{s.Port}")];

    private static Measurement<long> Operation(StorageNode s, long value, string op) =>
        new(value, [.. StorageTags(s), Tag("op", op)]);

    private static List<Measurement<long>> PerStorage(ClusterState cluster, Func<StorageNode, long> value) =>
        cluster.Read(groups => groups.SelectMany(g => g.Storages.Select(s => new Measurement<long>(value(s), StorageTags(s)))).ToList());
}
