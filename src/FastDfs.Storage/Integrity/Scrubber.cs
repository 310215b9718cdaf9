using FastDfs.Protocol.Messages;
using FastDfs.Storage.Store;
using FastDfs.Storage.Sync;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// The scrub: reads every stored file whose name promises its size and CRC32 (normal files, trunk-stored files) at
/// no more than <c>scrub_rate</c> bytes per second, and replaces a damaged copy with a verified copy from a group peer
/// (<see cref="PeerRepair"/>). One pass every <c>scrub_interval</c> seconds in the background, or now when asked
/// (SCRUB_START, <c>fdfs scrub</c>). Passes completed and their times survive restarts in <c>data/scrub.dat</c>.
/// </summary>
internal sealed class Scrubber
{
    public const string StateFileName = "scrub.dat";

    private const int FileOverheadBytes = 4096;

    private readonly StorageState _ctx;
    private readonly Trunk.TrunkStore _trunk;
    private readonly ILogger _logger;
    private readonly PeerRepair _repair;
    private readonly Lock _gate = new();
    private readonly string _statePath;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _manualPending;
    private long _manualRate;
    private bool _running;
    private long _passes;
    private long _ended;
    private bool _lastFailed;
    private long _lastStart;
    private long _lastEnd;
    private long _nextDue;
    private long _rate;
    private long _files;
    private long _bytes;
    private long _corrupt;
    private long _repaired;
    private long _unrepairable;

    public Scrubber(StorageState ctx, Trunk.TrunkStore trunk, ILogger logger)
    {
        _ctx = ctx;
        _trunk = trunk;
        _logger = logger;
        _repair = new PeerRepair(ctx, trunk, logger);
        _statePath = Path.Combine(ctx.DataDirectory, StateFileName);
        var state = StateFile.TryRead(_statePath, "delete it: the next scrub pass then starts one scrub_interval from now");
        _passes = state?.GetLong("passes") ?? 0;
        _lastStart = state?.GetLong("last_pass_start") ?? 0;
        _lastEnd = state?.GetLong("last_pass_end") ?? 0;
        long interval = ctx.Config.ScrubInterval;
        _nextDue = interval <= 0 ? 0 : (_lastEnd > 0 ? _lastEnd : _ctx.Now) + interval;
        _rate = ctx.Config.ScrubRate;
    }

    /// <summary>Starts a pass now (<paramref name="rate"/>: bytes per second, 0 = scrub_rate, -1 = unlimited) or joins the running one.</summary>
    /// <returns>The number <see cref="IntegrityStatus.ScrubEnded"/> reaches when that pass has ended.</returns>
    public long RequestPass(long rate)
    {
        lock (_gate)
        {
            if (!_running)
            {
                _manualPending = true;
                _manualRate = rate;
                _wake.TrySetResult();
            }

            return _ended + 1;
        }
    }

