using System.IO.Compression;
using FastDfs.Protocol.Config;

namespace FastDfs.ServerCore.Logging;

/// <summary>How much of the second a log line's time stamp shows (stock's log time precision).</summary>
public enum LogStampPrecision
{
    Second,
    Millisecond,
    Microsecond,
}

/// <summary>
/// One log file the stock way (<c>base_path/logs/NAME.log</c>): lines <c>[yyyy-MM-dd HH:mm:ss] text</c> in local time,
/// buffered and written every <c>sync_log_buff_interval</c> seconds (or when the buffer fills, or when the caller flushes), renamed to
/// <c>NAME.log.yyyyMMdd</c> every day at <c>log_file_rotate_time</c> and/or to <c>NAME.log.yyyyMMdd_HHmmss</c> when it
/// reaches <c>log_file_rotate_on_size</c>, rotated files gzipped after <c>log_file_compress_days_before</c> days when
/// <c>log_file_compress_old</c> is on, and deleted after <c>log_file_keep_days</c> days at <c>log_file_delete_old_time</c>.
/// A thread that logs only copies its line into memory: the writes, flushes and rotations run on the timer, a pool
/// thread or the caller of <see cref="Flush"/>, so a slow or full disk delays the log, never a request (beyond 4 MB
/// waiting, lines are dropped and counted in the log). The clock is the server's <see cref="TimeProvider"/>.
/// </summary>
public sealed class LogFile : IDisposable
{
    /// <summary>Buffered bytes that make a write due at once (on a pool thread).</summary>
    private const int FlushThreshold = 64 * 1024;

    /// <summary>Beyond this the lines are dropped (and counted) rather than wait: a server never stalls on its log.</summary>
    private const int MaxBuffered = 4 * 1024 * 1024;

    private readonly LogConfig _config;
    private readonly TimeProvider _clock;
    private readonly string? _header;
    private readonly string _directory;
    private readonly string _rotatedPrefix;
    private readonly bool _rotateBySize;

    // Writers append to _buffer under _gate (memory only); one flush at a time, under _writeGate, swaps it for _spare and
    // writes it outside _gate, so a slow disk delays the flush, never a thread that logs.
    private readonly Lock _gate = new();
    private readonly Lock _writeGate = new();
    private byte[] _buffer = new byte[FlushThreshold];
    private byte[] _spare = new byte[FlushThreshold];
    private int _buffered;
    private long _dropped;
    private int _flushScheduled;
    private readonly ITimer _timer;
    private FileStream? _file;
    private long _fileLength;
    private long _lastFlushTicks;
    private DateTimeOffset _nextRotation;
    private DateTimeOffset _nextCleanup;
    private long _stampSecond = long.MinValue;
    private readonly byte[] _stamp = new byte[20]; // "[yyyy-MM-dd HH:mm:ss"
    private Task _housekeeping = Task.CompletedTask;
    private bool _disposed;

    /// <param name="directory">the logs folder (created when missing)</param>
    /// <param name="name">the file's name without <c>.log</c>: <c>trackerd</c>, <c>storaged</c>, <c>storage_access</c></param>
    /// <param name="header">a line written at the top of every new file (the access log's column names), or null</param>
    public LogFile(string directory, string name, LogConfig config, TimeProvider clock, string? header = null)
    {
        _directory = directory;
        _config = config;
        _clock = clock;
        _header = header;
        Path = System.IO.Path.Combine(directory, name + ".log");
        _rotatedPrefix = name + ".log.";
        _rotateBySize = config.LogFileRotateOnSize > 0;
        Directory.CreateDirectory(directory);
        Open();
        var now = clock.GetLocalNow();
        _lastFlushTicks = clock.GetTimestamp();
        _nextRotation = NextAt(now, config.LogFileRotateTime);
        _nextCleanup = NextAt(now, config.LogFileDeleteOldTime);
        _timer = clock.CreateTimer(_ => Tick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The current file (<c>base_path/logs/NAME.log</c>).</summary>
    public string Path { get; }

    /// <summary>Appends <c>[time] caption - text</c> (no caption part when <paramref name="caption"/> is null).</summary>
    public void Append(DateTimeOffset localTime, LogStampPrecision precision, string? caption, ReadOnlySpan<char> text)
    {
        int captionBytes = caption is null ? 0 : caption.Length + 3;
        int worst = 32 + captionBytes + System.Text.Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        bool due;
        lock (_gate)
        {
            if (!TryReserve(worst, out var line))
            {
                return;
            }

            int n = WriteStamp(line, localTime, precision);
            if (caption is not null)
            {
                n += System.Text.Encoding.ASCII.GetBytes(caption, line[n..]);
                " - "u8.CopyTo(line[n..]);
                n += 3;
            }

            n += System.Text.Encoding.UTF8.GetBytes(text, line[n..]);
            line[n++] = (byte)'\n';
            _buffered += n;
            due = _buffered >= FlushThreshold;
        }

        if (due)
        {
            FlushSoon();
        }
    }

    /// <summary>Appends <c>[time] text</c> with UTF-8 text already composed (the access log: no string per line).</summary>
    public void Append(DateTimeOffset localTime, LogStampPrecision precision, ReadOnlySpan<byte> utf8Text)
    {
        bool due;
        lock (_gate)
        {
            if (!TryReserve(32 + utf8Text.Length + 1, out var line))
            {
                return;
            }

            int n = WriteStamp(line, localTime, precision);
            utf8Text.CopyTo(line[n..]);
            n += utf8Text.Length;
            line[n++] = (byte)'\n';
            _buffered += n;
            due = _buffered >= FlushThreshold;
        }

        if (due)
        {
            FlushSoon();
        }
    }

    /// <summary>Writes the buffered lines to the file now, on the caller's thread (a CRIT line, stop, tests).</summary>
    public void Flush()
    {
        lock (_writeGate)
        {
            FlushCore();
        }
    }

    /// <summary>Has the buffered lines written on a pool thread (an INFO line, a full buffer): the caller goes on at once.</summary>
    public void FlushSoon()
    {
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static file =>
            {
                Volatile.Write(ref file._flushScheduled, 0);
                try
                {
                    file.Flush();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    // Tried again at the next flush.
                }
            }, this, preferLocal: false);
        }
    }

