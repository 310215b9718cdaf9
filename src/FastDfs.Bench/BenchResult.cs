using System.Globalization;
using System.Text.Json;

namespace FastDfs.Bench;

/// <summary>Latency figures of one kind of operation, in microseconds.</summary>
public sealed record LatencySummary(long Count, double Mean, long P50, long P90, long P99, long P999, long Max)
{
    public static LatencySummary From(LatencyHistogram h) =>
        new(h.Count, h.Mean, h.Percentile(50), h.Percentile(90), h.Percentile(99), h.Percentile(99.9), h.Max);
}

/// <summary>CPU and memory of the server processes over the measured phase.</summary>
public sealed record ServerUsage(IReadOnlyList<int> Pids, long CpuMicros, double CpuMicrosPerOp, long PeakRssBytes, long EndRssBytes)
{
    /// <summary>CPU µs per operation of each process, in the order of <see cref="Pids"/> (e.g. tracker, storage).</summary>
    public IReadOnlyList<double> CpuMicrosPerOpByPid { get; init; } = [];
}

/// <summary>The outcome of one run (<see cref="WriteJson"/> is the machine-readable summary).</summary>
public sealed record BenchResult
{
    public required BenchOptions Options { get; init; }

    /// <summary>Operations that completed and verified.</summary>
    public required long Ops { get; init; }

    public required long Uploads { get; init; }

    public required long Downloads { get; init; }

    /// <summary>Failed operations (server errno, connection failure, or verification failure).</summary>
    public required long Errors { get; init; }

    /// <summary>Failures keyed by errno (decimal) or by a word for failures without one (<c>verify</c>, <c>other</c>).</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    public required double Seconds { get; init; }

    /// <summary>File bytes moved by successful operations.</summary>
    public required long Bytes { get; init; }

    /// <summary>Downloaded bytes that were checked (every byte of every successful download).</summary>
    public required long VerifiedBytes { get; init; }

    public required LatencySummary Latency { get; init; }

    public required LatencySummary UploadLatency { get; init; }

    public required LatencySummary DownloadLatency { get; init; }

    public required double ClientCpuMicrosPerOp { get; init; }

    public ServerUsage? Server { get; init; }

    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;

    public double MegabytesPerSecond => Seconds > 0 ? Bytes / Seconds / (1 << 20) : 0;

