using System.Globalization;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Stock's schedule for periodic trunk work (binlog compaction, creating trunk files ahead): runs at a time base
/// (HH:MM, local time) and every interval seconds after, on that grid. Picks up changed settings at the next check.
/// </summary>
internal sealed class TimeBaseSchedule
{
    private DateTime? _next;
    private int _interval;
    private string _timeBase = string.Empty;

    /// <summary>Whether a run is due at <paramref name="now"/>; a due run moves the schedule to the next grid point
    /// after now. An interval of 0 or less is off.</summary>
    public bool IsDue(DateTime now, string timeBase, int intervalSeconds)
    {
        if (intervalSeconds <= 0)
        {
            _next = null;
            return false;
        }

        if (_next is null || _interval != intervalSeconds || _timeBase != timeBase)
        {
            _interval = intervalSeconds;
            _timeBase = timeBase;
            _next = FirstRun(now, timeBase, intervalSeconds);
        }

        if (now < _next)
        {
            return false;
        }

        while (_next <= now)
        {
            _next = _next.Value.AddSeconds(intervalSeconds);
        }

        return true;
    }

    /// <summary>The first time at or after <paramref name="now"/> on the grid time base + k × interval (stock's schedule).</summary>
    internal static DateTime FirstRun(DateTime now, string timeBase, int intervalSeconds)
    {
        var time = TimeOnly.TryParseExact(timeBase, ["H:mm", "HH:mm", "H:m"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            ? parsed
            : new TimeOnly(3, 0);
        var run = now.Date + time.ToTimeSpan();
        if (run > now)
        {
            // Step back along the grid so the first run is the next grid point, not tomorrow's time base.
            long back = (long)((run - now).TotalSeconds / intervalSeconds);
            run = run.AddSeconds(-back * (double)intervalSeconds);
        }

        while (run < now)
        {
            run = run.AddSeconds(intervalSeconds);
        }

        return run;
    }
}
