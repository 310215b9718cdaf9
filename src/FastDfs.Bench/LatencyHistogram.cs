using System.Numerics;

namespace FastDfs.Bench;

/// <summary>
/// A log-bucketed latency histogram in the spirit of HdrHistogram: exact below 64 µs, then 32 linear
/// sub-buckets per power of two (relative error under 3.2%) up to 2^40 µs. Recording is a couple of
/// instructions and never allocates; one instance per worker, merged at the end (not thread-safe).
/// </summary>
public sealed class LatencyHistogram
{
    private const int ExactLimit = 64;
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int FirstExponent = 6; // log2(ExactLimit)
    private const int MaxExponent = 40;
    private const int BucketCount = ExactLimit + ((MaxExponent - FirstExponent + 1) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Records one latency in microseconds (negative values count as 0).</summary>
    public void Record(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }

        _counts[IndexOf(micros)]++;
        Count++;
        Sum += micros;
        if (micros > Max)
        {
            Max = micros;
        }

        if (micros < Min)
        {
            Min = micros;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
        Min = Math.Min(Min, other.Min);
    }

    /// <summary>The latency (µs) at or below which <paramref name="percentile"/> % of the recorded values fall (bucket upper bound, capped at the max).</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(HighestInBucket(i), Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long micros)
    {
        if (micros < ExactLimit)
        {
            return (int)micros;
        }

        int exponent = Math.Min(63 - BitOperations.LeadingZeroCount((ulong)micros), MaxExponent);
        long sub = Math.Min((micros >> (exponent - SubBucketBits)) & (SubBuckets - 1), SubBuckets - 1);
        return ExactLimit + ((exponent - FirstExponent) * SubBuckets) + (int)sub;
    }

    internal static long HighestInBucket(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        int exponent = FirstExponent + ((index - ExactLimit) / SubBuckets);
        long sub = (index - ExactLimit) % SubBuckets;
        long width = 1L << (exponent - SubBucketBits);
        return (1L << exponent) + ((sub + 1) * width) - 1;
    }
}
