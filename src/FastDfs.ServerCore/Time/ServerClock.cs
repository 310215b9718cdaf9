namespace FastDfs.ServerCore.Time;

/// <summary>The readings the servers take from their <see cref="TimeProvider"/> (the system clock, or a fake one in tests).</summary>
public static class ServerClock
{
    /// <summary>Now in Unix seconds: the timestamps of the protocol, the binlog and the state files.</summary>
    public static long UnixSeconds(this TimeProvider clock) => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// A monotonic millisecond count (as <see cref="Environment.TickCount64"/>, but by <paramref name="clock"/>): only
    /// differences between two readings mean something.
    /// </summary>
    public static long Milliseconds(this TimeProvider clock) => clock.GetTimestamp() / Math.Max(1, clock.TimestampFrequency / 1000);
}