    /// <summary>The scrub's part of the INTEGRITY_STATUS answer.</summary>
    public IntegrityStatus Describe(IntegrityStatus status)
    {
        lock (_gate)
        {
            return status with
            {
                ScrubRunning = _running || _manualPending,
                ScrubPasses = _passes,
                ScrubStarted = _lastStart,
                ScrubFinished = _lastEnd,
                ScrubFilesChecked = Interlocked.Read(ref _files),
                ScrubBytesChecked = Interlocked.Read(ref _bytes),
                ScrubCorrupt = Interlocked.Read(ref _corrupt),
                ScrubRepaired = Interlocked.Read(ref _repaired),
                ScrubUnrepairable = Interlocked.Read(ref _unrepairable),
                ScrubNext = _nextDue,
                ScrubRate = _rate,
                ScrubEnded = _ended,
                ScrubLastFailed = _lastFailed,
            };
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Task wake;
                long rate;
                lock (_gate)
                {
                    bool due = _nextDue > 0 && _ctx.Now >= _nextDue;
                    if (!_manualPending && !due)
                    {
                        if (_wake.Task.IsCompleted)
                        {
                            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }

                        wake = _wake.Task;
                        rate = -2;
                    }
                    else
                    {
                        wake = Task.CompletedTask;
                        rate = _manualPending ? _manualRate switch { 0 => _ctx.Config.ScrubRate, < 0 => 0, var r => r } : _ctx.Config.ScrubRate;
                        _manualPending = false;
                        _running = true;
                        _rate = rate;
                        _lastStart = _ctx.Now;
                        _files = _bytes = _corrupt = _repaired = _unrepairable = 0;
                    }
                }

                if (rate == -2)
                {
                    await Task.WhenAny(wake, Task.Delay(TimeSpan.FromSeconds(30), _ctx.Clock, stop)).ConfigureAwait(false);
                    continue;
                }

                bool completed = false;
                try
                {
                    _logger.LogInformation("scrub pass started ({Rate})", rate > 0 ? $"{rate / (1024 * 1024.0):0.#} MB/s" : "unlimited");
                    await PassAsync(new ReadThrottle(rate), stop).ConfigureAwait(false);
                    completed = true;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopping: the pass starts over next time.
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "scrub pass failed; the next one starts on schedule");
                }
                finally
                {
                    Finish(completed);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Finish(bool completed)
    {
        lock (_gate)
        {
            _running = false;
            _ended++;
            _lastFailed = !completed;
            long now = _ctx.Now;
            long interval = _ctx.Config.ScrubInterval;
            _nextDue = interval > 0 ? now + interval : 0;
            if (!completed)
            {
                return;
            }

            _passes++;
            _lastEnd = now;
            try
            {
                StateFile.WriteAtomic(_statePath,
                [
                    StateFile.Entry("passes", _passes), StateFile.Entry("last_pass_start", _lastStart), StateFile.Entry("last_pass_end", _lastEnd),
                ]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "writing {Path} failed", _statePath);
            }
        }

        _logger.LogInformation("scrub pass done: {Files} files, {Bytes} bytes checked, {Corrupt} damaged, {Repaired} repaired, {Unrepairable} not repairable",
            _files, _bytes, _corrupt, _repaired, _unrepairable);
    }

    private async Task PassAsync(ReadThrottle throttle, CancellationToken stop)
    {
        var paths = _ctx.Paths;
        foreach (var path in paths.All)
        {
            for (int high = 0; high < paths.SubdirCount; high++)
            {
                for (int low = 0; low < paths.SubdirCount; low++)
                {
                    stop.ThrowIfCancellationRequested();
                    string directory = paths.SubdirPath(path.Index, high, low);
                    string prefix = $"M{path.Index:X2}/{high:X2}/{low:X2}/";
                    foreach (string file in EnumerateFiles(directory))
                    {
                        string name = Path.GetFileName(file);
                        if (name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.Ordinal))
                        {
                            continue;
                        }

                        await CheckFileAsync(prefix + name, file, throttle, stop).ConfigureAwait(false);
                    }
                }

                await Task.Yield();
            }
        }

        if (_ctx.Parameters.Trunk.UseTrunkFile || Directory.Exists(Path.Combine(_ctx.DataDirectory, "trunk")))
        {
            await CheckTrunkSlotsAsync(throttle, stop).ConfigureAwait(false);
        }
    }

    private IEnumerable<string> EnumerateFiles(string directory)
    {
        try
        {
            return Directory.EnumerateFiles(directory).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("scrub: cannot list {Directory}: {Message}", directory, e.Message);
            return [];
        }
    }

    private async Task CheckFileAsync(string logicName, string fullPath, ReadThrottle throttle, CancellationToken stop)
    {
        if (!NameChecksum.TryGetExpected(logicName, out long size, out uint crc))
        {
            return; // appender, slave, metadata: the name promises nothing
        }

        // Opening and checking a file costs disk work beyond its bytes: charged as 4 KB, so that a store of small files
        // is spread over time by scrub_rate too.
        await throttle.WaitAsync(FileOverheadBytes, stop).ConfigureAwait(false);
        bool matches;
        try
        {
            var info = new FileInfo(fullPath);
            if (info.LinkTarget is not null || !info.Exists)
            {
                return;
            }

            using var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            // Another size is damage too (a tail lost in a power cut). A slave with a digits-only prefix whose name looks like
            // a normal one would be reported as well, but never changed: a repair takes only a copy that keeps the promise.
            long length = RandomAccess.GetLength(handle);
            matches = length == size && await ContentChecksum.ComputeAsync(handle, 0, size, throttle.WaitAsync, stop).ConfigureAwait(false) == crc;
            Interlocked.Add(ref _bytes, Math.Min(length, size));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return; // deleted meanwhile
        }
        catch (IOException e)
        {
            // An unreadable file (EIO) is as damaged as a wrong byte.
            _logger.LogWarning("scrub: reading {Name} failed: {Message}", logicName, e.Message);
            matches = false;
        }

        Interlocked.Increment(ref _files);
        if (!matches)
        {
            // Every copy of a normal file has its name's timestamp as mtime (the HTTP port's Last-Modified).
            long mtime = FastDfs.Protocol.FileIds.FileNameCodec.Decode(logicName).Timestamp;
            await RepairAsync(logicName, trunk: false, () => _repair.RepairFileAsync(logicName, fullPath, mtime, replace: true, stop)).ConfigureAwait(false);
        }
    }

    /// <summary>Trunk-stored files are known by name only from the binlog (a slot header holds no name): every created one still there is checked.</summary>
    private async Task CheckTrunkSlotsAsync(ReadThrottle throttle, CancellationToken stop)
    {
        var reader = new BinlogReader(_ctx.Binlog, _logger);
        var position = default(BinlogPosition);
        var end = _ctx.Binlog.End;
        while (position < end)
        {
            var entries = reader.Read(position, 1024);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                position = entry.Next;
                if (entry.Record is not { UpperOp: 'C' } record || !_trunk.IsTrunkName(record.FileName, out _) ||
                    !NameChecksum.TryGetExpected(record.FileName, out _, out uint crc))
                {
                    continue;
                }

                stop.ThrowIfCancellationRequested();
                bool matches;
                using (var view = _trunk.Open(record.FileName))
                {
                    if (view is null)
                    {
                        continue; // deleted since
                    }

                    try
                    {
                        matches = await ContentChecksum.ComputeAsync(view.Handle, view.DataOffset, view.FileSize, throttle.WaitAsync, stop).ConfigureAwait(false) == crc;
                    }
                    catch (IOException e)
                    {
                        _logger.LogWarning("scrub: reading {Name} failed: {Message}", record.FileName, e.Message);
                        matches = false;
                    }

                    Interlocked.Add(ref _bytes, view.FileSize);
                }

                Interlocked.Increment(ref _files);
                if (!matches)
                {
                    string name = record.FileName;
                    await RepairAsync(name, trunk: true, async () => await _repair.RepairTrunkSlotAsync(name, stop).ConfigureAwait(false)
                        ? PeerRepair.Outcome.Repaired : PeerRepair.Outcome.NoGoodCopy).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task RepairAsync(string logicName, bool trunk, Func<Task<PeerRepair.Outcome>> repair)
    {
        Interlocked.Increment(ref _corrupt);
        _ctx.Integrity.FoundCorrupt();
        _logger.LogWarning("scrub: {Name} does not match the size and CRC32 of its name{Where}; fetching a good copy from a peer",
            logicName, trunk ? " (trunk slot)" : "");
        var outcome = await repair().ConfigureAwait(false);
        switch (outcome)
        {
            case PeerRepair.Outcome.Repaired:
                Interlocked.Increment(ref _repaired);
                _ctx.Integrity.RepairedOne();
                _ctx.Integrity.Record(IntegrityFindingKind.Repaired, logicName);
                _logger.LogInformation("scrub: {Name} repaired from a peer's verified copy", logicName);
                break;
            case PeerRepair.Outcome.NoGoodCopy:
                Interlocked.Increment(ref _unrepairable);
                _ctx.Integrity.CouldNotRepair();
                _ctx.Integrity.Record(IntegrityFindingKind.Unrepairable, logicName);
                _logger.LogError("scrub: {Name} is damaged and no peer has a good copy; left as it is", logicName);
                break;
            default:
                _logger.LogInformation("scrub: {Name} was deleted while being repaired", logicName);
                break;
        }
    }
}
