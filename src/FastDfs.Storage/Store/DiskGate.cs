using System.Diagnostics;

namespace FastDfs.Storage.Store;

/// <summary>
/// The way into one store path's disk for a request (fdfs#387: one disk answering a stat in seconds must not stall
/// the requests for the other disks). It counts the requests inside the disk and when one last came out, so that a
/// disk that stops answering is seen while it hangs (<see cref="StalledFor"/>). With several store paths it also
/// isolates: a request leaves the socket's thread before it touches the disk (the socket threads serve every
/// connection), and at most <see cref="Limit"/> requests are inside one path's disk at once; the others wait without
/// holding a thread. With one store path there is nothing to isolate from, and no thread change is paid.
/// </summary>
internal sealed class DiskGate
{
    private readonly SemaphoreSlim? _slots;
    private int _inside;
    private long _lastProgress = Stopwatch.GetTimestamp();

    /// <param name="limit">requests inside the disk at once when isolating</param>
    /// <param name="isolate">leave the calling thread and bound the requests inside (several store paths)</param>
    public DiskGate(int limit, bool isolate)
    {
        Limit = limit;
        _slots = isolate ? new SemaphoreSlim(limit, limit) : null;
    }

    public int Limit { get; }

    public bool Isolates => _slots is not null;

    /// <summary>Requests inside this disk now.</summary>
    public int Inside => Volatile.Read(ref _inside);

    /// <summary>Enters the disk: on a thread-pool thread and within the limit when isolating. Dispose the section to leave.</summary>
    public ValueTask<Section> EnterAsync(CancellationToken ct) => _slots is null ? new(Enter()) : EnterIsolatedAsync(ct);

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Section> EnterIsolatedAsync(CancellationToken ct)
    {
        await _slots!.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Off the socket thread (an inline socket continuation) before the first system call on this disk.
            await Task.Yield();
        }
        catch
        {
            _slots.Release();
            throw;
        }

        return Enter();
    }

    private Section Enter()
    {
        if (Interlocked.Increment(ref _inside) == 1)
        {
            // Idle until now: the wait for an answer starts here, not at the last request's end.
            Volatile.Write(ref _lastProgress, Stopwatch.GetTimestamp());
        }

        return new Section(this);
    }

    private void Leave()
    {
        Volatile.Write(ref _lastProgress, Stopwatch.GetTimestamp());
        Interlocked.Decrement(ref _inside);
        _slots?.Release();
    }

    /// <summary>How long requests have been inside the disk with none coming out; zero when none is inside.</summary>
    public TimeSpan StalledFor => Volatile.Read(ref _inside) == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Volatile.Read(ref _lastProgress));

    /// <summary>A request inside the disk; leaves it when disposed (once).</summary>
    public struct Section(DiskGate gate) : IDisposable
    {
        private DiskGate? _gate = gate;

        public void Dispose()
        {
            _gate?.Leave();
            _gate = null;
        }
    }
}
