using System.Diagnostics;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// Keeps a background reader (the scrub, anti-entropy's checksums, a disk recovery) at or below a number of bytes per second, so that
/// it never takes the disk from clients. A pause (a directory with nothing to read) does not earn a later burst of
/// more than one second's worth.
/// </summary>
internal sealed class ReadThrottle(long bytesPerSecond)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _creditSeconds;

    public long BytesPerSecond { get; } = Math.Max(0, bytesPerSecond);

    /// <summary>Waits until <paramref name="bytes"/> more may be read.</summary>
    public async ValueTask WaitAsync(int bytes, CancellationToken cancellationToken)
    {
        if (BytesPerSecond == 0)
        {
            return;
        }

        double now = _clock.Elapsed.TotalSeconds;
        double ahead;
        lock (_clock)
        {
            // Several workers may share one throttle (disk recovery).
            _creditSeconds = Math.Max(_creditSeconds, now - 1);
            _creditSeconds += (double)bytes / BytesPerSecond;
            ahead = _creditSeconds - now;
        }

        if (ahead > 0.005)
        {
            await Task.Delay(TimeSpan.FromSeconds(ahead), cancellationToken).ConfigureAwait(false);
        }
    }
}
