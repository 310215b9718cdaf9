using BenchmarkDotNet.Attributes;
using FastDfs.Bench;

namespace FastDfs.Benchmarks;

/// <summary>The load generator's own per-op cost: recording a latency must stay negligible.</summary>
[MemoryDiagnoser]
public class HistogramBenchmarks
{
    private readonly LatencyHistogram _histogram = new();
    private long _value = 1;

    [Benchmark]
    public void Record()
    {
        _value = (_value * 6364136223846793005L) + 1442695040888963407L;
        _histogram.Record((_value >>> 40) & 0xFFFFF);
    }
}
