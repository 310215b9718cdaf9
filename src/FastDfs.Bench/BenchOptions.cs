using FastDfs.Protocol.FileIds;

namespace FastDfs.Bench;

public enum BenchWorkload
{
    Upload,
    Download,
    Mixed,
}

/// <summary>What one <c>fdfs bench</c> run does. Without <see cref="Count"/> or <see cref="Duration"/> it runs 1000 operations.</summary>
public sealed record BenchOptions
{
    public BenchWorkload Workload { get; init; } = BenchWorkload.Upload;

    /// <summary>Concurrent workers; each holds its own tracker and storage connection.</summary>
    public int Concurrency { get; init; } = 8;

    public long MinSize { get; init; } = 4096;

    public long MaxSize { get; init; } = 4096;

    /// <summary>Measured operations to run (all workers together); null with a duration = unbounded.</summary>
    public long? Count { get; init; }

    /// <summary>Stop starting operations after this long.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Percentage of downloads in the mixed workload (the rest are uploads).</summary>
    public int ReadPercent { get; init; } = 80;

    /// <summary>Files uploaded before a download/mixed run (0 = automatic: up to 100, at most ~1 GB).</summary>
    public int WorkingSetFiles { get; init; }

    /// <summary>Existing file IDs to download instead of uploading a working set (checked by the CRC-32 in their names).</summary>
    public IReadOnlyList<FileId>? FileIds { get; init; }

    /// <summary>Extension of uploaded files (null for none).</summary>
    public string? Ext { get; init; } = "bin";

    /// <summary>Group to upload to (null lets the tracker choose).</summary>
    public string? Group { get; init; }

    /// <summary>Server processes whose CPU time and memory are sampled around the measured phase.</summary>
    public IReadOnlyList<int> ServerPids { get; init; } = [];

    /// <summary>
    /// Each worker is a thread of its own that blocks in its socket calls (the client's
    /// <c>BlockingSockets</c>), instead of asynchronous I/O on the thread pool: the generator then spends far
    /// less CPU per small operation, which on a machine it shares with the servers is CPU they get.
    /// </summary>
    public bool BlockingSockets { get; init; } = true;

    /// <summary>The I/O mode as <c>fdfs bench --io</c> names it (reported in the summaries).</summary>
    public string IoMode => BlockingSockets ? "blocking" : "async";

    /// <summary>Key of the first file this run uploads: different runs can use different content.</summary>
    public long FirstKey { get; init; }

    public long EffectiveCount => Count ?? (Duration is null ? 1000 : long.MaxValue);

    public int EffectiveWorkingSet => WorkingSetFiles > 0
        ? WorkingSetFiles
        : (int)Math.Clamp(Math.Min(100, (1L << 30) / Math.Max(1, MaxSize)), 1, 100);

    public void Validate()
    {
        if (Concurrency is < 1 or > 4096)
        {
            throw new ArgumentException("concurrency must be between 1 and 4096");
        }

        if (MinSize < 0 || MaxSize < MinSize)
        {
            throw new ArgumentException("invalid file size range");
        }

        if (Count is <= 0)
        {
            throw new ArgumentException("count must be positive");
        }

        if (Duration is { } d && d <= TimeSpan.Zero)
        {
            throw new ArgumentException("duration must be positive");
        }

        if (ReadPercent is < 0 or > 100)
        {
            throw new ArgumentException("read percent must be between 0 and 100");
        }

        if (FileIds is { Count: 0 })
        {
            throw new ArgumentException("the file ID list is empty");
        }
    }
}
