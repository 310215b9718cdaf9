using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FastDfs.Protocol;
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
    public const string MeterNamePrefix = "FastDfs.Tracker";
    private static int s_instances;
    private static readonly string[] CommandNames = Enumerable.Range(0, 256)
        .Select(i => Enum.IsDefined((FdfsCommand)i) ? ToSnake(((FdfsCommand)i).ToString()) : "cmd_" + i.ToString(CultureInfo.InvariantCulture))
        .ToArray();

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;

    public TrackerMetrics(TrackerRuntime runtime)
    {
        int instance = Interlocked.Increment(ref s_instances);
        MeterName = instance == 1 ? MeterNamePrefix : $"{MeterNamePrefix}.{instance}";
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("fastdfs.tracker.requests", description: "FastDFS protocol requests by command");
        _requestDuration = _meter.CreateHistogram<double>("fastdfs.tracker.request.duration", "s", "FastDFS protocol request latency by command");
        _httpRequests = _meter.CreateCounter<long>("fastdfs.tracker.http.requests", description: "HTTP requests by method and status code");
        _httpDuration = _meter.CreateHistogram<double>("fastdfs.tracker.http.request.duration", "s", "HTTP request latency by method");
        _meter.CreateObservableUpDownCounter("fastdfs.tracker.connections", () => runtime.CurrentConnections,
            description: "Open FastDFS protocol connections");

        var cluster = runtime.Cluster;
        _meter.CreateObservableGauge("fastdfs.tracker.storages", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.GroupBy(s => s.Status).Select(byStatus => new Measurement<int>(byStatus.Count(),
                Tag("group", g.Name), Tag("status", byStatus.Key.ToMonitorName()))))
            .ToList()), description: "Storages per group and state");
        _meter.CreateObservableGauge("fastdfs.tracker.storage.disk.total", () => PerStorage(cluster, s => s.TotalMb * 1024 * 1024), "By",
            "Disk size of each storage (sum of its store paths)");
        _meter.CreateObservableGauge("fastdfs.tracker.storage.disk.free", () => PerStorage(cluster, s => s.FreeMb * 1024 * 1024), "By",
            "Free disk of each storage");
        _meter.CreateObservableGauge("fastdfs.tracker.storage.sync.lag", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.Select(s => new Measurement<long>(ClusterSnapshot.SyncLag(s, g), StorageTags(s))))
            .ToList()), "s", "Seconds between the newest write of a storage's peers and what it has synced");
        _meter.CreateObservableCounter("fastdfs.tracker.storage.operations", () => cluster.Read(groups => groups
            .SelectMany(g => g.Storages.SelectMany(s => new[]
            {
                Operation(s, s.Counters[C.SuccessUploadCount], "upload"),
                Operation(s, s.Counters[C.SuccessDownloadCount], "download"),
                Operation(s, s.Counters[C.SuccessDeleteCount], "delete"),
            }))
            .ToList()), description: "Successful operations per storage (from heartbeats)");
    }

    public string MeterName { get; }

    public static long StartTimestamp() => Stopwatch.GetTimestamp();

    public void RecordCommand(byte command, long startTimestamp)
    {
        var tags = new TagList { { "command", CommandNames[command] } };
        _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        _requests.Add(1, tags);
    }

    public void RecordHttp(string method, int statusCode, long startTimestamp)
    {
        var tags = new TagList { { "method", method } };
        _httpDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("code", statusCode);
        _httpRequests.Add(1, tags);
    }

    public void Dispose() => _meter.Dispose();

    private static string ToSnake(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);

    private static KeyValuePair<string, object?>[] StorageTags(StorageNode s) =>
        [Tag("group", s.Group.Name), Tag("storage", s.Id), Tag("endpoint", $"{s.Ip}:{s.Port}")];

    private static Measurement<long> Operation(StorageNode s, long value, string op) =>
        new(value, [.. StorageTags(s), Tag("op", op)]);

    private static List<Measurement<long>> PerStorage(ClusterState cluster, Func<StorageNode, long> value) =>
        cluster.Read(groups => groups.SelectMany(g => g.Storages.Select(s => new Measurement<long>(value(s), StorageTags(s)))).ToList());
}
