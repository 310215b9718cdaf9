using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Store;

/// <summary>
/// Watches the disks of the store paths while the storage runs: every <c>store_path_check_interval</c> seconds, and at
/// once when a request met EIO or a read-only file system, each path must still have its data directories and take a
/// small synced write. A path that fails is taken out of service (no new uploads; the trackers are told, and send its
/// files' readers to the group's other members); one that passes again comes back. The other paths go on serving.
/// </summary>
internal sealed class StorePathHealth(StorePathSet paths, int subdirCount, ILogger logger)
{
    private const string ProbeFileName = ".health_probe";

    private static readonly TimeSpan ConfirmAfter = TimeSpan.FromSeconds(1);

    private const int ENOSPC = 28;

    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Asks for a check now (a request failed with EIO or EROFS).</summary>
    public void CheckSoon()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A check is already asked for.
        }
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Run(CheckAll, stop).ConfigureAwait(false);
                await _wake.WaitAsync(interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The check must outlive anything a broken disk throws at it (and a stop must still flush the state).
                logger.LogError(e, "checking the store paths failed; trying again");
                await Task.Delay(interval, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A request that waited this long for a disk makes that disk's requests isolated (<see cref="DiskGate"/>).</summary>
    public static readonly TimeSpan IsolateAfter = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a disk's requests stay isolated after a request waited long for it.</summary>
    public static readonly TimeSpan IsolationPeriod = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Every 100 ms: a disk on which a request has waited <see cref="IsolateAfter"/> gets its requests isolated from the
    /// others for <see cref="IsolationPeriod"/>; a path whose oldest request has waited longer than <paramref name="threshold"/>
    /// is slow, out of service like a failed one (readers to the peers, uploads elsewhere), until it answers in time again.
    /// Apart from the probe of <see cref="CheckAll"/>, which a hanging disk would hold up.
    /// </summary>
    public async Task WatchSlowDisksAsync(TimeSpan threshold, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                CheckSlowness(threshold);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private readonly Dictionary<int, long> _calmSince = [];

    /// <summary>
    /// A path whose oldest request has waited for its disk longer than <paramref name="threshold"/> is slow; it is back in
    /// service once no request has waited half as long for <paramref name="threshold"/> (a disk that answers one request in
    /// between is still slow).
    /// </summary>
    public void CheckSlowness(TimeSpan threshold)
    {
        long now = Environment.TickCount64;
        foreach (var path in paths.All)
        {
            var oldest = path.Gate.OldestWait;
            if (oldest > IsolateAfter && path.Gate.Isolates is var isolated && path.Gate.IsolateFor(IsolationPeriod) && !isolated)
            {
                logger.LogWarning("store path {Index} ({Path}): a request has waited {Seconds:F1} s for its disk: its requests leave the socket " +
                    "threads and at most {Limit} at once go to that disk, for the next {Minutes} minutes", path.Index, path.Root, oldest.TotalSeconds,
                    path.Gate.Limit, IsolationPeriod.TotalMinutes);
            }

            bool slow;
            if (oldest > threshold)
            {
                slow = true;
                _calmSince.Remove(path.Index);
            }
            else if (!path.Slow)
            {
                slow = false;
            }
            else if (oldest > threshold / 2)
            {
                slow = true;
                _calmSince.Remove(path.Index);
            }
            else
            {
                long calm = _calmSince.TryGetValue(path.Index, out long since) ? since : _calmSince[path.Index] = now;
                slow = now - calm < threshold.TotalMilliseconds;
            }

            if (!path.SetSlow(slow))
            {
                continue;
            }

            paths.HealthChanged();
            if (path.Slow)
            {
                logger.LogError("store path {Index} ({Path}) is slow: a request has waited {Seconds:F1} s for its disk ({Inside} inside; " +
                    "disk_slow_threshold {Threshold} s). Out of service until it answers in time again: the trackers send readers of its files to " +
                    "the group's other members, uploads go to the other paths.", path.Index, path.Root, oldest.TotalSeconds, path.Gate.Inside,
                    threshold.TotalSeconds);
            }
            else
            {
                _calmSince.Remove(path.Index);
                logger.LogWarning("store path {Index} ({Path}) answers in time again: back in service", path.Index, path.Root);
            }
        }
    }

    /// <summary>Checks every path now; returns how many are out of service.</summary>
    public int CheckAll()
    {
        int failed = 0;
        foreach (var path in paths.All)
        {
            if (path.Refilling)
            {
                failed++;
                continue; // a spare being filled stays out of service until it is whole
            }

            string? failure = Probe(path);
            if (failure is not null && path.Failure is null)
            {
                // One failed write is not a failed disk: confirmed by a second try a moment later before the path is
                // taken out of service (and perhaps replaced by a spare).
                Thread.Sleep(ConfirmAfter);
                failure = Probe(path);
            }

            failed += failure is null ? 0 : 1;
            if (!path.SetFailure(failure))
            {
                continue;
            }

            paths.HealthChanged();
            if (failure is not null)
            {
                logger.LogError("store path {Index} ({Path}) is out of service: {Failure}. No upload goes there; the trackers send readers of "
                    + "its files to the group's other members. Replace the disk and restart the storage to recover it from them.",
                    path.Index, path.Root, failure);
            }
            else
            {
                logger.LogWarning("store path {Index} ({Path}) works again: back in service", path.Index, path.Root);
            }
        }

        return failed;
    }

    private string? Probe(StorePathState path)
    {
        string last = (subdirCount - 1).ToString("X2");
        if (!Directory.Exists(Path.Combine(path.DataDirectory, "00", "00")) || !Directory.Exists(Path.Combine(path.DataDirectory, last, last)))
        {
            return "its data directories are gone (the disk unmounted?)";
        }

        string probe = Path.Combine(path.DataDirectory, ProbeFileName);
        try
        {
            using (var file = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                file.WriteByte(1);
                file.Flush(flushToDisk: true);
            }

            File.Delete(probe);
            return null;
        }
        catch (IOException e) when (e.HResult is ENOSPC or 122)
        {
            // A full disk (or quota) is full, not broken: uploads already go elsewhere by the free-space rules.
            TryDelete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"a test write failed: {e.Message}";
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing was written, or the disk is in no state to delete: the next check tries again.
        }
    }
}
