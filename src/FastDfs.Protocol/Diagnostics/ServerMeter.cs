using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using FastDfs.Protocol.Messages;

namespace FastDfs.Protocol.Diagnostics;

/// <summary>
/// The instruments every FastDFS.NET server has: protocol requests and their latency per command, HTTP
/// requests and their latency per method. One <see cref="Meter"/> per server instance, because tests and
/// <c>fdfs server</c> host several servers in one process: the first instance of a kind is named
/// <c>prefix</c>, later ones <c>prefix.N</c>. Server-specific instruments are added on <see cref="Meter"/>.
/// </summary>
public sealed class ServerMeter : IDisposable
{
    private static readonly ConcurrentDictionary<string, int> s_instances = new();
    private static readonly string[] s_commandNames = BuildCommandNames();
    private static readonly string[] s_statusNames =
        Enumerable.Range(0, 256).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;

#if NET9_0_OR_GREATER
    /// <summary>
    /// Bucket bounds in seconds, 100 µs to 60 s: without them the exporter's defaults (0, 5, 10 ... 10000, meant for
    /// milliseconds) put every request in the first bucket and no percentile can be read.
    /// </summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

#endif
    /// <param name="meterNamePrefix">the meter's name, e.g. <c>FastDfs.Storage</c></param>
    /// <param name="instrumentPrefix">the instruments' name prefix, e.g. <c>fastdfs.storage</c></param>
    public ServerMeter(string meterNamePrefix, string instrumentPrefix)
    {
        int instance = s_instances.AddOrUpdate(meterNamePrefix, 1, (_, n) => n + 1);
        Name = instance == 1 ? meterNamePrefix : $"{meterNamePrefix}.{instance}";
        Meter = new Meter(Name);
        _requests = Meter.CreateCounter<long>($"{instrumentPrefix}.requests",
            description: "FastDFS protocol requests by command (and reply status: errno, 0 = success, where recorded)");
        _requestDuration = Meter.CreateHistogram<double>($"{instrumentPrefix}.request.duration", "s", "FastDFS protocol request latency by command"
#if NET9_0_OR_GREATER
            , tags: null, advice: SecondsBuckets
#endif
            );
        _httpRequests = Meter.CreateCounter<long>($"{instrumentPrefix}.http.requests", description: "HTTP requests by method and status code");
        _httpDuration = Meter.CreateHistogram<double>($"{instrumentPrefix}.http.request.duration", "s", "HTTP request latency by method"
#if NET9_0_OR_GREATER
            , tags: null, advice: SecondsBuckets
#endif
            );
    }

    /// <summary>The meter's name, to hand to the exporter.</summary>
    public string Name { get; }

    public Meter Meter { get; }

    public static long StartTimestamp() => Stopwatch.GetTimestamp();

    /// <summary>The snake_case name of a command code, as the <c>command</c> tag shows it.</summary>
    public static string CommandName(byte command) => s_commandNames[command];

    public void RecordCommand(byte command, long startTimestamp, byte? status = null)
    {
        var tags = new TagList { { "command", s_commandNames[command] } };
        _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        if (status is { } code)
        {
            tags.Add("status", s_statusNames[code]);
        }

        _requests.Add(1, tags);
    }

    public void RecordHttp(string method, int statusCode, long startTimestamp)
    {
        var tags = new TagList { { "method", method } };
        _httpDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("code", statusCode);
        _httpRequests.Add(1, tags);
    }

    public void Dispose() => Meter.Dispose();

    private static string[] BuildCommandNames()
    {
        var names = new string[256];
        for (int i = 0; i < names.Length; i++)
        {
            var command = (FdfsCommand)i;
            names[i] = Enum.IsDefined(command) ? ToSnake(command.ToString())
                : i == (int)HttpPortQuery.Command ? "http_port"
                : i == (int)TrunkSpaceQuery.Command ? "trunk_space"
                : "cmd_" + i.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    private static string ToSnake(string pascal)
    {
        var builder = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(pascal[i]));
        }

        return builder.ToString();
    }
}
