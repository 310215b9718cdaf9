namespace FastDfs.Tracker.Network;

/// <summary>The tracker's open connections now and at most (PING_LEADER, the monitor, the metrics).</summary>
internal sealed class ConnectionCounts
{
    private int _current;
    private int _peak;

    public int Current => Volatile.Read(ref _current);

    public int Peak => Volatile.Read(ref _peak);

    public void Opened()
    {
        int now = Interlocked.Increment(ref _current);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) &&
               Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }
    }

    public void Closed() => Interlocked.Decrement(ref _current);
}
