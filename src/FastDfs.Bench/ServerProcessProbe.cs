using System.Globalization;

namespace FastDfs.Bench;

/// <summary>
/// Reads a server process's CPU time (utime + stime from <c>/proc/PID/stat</c>) and resident memory
/// (VmRSS from <c>/proc/PID/status</c>) on Linux, so a run can report server CPU per operation.
/// </summary>
public static class ServerProcessProbe
{
    /// <summary>Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>CPU time (µs) the process has used so far, or null when it cannot be read.</summary>
    public static long? CpuMicros(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may contain spaces) start at state = field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (long)((utime + stime) * (1_000_000 / TicksPerSecond));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Resident set size in bytes, or null when it cannot be read.</summary>
    public static long? RssBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string kb = line[6..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