    /// <summary>Room for a line of at most <paramref name="length"/> bytes at the buffer's end (grown as needed), or false
    /// when it is closed or the disk is so far behind that the line is dropped.</summary>
    private bool TryReserve(int length, out Span<byte> line)
    {
        line = default;
        if (_disposed)
        {
            return false;
        }

        int needed = _buffered + length;
        if (needed > _buffer.Length)
        {
            if (needed > MaxBuffered)
            {
                _dropped++;
                return false;
            }

            Array.Resize(ref _buffer, Math.Min(MaxBuffered, Math.Max(needed, _buffer.Length * 2)));
        }

        line = _buffer.AsSpan(_buffered);
        return true;
    }

    private int WriteStamp(Span<byte> destination, DateTimeOffset time, LogStampPrecision precision)
    {
        long second = time.Ticks / TimeSpan.TicksPerSecond;
        if (second != _stampSecond)
        {
            // Formatted once per second: most lines of a busy server share it.
            time.DateTime.TryFormat(_stamp.AsSpan(1), out _, "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            _stamp[0] = (byte)'[';
            _stampSecond = second;
        }

        _stamp.CopyTo(destination);
        int n = _stamp.Length;
        int fraction = (int)(time.Ticks % TimeSpan.TicksPerSecond);
        if (precision == LogStampPrecision.Millisecond)
        {
            destination[n++] = (byte)'.';
            (fraction / 10_000).TryFormat(destination[n..], out int w, "D3", System.Globalization.CultureInfo.InvariantCulture);
            n += w;
        }
        else if (precision == LogStampPrecision.Microsecond)
        {
            destination[n++] = (byte)'.';
            (fraction / 10).TryFormat(destination[n..], out int w, "D6", System.Globalization.CultureInfo.InvariantCulture);
            n += w;
        }

        destination[n++] = (byte)']';
        destination[n++] = (byte)' ';
        return n;
    }

    /// <summary>Under <see cref="_writeGate"/>: takes the buffered lines (swapping buffers) and writes them.</summary>
    private void FlushCore()
    {
        _lastFlushTicks = _clock.GetTimestamp();
        byte[] taken;
        int length;
        long dropped;
        lock (_gate)
        {
            if (_buffered == 0 && _dropped == 0)
            {
                return;
            }

            taken = _buffer;
            length = _buffered;
            dropped = _dropped;
            _buffer = _spare;
            _buffered = 0;
            _dropped = 0;
        }

        WriteToFile(taken.AsSpan(0, length));
        _spare = taken;
        if (dropped > 0)
        {
            WriteToFile(System.Text.Encoding.UTF8.GetBytes(
                $"[{_clock.GetLocalNow():yyyy-MM-dd HH:mm:ss}] WARNING - {dropped} log lines dropped: the disk did not keep up\n"));
        }
    }

    /// <summary>Under <see cref="_writeGate"/>.</summary>
    private void WriteToFile(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _file ??= OpenStream();
            _file.Write(bytes);
            _fileLength += bytes.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full or failing disk (or a folder made unwritable) loses log lines, never a request: the file is opened
            // again at the next write.
            _file?.Dispose();
            _file = null;
        }

        if (_rotateBySize && _fileLength >= _config.LogFileRotateOnSize)
        {
            RotateLocked(_clock.GetLocalNow());
        }
    }

    private void Open()
    {
        try
        {
            _file = OpenStream();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _file = null; // tried again at the next write
        }
    }

