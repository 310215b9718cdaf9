namespace FastDfs.Storage.Store;

/// <summary>
/// Sub-directory choice of spec 9.5. Mode 0: a global (high, low) pair that moves on after every
/// <c>file_distribute_rotate_count</c> files, persisted in <c>storage_stat.dat</c>. Mode 1: random.
/// </summary>
internal sealed class SubdirDistributor(int mode, int rotateCount, int subdirCount)
{
    private readonly object _gate = new();
    private readonly int _rotateCount = rotateCount > 0 ? rotateCount : 100;

    public int High { get; private set; }
    public int Low { get; private set; }
    public int WriteFileCount { get; private set; }

    public void Restore(long high, long low, long count)
    {
        lock (_gate)
        {
            High = (int)Math.Clamp(high, 0, subdirCount - 1);
            Low = (int)Math.Clamp(low, 0, subdirCount - 1);
            WriteFileCount = (int)Math.Max(0, count);
        }
    }

    public (int High, int Low, int Count) Snapshot()
    {
        lock (_gate)
        {
            return (High, Low, WriteFileCount);
        }
    }

    /// <summary>The directory for the next upload; advances the round robin once per call.</summary>
    public (int High, int Low) Next()
    {
        if (mode == 1)
        {
            return (Random.Shared.Next(subdirCount), Random.Shared.Next(subdirCount));
        }

        lock (_gate)
        {
            var chosen = (High, Low);
            WriteFileCount++;
            if (WriteFileCount >= _rotateCount)
            {
                WriteFileCount = 0;
                Low++;
                if (Low >= subdirCount)
                {
                    Low = 0;
                    High = (High + 1) % subdirCount;
                }
            }

            return chosen;
        }
    }
}
