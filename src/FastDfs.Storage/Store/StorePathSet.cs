using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Storage.Store;

/// <summary>One configured store path: its <c>data/</c> directory and last known disk usage.</summary>
internal sealed class StorePathState(int index, string root, bool readOnly, DiskGate gate)
{
    /// <summary>How requests enter this path's disk (counted; isolated from the other paths when there are several).</summary>
    public DiskGate Gate { get; } = gate;

    public int Index { get; } = index;
    public string Root { get; } = root;
    public string DataDirectory { get; } = Path.Combine(root, "data");
    public bool ReadOnly { get; } = readOnly;

    private volatile string? _failure;

    /// <summary>Why the path's disk is out of service (unwritable, gone), or null while it works.</summary>
    public string? Failure => _failure;

    /// <summary>A spare disk that took this path's place and is being filled from the peers: out of service until then,
    /// whatever its checks say.</summary>
    public bool Refilling { get; set; }

    private volatile bool _slow;

    /// <summary>Its disk holds requests for longer than <c>disk_slow_threshold</c>: out of service until it answers again.</summary>
    public bool Slow => _slow;

    /// <summary>Records whether the disk is slow; true when that changed.</summary>
    public bool SetSlow(bool slow)
    {
        bool before = _slow;
        _slow = slow;
        return before != slow;
    }

    /// <summary>Readers may be sent here and uploads come here: its disk neither failed nor slow.</summary>
    public bool InService => _failure is null && !_slow;

    /// <summary>Why the path is out of service (failed or slow), or null while it is in service.</summary>
    public string? OutOfServiceReason => _failure ?? (_slow ? "its disk is slow" : null);

    /// <summary>New uploads may go here: not configured read-only and its disk in service.</summary>
    public bool Writable => !ReadOnly && InService;

    /// <summary>Records the outcome of a health check; true when the state changed (failed or back in service).</summary>
    public bool SetFailure(string? failure)
    {
        string? before = _failure;
        _failure = failure;
        return (before is null) != (failure is null);
    }

    /// <summary>How long a disk measurement is reused: every upload checks the space, statfs per upload is waste.</summary>
    private const long MeasurementTtlMillis = 500;

    private (long TotalMb, long FreeMb) _lastMeasurement;
    private long _measuredAt = long.MinValue / 2;
    private readonly Lock _measureLock = new();

    /// <summary>Total and free MB from the file system (at most half a second old), or (0, 0) when it cannot be measured.</summary>
    public (long TotalMb, long FreeMb) MeasureDiskUsage()
    {
        long now = Environment.TickCount64;
        lock (_measureLock)
        {
            if (now - _measuredAt < MeasurementTtlMillis)
            {
                return _lastMeasurement;
            }

            _lastMeasurement = MeasureNow();
            _measuredAt = now;
            return _lastMeasurement;
        }
    }

    private (long TotalMb, long FreeMb) MeasureNow()
    {
        try
        {
            var drive = new DriveInfo(DataDirectory);
            return (drive.TotalSize / (1024 * 1024), drive.AvailableFreeSpace / (1024 * 1024));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (0, 0);
        }
    }
}

/// <summary>The storage's store paths: layout, sub-directory creation, path lookup and path choice for uploads.</summary>
internal sealed class StorePathSet
{
    private readonly StorePathState[] _paths;
    private readonly int _subdirCount;
    private int _roundRobin = -1;

    /// <summary>Requests inside one path's disk at once when the paths are isolated from each other (several paths).</summary>
    public const int RequestsPerDisk = 16;

    public StorePathSet(StorageConfig config)
    {
        _subdirCount = config.SubdirCountPerPath;
        _paths = config.StorePaths.Select((p, i) => new StorePathState(i, p.Path, p.ReadOnly, NewGate(config.StorePaths.Count))).ToArray();
    }

    private static DiskGate NewGate(int pathCount) => new(RequestsPerDisk, canIsolate: pathCount > 1);

    public int Count => _paths.Length;
    public int SubdirCount => _subdirCount;
    public StorePathState this[int index] => _paths[index];
    public IReadOnlyList<StorePathState> All => _paths;

    /// <summary>Puts <paramref name="root"/> (a spare disk) in the place of store path <paramref name="index"/>, out of service
    /// while it is refilled.</summary>
    public StorePathState Replace(int index, string root)
    {
        var replacement = new StorePathState(index, root, readOnly: _paths[index].ReadOnly, NewGate(_paths.Length)) { Refilling = true };
        replacement.SetFailure("a spare disk being refilled from the peers");
        _paths[index] = replacement;
        HealthChanged();
        return replacement;
    }