    public void WriteJson(Stream destination)
    {
        using var json = new Utf8JsonWriter(destination, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("workload", Options.Workload.ToString().ToLowerInvariant());
        json.WriteNumber("concurrency", Options.Concurrency);
        json.WriteString("io", Options.IoMode);
        json.WriteNumber("minSize", Options.MinSize);
        json.WriteNumber("maxSize", Options.MaxSize);
        if (Options.Workload == BenchWorkload.Mixed)
        {
            json.WriteNumber("readPercent", Options.ReadPercent);
        }

        json.WriteNumber("ops", Ops);
        json.WriteNumber("uploads", Uploads);
        json.WriteNumber("downloads", Downloads);
        json.WriteNumber("errors", Errors);
        json.WriteStartObject("errorsByErrno");
        foreach (var (kind, count) in ErrorsByKind.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(kind, count);
        }

        json.WriteEndObject();
        json.WriteNumber("seconds", Math.Round(Seconds, 3));
        json.WriteNumber("opsPerSecond", Math.Round(OpsPerSecond, 1));
        json.WriteNumber("bytes", Bytes);
        json.WriteNumber("megabytesPerSecond", Math.Round(MegabytesPerSecond, 2));
        json.WriteNumber("verifiedBytes", VerifiedBytes);
        WriteLatency(json, "latencyMicros", Latency);
        WriteLatency(json, "uploadLatencyMicros", UploadLatency);
        WriteLatency(json, "downloadLatencyMicros", DownloadLatency);
        json.WriteNumber("clientCpuMicrosPerOp", Math.Round(ClientCpuMicrosPerOp, 1));
        if (Server is { } server)
        {
            json.WriteStartObject("server");
            json.WriteStartArray("pids");
            foreach (int pid in server.Pids)
            {
                json.WriteNumberValue(pid);
            }

            json.WriteEndArray();
            json.WriteNumber("cpuMicros", server.CpuMicros);
            json.WriteNumber("cpuMicrosPerOp", Math.Round(server.CpuMicrosPerOp, 1));
            json.WriteStartArray("cpuMicrosPerOpByPid");
            foreach (double perPid in server.CpuMicrosPerOpByPid)
            {
                json.WriteNumberValue(Math.Round(perPid, 1));
            }

            json.WriteEndArray();
            json.WriteNumber("peakRssBytes", server.PeakRssBytes);
            json.WriteNumber("endRssBytes", server.EndRssBytes);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>The human summary, in the spirit of <c>weed benchmark</c>.</summary>
    public string Format()
    {
        var s = new StringWriter(CultureInfo.InvariantCulture);
        string size = Options.MinSize == Options.MaxSize
            ? ByteSize.Format(Options.MinSize)
            : $"{ByteSize.Format(Options.MinSize)}-{ByteSize.Format(Options.MaxSize)}";
        s.WriteLine($"workload {Options.Workload.ToString().ToLowerInvariant()}, size {size}, concurrency {Options.Concurrency}, io {Options.IoMode}");
        s.WriteLine($"completed {Ops} ops ({Uploads} uploads, {Downloads} downloads) in {Seconds:0.000} s, {Errors} errors");
        s.WriteLine($"ops/s        {OpsPerSecond:0.0}");
        s.WriteLine($"transfer     {MegabytesPerSecond:0.00} MB/s ({Bytes} bytes, {VerifiedBytes} downloaded bytes verified)");
        WriteLatencyLine(s, "latency", Latency);
        if (Uploads > 0 && Downloads > 0)
        {
            WriteLatencyLine(s, "  upload", UploadLatency);
            WriteLatencyLine(s, "  download", DownloadLatency);
        }

        s.WriteLine($"client CPU   {ClientCpuMicrosPerOp:0.0} µs/op");
        if (Server is { } server)
        {
            string split = server.Pids.Count > 1 ? " = " + string.Join(" + ", server.CpuMicrosPerOpByPid.Select(c => c.ToString("0.0", CultureInfo.InvariantCulture))) : string.Empty;
            s.WriteLine($"server CPU   {server.CpuMicrosPerOp:0.0}{split} µs/op (pids {string.Join(',', server.Pids)}), peak RSS {server.PeakRssBytes / (1 << 20)} MB");
        }

        foreach (var (kind, count) in ErrorsByKind.OrderByDescending(e => e.Value))
        {
            string what = int.TryParse(kind, NumberStyles.Integer, CultureInfo.InvariantCulture, out int errno)
                ? $"error no {errno} ({Protocol.Errno.Describe(errno)})"
                : kind;
            s.WriteLine($"  {count} x {what}");
        }

        return s.ToString();
    }

    private static void WriteLatencyLine(StringWriter s, string label, LatencySummary l) =>
        s.WriteLine($"{label,-12} ms: mean {Ms(l.Mean)}, p50 {Ms(l.P50)}, p90 {Ms(l.P90)}, p99 {Ms(l.P99)}, max {Ms(l.Max)}");

    private static string Ms(double micros) => (micros / 1000).ToString("0.000", CultureInfo.InvariantCulture);

    private static void WriteLatency(Utf8JsonWriter json, string name, LatencySummary l)
    {
        json.WriteStartObject(name);
        json.WriteNumber("count", l.Count);
        json.WriteNumber("mean", Math.Round(l.Mean, 1));
        json.WriteNumber("p50", l.P50);
        json.WriteNumber("p90", l.P90);
        json.WriteNumber("p99", l.P99);
        json.WriteNumber("p999", l.P999);
        json.WriteNumber("max", l.Max);
        json.WriteEndObject();
    }
}
