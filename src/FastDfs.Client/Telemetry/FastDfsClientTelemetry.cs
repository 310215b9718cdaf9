using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Client;

/// <summary>
/// The names under which the client reports: traces from the <see cref="ActivitySourceName"/> activity source (one span per
/// operation, a child span per tracker or storage exchange) and metrics from the <see cref="MeterName"/> meter. With
/// OpenTelemetry: <c>tracing.AddSource(FastDfsClientTelemetry.ActivitySourceName)</c>, <c>metrics.AddMeter(FastDfsClientTelemetry.MeterName)</c>.
/// </summary>
public static class FastDfsClientTelemetry
{
    public const string ActivitySourceName = "FastDfs.Client";

    public const string MeterName = "FastDfs.Client";
}

/// <summary>The client's activity source and instruments (docs/client.md, "Traces and metrics").</summary>
internal static class ClientTelemetry
{
    private static readonly string? Version = typeof(ClientTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(FastDfsClientTelemetry.ActivitySourceName, Version);

    private static readonly Meter Meter = new(FastDfsClientTelemetry.MeterName, Version);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("fastdfs.client.operation.duration", "s",
        "Duration of client operations (an upload with its tracker query, a download to its last byte...); error.type is set on failures.");

    private static readonly Counter<long> Uploaded = Meter.CreateCounter<long>("fastdfs.client.uploaded", "By", "File bytes sent by completed uploads, appends and modifies.");

    private static readonly Counter<long> Downloaded = Meter.CreateCounter<long>("fastdfs.client.downloaded", "By", "File bytes received by completed downloads.");

    /// <summary>The pools of the clients alive now, for the connection gauges.</summary>
    private static readonly ConcurrentDictionary<ConnectionPoolSet, byte> LivePools = new();

    static ClientTelemetry()
    {
        Meter.CreateObservableUpDownCounter("fastdfs.client.connections.idle", () => LivePools.Keys.Sum(set => set.Pools.Sum(p => (long)p.IdleCount)),
            "{connection}", "Open connections waiting in the pools for reuse.");
        Meter.CreateObservableCounter("fastdfs.client.connections.opened", () => LivePools.Keys.Sum(set => set.Pools.Sum(p => p.OpenedCount)),
            "{connection}", "Connections opened to trackers and storages.");
    }

    public static void Track(ConnectionPoolSet pools) => LivePools.TryAdd(pools, 0);

    public static void Untrack(ConnectionPoolSet pools) => LivePools.TryRemove(pools, out _);

    /// <summary>Starts an operation: a span (when someone listens) and its clock.</summary>
    public static Operation Start(string name, FileId? fileId) => new(name, fileId);

    public static void CountUploaded(long bytes) => Uploaded.Add(bytes);

    public static void CountDownloaded(long bytes) => Downloaded.Add(bytes);

    /// <summary>A span per tracker or storage exchange, a child of the operation's; named by its command when sent.</summary>
    public static Activity? StartExchange(FastDfsEndpoint endpoint)
    {
        var activity = Source.StartActivity("fastdfs exchange", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("server.address", endpoint.Host);
            activity.SetTag("server.port", endpoint.Port);
        }

        return activity;
    }

    /// <summary>Names the current exchange span after the command sent on it.</summary>
    public static void NameExchange(FdfsCommand command)
    {
        if (Activity.Current is { Source: var source } activity && ReferenceEquals(source, Source) && activity.OperationName == "fastdfs exchange")
        {
            activity.DisplayName = "fastdfs " + command;
            activity.SetTag("fastdfs.command", (int)command);
        }
    }

    /// <summary>One client operation in progress (used as a local variable: a mutable struct).</summary>
    internal struct Operation(string name, FileId? fileId)
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly Activity? _activity = StartActivity(name, fileId);
        private string? _error;

        private static Activity? StartActivity(string name, FileId? fileId)
        {
            var activity = Source.StartActivity("fastdfs " + name, ActivityKind.Client);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("fastdfs.operation", name);
                if (fileId is not null)
                {
                    activity.SetTag("fastdfs.file_id", fileId.Value.ToString());
                }
            }

            return activity;
        }

        /// <summary>The file the operation made (an upload's new ID).</summary>
        public readonly void SetFileId(FileId fileId)
        {
            if (_activity is { IsAllDataRequested: true })
            {
                _activity.SetTag("fastdfs.file_id", fileId.ToString());
            }
        }

        public void Fail(Exception error)
        {
            _error = error is FastDfsException { IsServerError: true } fdfs ? fdfs.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : error.GetType().FullName;
            _activity?.SetTag("error.type", _error);
            _activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        }

        public readonly void End()
        {
            var tags = new TagList { { "fastdfs.operation", name } };
            if (_error is not null)
            {
                tags.Add("error.type", _error);
            }

            Duration.Record(Stopwatch.GetElapsedTime(_start).TotalSeconds, tags);
            _activity?.Dispose();
        }
    }
}
