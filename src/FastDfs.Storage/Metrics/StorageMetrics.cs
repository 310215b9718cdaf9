using System.Diagnostics;
using System.Diagnostics.Metrics;
using FastDfs.Protocol;
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
    public const string MeterNamePrefix = "FastDfs.Storage";
    private static int s_instances;
    private static readonly string[] CommandNames = BuildCommandNames();
    private static readonly string[] StatusNames = Enumerable.Range(0, 256).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;
    private readonly Counter<long> _httpBytesOut;

    public StorageMetrics(StorageContext ctx)
    {
        int instance = Interlocked.Increment(ref s_instances);
        MeterName = instance == 1 ? MeterNamePrefix : $"{MeterNamePrefix}.{instance}";
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("fastdfs.storage.requests", description: "FastDFS protocol requests by command and reply status (errno, 0 = success)");
        _requestDuration = _meter.CreateHistogram<double>("fastdfs.storage.request.duration", "s", "FastDFS protocol request latency by command");
        _httpRequests = _meter.CreateCounter<long>("fastdfs.storage.http.requests", description: "HTTP requests by method and status code");
        _httpDuration = _meter.CreateHistogram<double>("fastdfs.storage.http.request.duration", "s", "HTTP request latency by method");
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
        }, "By", "Bytes received and sent over the FastDFS protocol");
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
        _meter.CreateObservableGauge("fastdfs.storage.sync.last_synced", () => counters[C.LastSyncedTimestamp], "s",
            "Unix time up to which this storage has received its peers' files (0 = nothing synced yet)");
        _meter.CreateObservableGauge("fastdfs.storage.sync.lag", () => SyncLag(counters), "s",
            "Seconds since the last file this storage received from a peer was written at its source (0 = nothing synced yet)");
        _meter.CreateObservableGauge("fastdfs.storage.trunk.space", () => TrunkSpace(ctx), "By",
            "Trunk file space by state: used (slots holding files), free (reusable), reclaimable (free space still holding disk blocks)");
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

    public string MeterName { get; }

    public static long StartTimestamp() => Stopwatch.GetTimestamp();

    public void RecordCommand(FdfsCommand command, byte status, long startTimestamp)
    {
        var tags = new TagList { { "command", CommandNames[(byte)command] } };
        _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("status", StatusNames[status]);
        _requests.Add(1, tags);
    }

    public void RecordHttp(string method, int statusCode, long startTimestamp, long bytesSent)
    {
        var tags = new TagList { { "method", method } };
        _httpDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("code", statusCode);
        _httpRequests.Add(1, tags);
        if (bytesSent > 0)
        {
            _httpBytesOut.Add(bytesSent);
        }
    }

    public void Dispose() => _meter.Dispose();

    private static Measurement<long> Bytes(long value, string direction, string kind) =>
        new(value, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("kind", kind));

    private static Measurement<long> Operation(long value, string op) => new(value, new KeyValuePair<string, object?>("op", op));

    private static long SyncLag(Protocol.Messages.StorageStatCounters counters)
    {
        long synced = counters[C.LastSyncedTimestamp];
        return synced > 0 ? Math.Max(0, StorageContext.Now - synced) : 0;
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

    private static string[] BuildCommandNames()
    {
        var names = new string[256];
        for (int i = 0; i < names.Length; i++)
        {
            var command = (FdfsCommand)i;
            names[i] = Enum.IsDefined(command) ? ToSnake(command.ToString()) : i == (int)Protocol.Messages.HttpPortQuery.Command ? "http_port" : "cmd_" + i;
        }

        return names;
    }

    private static string ToSnake(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
