using System.IO.Compression;
using System.Text;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.ServerCore.Tests.Logging;

/// <summary>Stock's log files: line format, buffered writes, daily and size rotation, compression and deletion of old files.</summary>
public sealed class LogFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdfs-logs-").FullName;
    private readonly FakeTimeProvider _clock;

    public LogFileTests()
    {
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 22, 25, 20, TimeSpan.Zero));
        _clock.SetLocalTimeZone(TimeZoneInfo.Utc);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Read(string name) => File.ReadAllText(Path.Combine(_dir, name));

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Lines_carry_stock_time_stamps_and_level_words_and_reach_the_file_within_the_sync_interval()
    {
        using var file = new LogFile(_dir, "trackerd", LogConfig.Default with { SyncLogBuffInterval = 3 }, _clock);
        using var provider = new StockLogFileProvider(file, _clock);
        var logger = provider.CreateLogger("FastDfs.Tracker.Test");
        logger.LogInformation("tracker listening on {EndPoint}", "0.0.0.0:22122");
        // At once, as stock (on a pool thread: the caller does not wait for the disk).
        SpinWait.SpinUntil(() => Read("trackerd.log").Length > 0, TimeSpan.FromSeconds(10));
        Assert.Equal("[2026-12-07 22:25:20] INFO - tracker listening on 0.0.0.0:22122\n", Read("trackerd.log"));
        _clock.Advance(TimeSpan.FromMilliseconds(1500));
        logger.LogWarning("disk {Path} is slow", "/data");
        logger.LogError(new IOException("boom"), "write failed");
        Assert.DoesNotContain("WARNING", Read("trackerd.log")); // buffered

        _clock.Advance(TimeSpan.FromSeconds(2)); // the timer's flush after sync_log_buff_interval
        string[] lines = Read("trackerd.log").Split('\n');
        Assert.Equal("[2026-12-07 22:25:20] INFO - tracker listening on 0.0.0.0:22122", lines[0]);
        Assert.Equal("[2026-12-07 22:25:21] WARNING - disk /data is slow", lines[1]);
        Assert.Equal("[2026-12-07 22:25:21] ERROR - write failed", lines[2]);
        Assert.StartsWith("System.IO.IOException: boom", lines[3], StringComparison.Ordinal);

        logger.LogCritical("cannot go on");
        Assert.EndsWith("] CRIT - cannot go on\n", Read("trackerd.log"), StringComparison.Ordinal); // at once
    }

    [Fact]
    public void Stamps_show_milliseconds_or_microseconds_and_utf8_text_is_kept()
    {
        using (var file = new LogFile(_dir, "storage_access", LogConfig.Default, _clock, header: "client_ip action"))
        {
            var at = new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.Zero).AddTicks(45_678);
            file.Append(at, LogStampPrecision.Millisecond, "10.0.0.5 upload"u8);
            file.Append(at, LogStampPrecision.Microsecond, "10.0.0.5 download"u8);
            file.Append(at, LogStampPrecision.Second, null, "naïve ✓");
        }

        Assert.Equal("client_ip action\n[2026-12-07 01:02:03.004] 10.0.0.5 upload\n[2026-12-07 01:02:03.004567] 10.0.0.5 download\n[2026-12-07 01:02:03] naïve ✓\n",
            Read("storage_access.log"));
    }

    [Fact]
    public void A_file_is_renamed_after_the_day_it_ends_at_the_rotation_time_and_the_header_starts_the_next()
    {
        _clock.SetUtcNow(new DateTimeOffset(2026, 12, 7, 23, 59, 58, TimeSpan.Zero));
        using var file = new LogFile(_dir, "storage_access", LogConfig.Default, _clock, header: "columns");
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, null, "before midnight");
        _clock.Advance(TimeSpan.FromSeconds(3)); // 00:00:01: rotate (log_file_rotate_time = 00:00)
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, null, "after midnight");
        file.Flush();

        Assert.Equal(["storage_access.log", "storage_access.log.20261207"], Files());
        Assert.Equal("columns\n[2026-12-07 23:59:58] before midnight\n", Read("storage_access.log.20261207"));
        Assert.Equal("columns\n[2026-12-08 00:00:01] after midnight\n", Read("storage_access.log"));
    }

    [Fact]
    public void A_file_reaching_the_rotate_size_is_renamed_with_the_time_and_everyday_rotation_can_be_off()
    {
        var config = LogConfig.Default with { LogFileRotateEveryday = false, LogFileRotateOnSize = 100 };
        using var file = new LogFile(_dir, "storaged", config, _clock);
        for (int i = 0; i < 6; i++)
        {
            file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", $"line {i} of a file that grows");
        }

        file.Flush(); // > 100 bytes: rotated
        Assert.Equal(["storaged.log", "storaged.log.20261207_222520"], Files());
        Assert.Equal(6, Read("storaged.log.20261207_222520").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("", Read("storaged.log"));

        _clock.Advance(TimeSpan.FromDays(1)); // no daily rotation
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", "next day");
        file.Flush();
        Assert.Equal(2, Files().Length);
    }

    [Fact]
    public async Task Old_rotated_files_are_compressed_and_deleted_after_the_kept_days()
    {
        foreach (string day in new[] { "20261101", "20261120", "20261121", "20261205", "20261206" })
        {
            File.WriteAllText(Path.Combine(_dir, $"trackerd.log.{day}"), $"log of {day}\n");
        }

        File.WriteAllText(Path.Combine(_dir, "trackerd.log.20261102.gz"), "old");
        File.WriteAllText(Path.Combine(_dir, "other.log.20261101"), "not ours");
        var config = LogConfig.Default with { LogFileKeepDays = 16, LogFileCompressOld = true, LogFileCompressDaysBefore = 2 };
        using var file = new LogFile(_dir, "trackerd", config, _clock);
        _clock.Advance(TimeSpan.FromHours(3.5)); // past 01:30 the next day (2026-12-08): the daily clean-up
        await file.Housekeeping;

        // 2026-12-08 - 16 days = 2026-11-22: older files deleted; 2 days before = 2026-12-06: that day and before compressed.
        Assert.Equal(["other.log.20261101", "trackerd.log", "trackerd.log.20261205.gz", "trackerd.log.20261206.gz", "trackerd.log.20261207"],
            Files());
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(_dir, "trackerd.log.20261205.gz")), CompressionMode.Decompress);
        Assert.Equal("log of 20261205\n", new StreamReader(gzip, Encoding.UTF8).ReadToEnd());
        Assert.Equal("", Read("trackerd.log.20261207")); // the midnight rotation's file (nothing was written that day)
    }

    [Fact]
    public void A_rotated_name_already_taken_keeps_the_current_file_and_loses_no_line()
    {
        File.WriteAllText(Path.Combine(_dir, "storaged.log.20261207_222520"), "earlier\n");
        var config = LogConfig.Default with { LogFileRotateEveryday = false, LogFileRotateOnSize = 50 };
        using var file = new LogFile(_dir, "storaged", config, _clock);
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", "a line long enough to pass fifty bytes");
        file.Flush();
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", "the next one");
        file.Flush();
        Assert.Equal("earlier\n", Read("storaged.log.20261207_222520"));
        Assert.Equal(2, Read("storaged.log").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Lines_from_many_threads_are_each_written_whole()
    {
        using (var file = new LogFile(_dir, "storage_access", LogConfig.Default, _clock))
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            {
                for (int i = 0; i < 5000; i++)
                {
                    file.Append(_clock.GetLocalNow(), LogStampPrecision.Millisecond, System.Text.Encoding.ASCII.GetBytes($"thread {t} line {i} end"));
                }
            })));
        }

        string[] lines = Read("storage_access.log").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40_000, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^\[2026-12-07 22:25:20\.000\] thread \d line \d+ end$", l));
        Assert.Equal(40_000, lines.Distinct().Count());
    }

    [Fact]
    public void Lines_beyond_4_MB_waiting_are_dropped_and_counted_instead_of_blocking_the_caller()
    {
        // A disk that does not keep up: the write side held (as a write stuck in the kernel would hold it) while 5 MB of
        // lines come in; the callers must not wait.
        using var file = new LogFile(_dir, "storage_access", LogConfig.Default with { SyncLogBuffInterval = 3600 }, _clock);
        var writes = (Lock)typeof(LogFile).GetField("_writeGate", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(file)!;
        var line = new byte[1000];
        line.AsSpan().Fill((byte)'x');
        writes.Enter();
        try
        {
            for (int i = 0; i < 5000; i++)
            {
                file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, line);
            }
        }
        finally
        {
            writes.Exit();
        }

        file.Flush();
        string[] lines = Read("storage_access.log").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("log lines dropped: the disk did not keep up", StringComparison.Ordinal));
        Assert.True(lines.Length < 5001, $"{lines.Length} lines");
        Assert.True(lines.Length > 4000, $"{lines.Length} lines");
    }

    [Fact]
    public void A_line_longer_than_the_buffer_is_written_whole_and_in_order()
    {
        using var file = new LogFile(_dir, "storaged", LogConfig.Default, _clock);
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", "first");
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", new string('x', 100_000));
        file.Append(_clock.GetLocalNow(), LogStampPrecision.Second, "INFO", "last");
        file.Flush();
        string[] lines = Read("storaged.log").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("first", lines[0], StringComparison.Ordinal);
        Assert.Equal(100_000 + "[2026-12-07 22:25:20] INFO - ".Length, lines[1].Length);
        Assert.EndsWith("last", lines[2], StringComparison.Ordinal);
    }
}
