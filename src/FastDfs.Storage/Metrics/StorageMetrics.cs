using System.Diagnostics.Metrics;
using FastDfs.Protocol;
using FastDfs.Protocol.Diagnostics;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Metrics;

/// <summary>
/// The storage's <see cref="System.Diagnostics.Metrics"/> instruments, exported on <c>/metrics</c> by the
/// HTTP server. Request counts and latencies are recorded per command; bytes, disk, connections and sync
/// times are observed from the counters the storage keeps anyway (storage_stat.dat). One meter per
/// server instance (tests and <c>fdfs server</c> host several servers in one process).
/// </summary>
internal sealed class StorageMetrics : IDisposable
{
    private readonly ServerMeter _server = new("FastDfs.Storage", "fastdfs.storage");
    private readonly Meter _meter;
    private readonly Counter<long> _httpBytesOut;

    public StorageMetrics(StorageContext ctx)
    {
        _meter = _server.Meter;
        _httpBytesOut = _meter.CreateCounter<long>("fastdfs.storage.http.sent", "By", "File bytes sent over HTTP");

        var counters = ctx.Counters;
        _meter.CreateObservableCounter("fastdfs.storage.bytes", () => new[]
        {
            Bytes(counters[C.SuccessUploadBytes], "in", "upload"),
            Bytes(counters[C.SuccessAppendBytes], "in", "append"),
            Bytes(counters[C.SuccessModifyBytes], "in", "modify"),
            Bytes(counters[C.SuccessSyncInBytes], "in", "sync"),
            Bytes(counters[C.SuccessDownloadBytes], "out", "download"),
            Bytes(counters[C.SuccessSyncOutBytes], "out", "sync"),
        }, "By", "File bytes received and sent (the stock stat counters: the FastDFS protocol, and downloads over HTTP)");
        _meter.CreateObservableCounter("fastdfs.storage.operations", () => new[]
        {
            Operation(counters[C.SuccessUploadCount], "upload"),
            Operation(counters[C.SuccessDownloadCount], "download"),
            Operation(counters[C.SuccessDeleteCount], "delete"),
            Operation(counters[C.SuccessAppendCount], "append"),
            Operation(counters[C.SuccessModifyCount], "modify"),
            Operation(counters[C.SuccessTruncateCount], "truncate"),
            Operation(counters[C.SuccessSetMetaCount], "set_metadata"),
            Operation(counters[C.SuccessGetMetaCount], "get_metadata"),
        }, description: "Successful file operations (the stock stat counters)");
        _meter.CreateObservableUpDownCounter("fastdfs.storage.connections", () => counters.ConnectionCurrentCount,
            description: "Open FastDFS protocol connections");
        _meter.CreateObservableGauge("fastdfs.storage.disk.total", () => Disk(ctx, total: true), "By", "Size of each store path's file system");
        _meter.CreateObservableGauge("fastdfs.storage.disk.free", () => Disk(ctx, total: false), "By", "Free space of each store path's file system");
        _meter.CreateObservableGauge("fastdfs.storage.disk.failed", () => ctx.Paths.All.Select(p => new Measurement<int>(p.Failure is null ? 0 : 1,
                new KeyValuePair<string, object?>("store_path", $"M{p.Index:X2}"), new KeyValuePair<string, object?>("path", p.Root))),
            description: "1 while the store path's disk is out of service (failed its check), else 0");
        _meter.CreateObservableGauge("fastdfs.storage.disk.slow", () => ctx.Paths.All.Select(p => new Measurement<int>(p.Slow ? 1 : 0,
                new KeyValuePair<string, object?>("store_path", $"M{p.Index:X2}"), new KeyValuePair<string, object?>("path", p.Root))),
            description: "1 while the store path's disk holds requests for longer than disk_slow_threshold with none answered, else 0");
        _meter.CreateObservableGauge("fastdfs.storage.sync.last_synced", () => counters[C.LastSyncedTimestamp], "s",
            "Unix time up to which this storage has received its peers' files (0 = nothing synced yet)");
        _meter.CreateObservableGauge("fastdfs.storage.sync.lag", () => SyncLag(counters, ctx.Now), "s",
            "Seconds since the last file this storage received from a peer was written at its source (0 = nothing synced yet)");
        _meter.CreateObservableCounter("fastdfs.storage.integrity.events", () => Integrity(ctx), description:
            "Damaged copies and what was done about them: replica_refused (received bytes did not match their name), push_refused " +
            "(a peer refused our copy), damaged (found here), repaired (replaced from a peer), unrepairable (no good copy found)");
        _meter.CreateObservableCounter("fastdfs.storage.scrub.passes", () => ctx.DescribeIntegrity().ScrubPasses,
            description: "Scrub passes completed");
        _meter.CreateObservableGauge("fastdfs.storage.scrub.checked", () => ScrubChecked(ctx), description:
            "Files and bytes the current or last scrub pass has verified");
        _meter.CreateObservableGauge("fastdfs.storage.trunk.space", () => TrunkSpace(ctx), "By",
            "Trunk file space by state: used (slots holding files), free (reusable), reclaimable (free space still holding disk blocks)");
    }

