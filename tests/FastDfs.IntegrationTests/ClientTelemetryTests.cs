using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests;

/// <summary>Listeners see every client of the test process: the telemetry tests run alone (their metrics count every byte).</summary>
[CollectionDefinition(nameof(ClientTelemetryTests), DisableParallelization = true)]
public sealed class ClientTelemetryCollection;

/// <summary>The client's traces and metrics (docs/client.md, "Traces and metrics") as an OpenTelemetry exporter would collect them.</summary>
[Collection(nameof(ClientTelemetryTests))]
public sealed class ClientTelemetryTests
{
    [Fact]
    public async Task Operations_give_a_span_with_tracker_and_storage_children_and_metrics_with_bytes_and_errors()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await using var client = cluster.CreateClient();
        string tracker = cluster.TrackerAddress;

        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FastDfsClientTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FastDfsClientTelemetry.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Enqueue((i.Name, v, ToDictionary(tags))));
        meters.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Enqueue((i.Name, v, ToDictionary(tags))));
        meters.Start();

        byte[] content = new byte[12_345];
        Random.Shared.NextBytes(content);
        using var parent = new Activity("request").Start(); // an application's own span: the client's hang below it
        var id = await client.UploadAsync(content, "bin", ct: ct);
        Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        await client.DeleteAsync(id, ct);
        var missing = await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct));
        parent.Stop();
        meters.RecordObservableInstruments();

        var mine = spans.Where(s => s.TraceId == parent.TraceId).ToList();
        var upload = Assert.Single(mine, s => s.DisplayName == "fastdfs upload");
        Assert.Equal(parent.TraceId, upload.TraceId);
        Assert.Equal(parent.SpanId, upload.ParentSpanId);
        Assert.Equal(ActivityKind.Client, upload.Kind);
        Assert.Equal(id.ToString(), upload.GetTagItem("fastdfs.file_id"));
        var children = mine.Where(s => s.ParentSpanId == upload.SpanId).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["fastdfs " + FdfsCommand.QueryStoreWithoutGroupOne, "fastdfs " + FdfsCommand.UploadFile], children.Select(s => s.DisplayName));
        Assert.Equal(tracker, $"{children[0].GetTagItem("server.address")}:{children[0].GetTagItem("server.port")}");
        Assert.Equal(cluster.Storages[0].EndPoint.Port, children[1].GetTagItem("server.port"));

        var failed = mine.Last(s => s.DisplayName == "fastdfs download");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal($"{missing.ErrorCode}", failed.GetTagItem("error.type"));

        var durations = measurements.Where(m => m.Instrument == "fastdfs.client.operation.duration").ToList();
        Assert.Contains(durations, m => (string?)m.Tags["fastdfs.operation"] == "upload" && !m.Tags.ContainsKey("error.type") && m.Value > 0);
        Assert.Contains(durations, m => (string?)m.Tags["fastdfs.operation"] == "delete");
        Assert.Contains(durations, m => (string?)m.Tags["fastdfs.operation"] == "download" && (string?)m.Tags.GetValueOrDefault("error.type") == $"{Errno.ENOENT}");
        Assert.Equal(content.Length, measurements.Where(m => m.Instrument == "fastdfs.client.uploaded").Sum(m => m.Value));
        Assert.Equal(content.Length, measurements.Where(m => m.Instrument == "fastdfs.client.downloaded").Sum(m => m.Value));
        Assert.Contains(measurements, m => m.Instrument == "fastdfs.client.connections.opened" && m.Value >= 2);
        Assert.Contains(measurements, m => m.Instrument == "fastdfs.client.connections.idle" && m.Value >= 2);
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var (key, value) in tags)
        {
            result[key] = value;
        }

        return result;
    }
}
