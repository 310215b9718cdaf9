using System.Diagnostics;

namespace FastDfs.Storage.Store;

/// <summary>
/// The way into one store path's disk for a request (fdfs#387: one disk answering a stat in seconds must not stall
/// the requests for the other disks). It records when each request inside started to wait for the disk, so that a disk
/// that answers late is seen while requests wait on it (<see cref="OldestWait"/>). With several store paths it also
/// isolates: a request leaves the socket's thread before it touches the disk (the socket threads serve every
/// connection), and at most <see cref="Limit"/> requests are inside one path's disk at once; the others wait without
/// holding a thread. With one store path there is nothing to isolate from, and no thread change is paid.
/// </summary>
internal sealed class DiskGate
{
    /// <summary>Requests whose start is recorded (more may be inside without isolation; the oldest are what counts).</summary>
    private const int Tracked = 64;

    private readonly SemaphoreSlim? _slots;

    /// <summary>Start timestamps of the requests inside (0 = a free entry).</summary>
    private readonly long[] _started = new long[Tracked];

    /// <param name="limit">requests inside the disk at once when isolating</param>
    /// <param name="isolate">leave the calling thread and bound the requests inside (several store paths)</param>
    public DiskGate(int limit, bool isolate)
    {
        Limit = limit;
        _slots = isolate ? new SemaphoreSlim(limit, limit) : null;
    }

    public int Limit { get; }

    public bool Isolates => _slots is not null;

    /// <summary>Enters the disk: on a thread-pool thread and within the limit when isolating. Dispose the section to leave.</summary>
    public ValueTask<Section> EnterAsync(CancellationToken ct) => _slots is null ? new(Enter(Stopwatch.GetTimestamp())) : EnterIsolatedAsync(ct);

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Section> EnterIsolatedAsync(CancellationToken ct)
    {
        // The wait for a turn counts: a disk that holds every turn is slow for the ones waiting too.
        long started = Stopwatch.GetTimestamp();
        await _slots!.WaitAsync(ct).ConfigureAwait(false);
        // Off the socket thread (an inline socket continuation) before the first system call on this disk.
        await Task.Yield();
        return Enter(started);
    }

    private Section Enter(long started)
    {
        int first = Environment.CurrentManagedThreadId % Tracked;
        for (int i = 0; i < Tracked; i++)
        {
            int entry = (first + i) % Tracked;
            if (Interlocked.CompareExchange(ref _started[entry], started, 0) == 0)
            {
                return new Section(this, entry);
            }
        }

        return new Section(this, -1);
    }

    private void Leave(int entry)
    {
        if (entry >= 0)
        {
            Volatile.Write(ref _started[entry], 0);
        }

        _slots?.Release();
    }

    /// <summary>How many requests are inside the disk now (those whose start is recorded).</summary>
    public int Inside
    {
        get
        {
            int inside = 0;
            for (int i = 0; i < Tracked; i++)
            {
                inside += Volatile.Read(ref _started[i]) != 0 ? 1 : 0;
            }

            return inside;
        }
    }

    /// <summary>How long the oldest request inside has been waiting for the disk (its turn included); zero when none is inside.</summary>
    public TimeSpan OldestWait
    {
        get
        {
            long oldest = long.MaxValue;
            for (int i = 0; i < Tracked; i++)
            {
                long started = Volatile.Read(ref _started[i]);
                if (started != 0 && started < oldest)
                {
                    oldest = started;
                }
            }

            return oldest == long.MaxValue ? TimeSpan.Zero : Stopwatch.GetElapsedTime(oldest);
        }
    }

    /// <summary>A request inside the disk; leaves it when disposed (once).</summary>
    public struct Section(DiskGate gate, int entry) : IDisposable
    {
        private DiskGate? _gate = gate;

        public void Dispose()
        {
            _gate?.Leave(entry);
            _gate = null;
        }
    }
}