    private static Measurement<long>[] Integrity(StorageContext ctx)
    {
        var stats = ctx.Integrity;
        return
        [
            new(stats.ReplicasRefused, new KeyValuePair<string, object?>("kind", "replica_refused")),
            new(stats.PushesRefused, new KeyValuePair<string, object?>("kind", "push_refused")),
            new(stats.LocalCorrupt, new KeyValuePair<string, object?>("kind", "damaged")),
            new(stats.Repaired, new KeyValuePair<string, object?>("kind", "repaired")),
            new(stats.Unrepairable, new KeyValuePair<string, object?>("kind", "unrepairable")),
        ];
    }

    private static Measurement<long>[] ScrubChecked(StorageContext ctx)
    {
        var status = ctx.DescribeIntegrity();
        return
        [
            new(status.ScrubFilesChecked, new KeyValuePair<string, object?>("unit", "files")),
            new(status.ScrubBytesChecked, new KeyValuePair<string, object?>("unit", "bytes")),
        ];
    }

    private static Measurement<long>[] TrunkSpace(StorageContext ctx)
    {
        var stats = ctx.TrunkStats;
        return
        [
            new(stats.UsedBytes, new KeyValuePair<string, object?>("state", "used")),
            new(stats.FreeBytes, new KeyValuePair<string, object?>("state", "free")),
            new(stats.ReclaimableBytes, new KeyValuePair<string, object?>("state", "reclaimable")),
        ];
    }

    public string MeterName => _server.Name;

    public static long StartTimestamp() => ServerMeter.StartTimestamp();

    public void RecordCommand(FdfsCommand command, byte status, long startTimestamp) =>
        _server.RecordCommand((byte)command, startTimestamp, status);

    public void RecordHttp(string method, int statusCode, long startTimestamp, long bytesSent)
    {
        _server.RecordHttp(method, statusCode, startTimestamp);
        if (bytesSent > 0)
        {
            _httpBytesOut.Add(bytesSent);
        }
    }

    public void Dispose() => _server.Dispose();

    private static Measurement<long> Bytes(long value, string direction, string kind) =>
        new(value, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("kind", kind));

    private static Measurement<long> Operation(long value, string op) => new(value, new KeyValuePair<string, object?>("op", op));

    private static long SyncLag(Protocol.Messages.StorageStatCounters counters, long now)
    {
        long synced = counters[C.LastSyncedTimestamp];
        return synced > 0 ? Math.Max(0, now - synced) : 0;
    }

    private static IEnumerable<Measurement<long>> Disk(StorageContext ctx, bool total)
    {
        foreach (var path in ctx.Paths.All)
        {
            var (totalMb, freeMb) = path.MeasureDiskUsage();
            yield return new Measurement<long>((total ? totalMb : freeMb) * 1024 * 1024,
                new KeyValuePair<string, object?>("store_path", $"M{path.Index:X2}"),
                new KeyValuePair<string, object?>("path", path.Root));
        }
    }
}
