using System.Diagnostics;

namespace FastDfs.Storage.Store;

/// <summary>
/// The way into one store path's disk for a request (fdfs#387: one disk answering a stat in seconds must not stall
/// the requests for the other disks). It records when each request inside started to wait for the disk, so that a disk
/// that answers late is seen while requests wait on it (<see cref="OldestWait"/>). A healthy disk is entered on the
/// calling thread (a thread change per request costs a small download ~45% more storage CPU). Once a request has waited
/// long for this disk (<see cref="IsolateFor"/>, with several store paths), its requests are isolated for a while: each
/// leaves the socket's thread before it touches the disk (the socket threads serve every connection), and at most
/// <see cref="Limit"/> are inside at once; the others wait without holding a thread.
/// </summary>
internal sealed class DiskGate
{
    /// <summary>Requests whose start is recorded (more may be inside without isolation; the oldest are what counts).</summary>
    private const int Tracked = 64;

    private readonly SemaphoreSlim? _slots;

    /// <summary>Until when (Stopwatch timestamp) requests are isolated; 0 = not isolated.</summary>
    private long _isolateUntil;

    /// <summary>Start timestamps of the requests inside (0 = a free entry).</summary>
    private readonly long[] _started = new long[Tracked];

    /// <param name="limit">requests inside the disk at once when isolating</param>
    /// <param name="canIsolate">the disk's requests may be isolated when it is slow (several store paths; with one there is nothing to
    /// protect)</param>
    public DiskGate(int limit, bool canIsolate)
    {
        Limit = limit;
        _slots = canIsolate ? new SemaphoreSlim(limit, limit) : null;
    }

    public int Limit { get; }

    public bool CanIsolate => _slots is not null;

    /// <summary>Whether requests are isolated now.</summary>
    public bool Isolates => _slots is not null && Stopwatch.GetTimestamp() < Volatile.Read(ref _isolateUntil);

    /// <summary>Isolates this disk's requests for <paramref name="period"/> from now (a request waited long for it); false when it cannot.</summary>
    public bool IsolateFor(TimeSpan period)
    {
        if (_slots is null)
        {
            return false;
        }

        Volatile.Write(ref _isolateUntil, Stopwatch.GetTimestamp() + (long)(period.TotalSeconds * Stopwatch.Frequency));
        return true;
    }

    /// <summary>Enters the disk (off the socket thread and within the limit while isolated). Dispose the section to leave.</summary>
    public ValueTask<Section> EnterAsync(CancellationToken ct) => Isolates ? EnterIsolatedAsync(ct) : new(Enter(Stopwatch.GetTimestamp(), isolated: false));

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Section> EnterIsolatedAsync(CancellationToken ct)
    {
        // The wait for a turn counts: a disk that holds every turn is slow for the ones waiting too.
        long started = Stopwatch.GetTimestamp();
        await _slots!.WaitAsync(ct).ConfigureAwait(false);
        // Off the socket thread (an inline socket continuation) before the first system call on this disk.
        await Task.Yield();
        return Enter(started, isolated: true);
    }

    private Section Enter(long started, bool isolated)
    {
        int first = Environment.CurrentManagedThreadId % Tracked;
        for (int i = 0; i < Tracked; i++)
        {
            int entry = (first + i) % Tracked;
            if (Interlocked.CompareExchange(ref _started[entry], started, 0) == 0)
            {
                return new Section(this, entry, isolated);
            }
        }

        return new Section(this, -1, isolated);
    }

    private void Leave(int entry, bool isolated)
    {
        if (entry >= 0)
        {
            Volatile.Write(ref _started[entry], 0);
        }

        if (isolated)
        {
            _slots!.Release();
        }
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
    public struct Section(DiskGate gate, int entry, bool isolated) : IDisposable
    {
        private DiskGate? _gate = gate;

        public void Dispose()
        {
            _gate?.Leave(entry, isolated);
            _gate = null;
        }
    }
}