    private FileStream OpenStream()
    {
        var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        try
        {
            _fileLength = stream.Length;
            if (_fileLength == 0 && _header is not null)
            {
                byte[] header = System.Text.Encoding.UTF8.GetBytes(_header + "\n");
                stream.Write(header);
                _fileLength = header.Length;
            }

            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Once a second: the periodic flush, the daily rotation and the daily clean-up when their times come.</summary>
    private void Tick()
    {
        try
        {
            TickLocked();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A timer callback that throws ends the process: a log that cannot be rotated or flushed is tried again.
        }
    }

    private void TickLocked()
    {
        var now = _clock.GetLocalNow();
        lock (_writeGate)
        {
            if (Volatile.Read(ref _disposed))
            {
                return;
            }

            if (_clock.GetElapsedTime(_lastFlushTicks).TotalSeconds >= _config.SyncLogBuffInterval)
            {
                FlushCore();
            }

            if (_config.LogFileRotateEveryday && now >= _nextRotation)
            {
                FlushCore();
                RotateLocked(_nextRotation);
                _nextRotation = NextAt(now, _config.LogFileRotateTime);
            }

            if (now >= _nextCleanup)
            {
                _nextCleanup = NextAt(now, _config.LogFileDeleteOldTime);
                StartHousekeeping();
            }
        }
    }

    /// <summary>
    /// Renames the file to <c>NAME.log.yyyyMMdd</c> (or <c>..._HHmmss</c> with size rotation) and starts a new one. A
    /// rotation in the first two minutes after midnight names the file after the day that ended. When the name is taken
    /// the file is kept and written on (as stock does).
    /// </summary>
    /// <param name="now">the rotation's time: the scheduled one for the daily rotation (a late timer names the same day)</param>
    private void RotateLocked(DateTimeOffset now)
    {
        if (!_rotateBySize && now.Hour == 0 && now.Minute <= 1)
        {
            now = now.AddSeconds(-120);
        }

        string rotated = System.IO.Path.Combine(_directory,
            _rotatedPrefix + now.DateTime.ToString(_rotateBySize ? "yyyyMMdd_HHmmss" : "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture));
        if (File.Exists(rotated) || File.Exists(rotated + ".gz"))
        {
            return;
        }

        _file?.Dispose();
        _file = null;
        try
        {
            File.Move(Path, rotated);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone (removed by hand) or not movable: start or continue the current name.
        }

        Open();
        if (_config.LogFileCompressOld)
        {
            StartHousekeeping();
        }
    }

    /// <summary>Compression and deletion of old rotated files, off the writers' and the timer's way (one pass at a time).</summary>
    private void StartHousekeeping()
    {
        if (_housekeeping.IsCompleted)
        {
            var today = _clock.GetLocalNow().Date;
            _housekeeping = Task.Run(() => CleanUp(today));
        }
    }

    /// <summary>Gzips rotated files from <c>log_file_compress_days_before</c> days ago or earlier (when
    /// <c>log_file_compress_old</c>), deletes those older than <c>log_file_keep_days</c> days (when above 0).</summary>
    internal void CleanUp(DateTime today)
    {
        string[] files;
        try
        {
            // A snapshot: the compression below adds and renames files in the same folder.
            files = Directory.GetFiles(_directory, _rotatedPrefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // tried again at the next rotation or clean-up time
        }

        foreach (string path in files)
        {
            // The pattern also matches NAME.log itself (DOS wildcard rules): the name is checked again here.
            string fileName = System.IO.Path.GetFileName(path);
            string suffix = fileName.Length > _rotatedPrefix.Length && fileName.StartsWith(_rotatedPrefix, StringComparison.Ordinal)
                ? fileName[_rotatedPrefix.Length..]
                : "";
            if (suffix.Length < 8 || suffix.EndsWith(".tmp", StringComparison.Ordinal) ||
                !DateTime.TryParseExact(suffix[..8], "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.None, out var day))
            {
                continue;
            }

            try
            {
                if (_config.LogFileKeepDays > 0 && day < today.AddDays(-_config.LogFileKeepDays))
                {
                    File.Delete(path);
                }
                else if (_config.LogFileCompressOld && !suffix.EndsWith(".gz", StringComparison.Ordinal)
                         && day <= today.AddDays(-Math.Max(0, _config.LogFileCompressDaysBefore)))
                {
                    Compress(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // This file at the next pass; the others now.
            }
        }
    }

    private static void Compress(string path)
    {
        string target = path + ".gz";
        string partial = target + ".tmp";
        using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write))
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            source.CopyTo(gzip);
        }

        // Renamed into place whole, then the original removed: a crash leaves one complete copy at least.
        File.Move(partial, target, overwrite: true);
        File.Delete(path);
    }

    /// <summary>The next <paramref name="at"/> (local time of day) after <paramref name="now"/>.</summary>
    private static DateTimeOffset NextAt(DateTimeOffset now, TimeOnly at)
    {
        var candidate = new DateTimeOffset(now.Date + at.ToTimeSpan(), now.Offset);
        return candidate > now ? candidate : candidate.AddDays(1);
    }

    /// <summary>Waits for a compression or clean-up pass in progress (tests).</summary>
    internal Task Housekeeping => _housekeeping;

    public void Dispose()
    {
        lock (_writeGate)
        {
            if (_disposed)
            {
                return;
            }

            FlushCore();
            lock (_gate)
            {
                _disposed = true;
            }

            _file?.Dispose();
            _file = null;
        }

        _timer.Dispose();
    }
}