    /// <summary>
    /// Creates <c>data/00/00 .. data/XX/XX</c> of every path. Like stock, a path whose first and last
    /// sub-directories exist is taken as complete, so later starts cost two stat calls per path.
    /// </summary>
    /// <summary>Creates the data directories that are missing; returns, per store path, whether they had to be created
    /// (with an init flag that says the data was there, stock's sign of a replaced disk).</summary>
    public bool[] EnsureDirectories() => EnsureDirectories(-1);

    /// <summary>The same for store path <paramref name="only"/> alone (all paths when negative).</summary>
    public bool[] EnsureDirectories(int only)
    {
        var created = new bool[_paths.Length];
        for (int i = 0; i < _paths.Length; i++)
        {
            if (only >= 0 && i != only)
            {
                continue;
            }

            var path = _paths[i];
            Directory.CreateDirectory(path.DataDirectory);
            string last = (_subdirCount - 1).ToString("X2");
            if (Directory.Exists(Path.Combine(path.DataDirectory, "00", "00")) &&
                Directory.Exists(Path.Combine(path.DataDirectory, last, last)))
            {
                continue;
            }

            created[i] = true;

            Parallel.For(0, _subdirCount, high =>
            {
                string highDir = Path.Combine(path.DataDirectory, high.ToString("X2"));
                for (int low = 0; low < _subdirCount; low++)
                {
                    Directory.CreateDirectory(Path.Combine(highDir, low.ToString("X2")));
                }
            });
        }

        return created;
    }

    public string FullPath(in StoredFilePath stored) =>
        Path.Combine(_paths[stored.StorePathIndex].DataDirectory, stored.SubHigh, stored.SubLow, stored.FileName);

    public string SubdirPath(int storePathIndex, int subHigh, int subLow) =>
        Path.Combine(_paths[storePathIndex].DataDirectory, HexByte[subHigh], HexByte[subLow]);

    private int _healthVersion;

    /// <summary>Changes whenever a path fails or comes back (the trackers are told).</summary>
    public int HealthVersion => Volatile.Read(ref _healthVersion);

    /// <summary>Which paths are out of service, in path order.</summary>
    public bool[] FailedPaths() => [.. _paths.Select(p => !p.InService)];

    internal void HealthChanged() => Interlocked.Increment(ref _healthVersion);

    /// <summary>"00".."FF": sub-directory names without a string per upload.</summary>
    private static readonly string[] HexByte = Enumerable.Range(0, 256).Select(i => i.ToString("X2")).ToArray();

    /// <summary>
    /// Picks the store path for an upload (spec 5.1, 11.4): a valid, writable requested index is used as
    /// given; -1 or a read-only path lets the storage choose (round robin, or most free space when the
    /// tracker's store_path mode is 2). Returns -1 when no path has room (ENOSPC).
    /// </summary>
    public int Choose(int requested, long fileSize, ReservedSpace reserved, int storePathMode)
    {
        if (requested >= 0 && _paths[requested].Writable)
        {
            return HasSpace(_paths[requested], fileSize, reserved) ? requested : -1;
        }

        if (storePathMode == 2)
        {
            StorePathState? best = null;
            long bestFree = long.MinValue;
            foreach (var path in _paths)
            {
                if (!path.Writable || !HasSpace(path, fileSize, reserved))
                {
                    continue;
                }

                long free = path.MeasureDiskUsage().FreeMb;
                if (free > bestFree)
                {
                    best = path;
                    bestFree = free;
                }
            }

            return best?.Index ?? -1;
        }

        for (int attempt = 0; attempt < _paths.Length; attempt++)
        {
            int index = (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)_paths.Length);
            var path = _paths[index];
            if (path.Writable && HasSpace(path, fileSize, reserved))
            {
                return index;
            }
        }

        return -1;
    }

    /// <summary>The per-path reserved-space rule of spec 11.6; an unmeasurable disk counts as having room.</summary>
    public bool HasSpace(StorePathState path, long fileSize, ReservedSpace reserved)
    {
        var (totalMb, freeMb) = path.MeasureDiskUsage();
        if (totalMb <= 0)
        {
            return true;
        }

        return reserved.PathHasSpace(freeMb - fileSize / (1024 * 1024), totalMb, _paths.Length);
    }
}
