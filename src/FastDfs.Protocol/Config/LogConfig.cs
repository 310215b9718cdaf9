namespace FastDfs.Protocol.Config;

/// <summary>
/// Log file settings of one log (<c>[error-log]</c>, or the storage's <c>[access-log]</c>). Stock looks
/// each key up in the log's section first and then in the global section; property names mirror the keys.
/// </summary>
public sealed record LogConfig
{
    public static LogConfig Default { get; } = new();

    /// <summary><c>sync_log_buff_interval</c>: seconds between log buffer flushes (≤ 0 → default).</summary>
    public int SyncLogBuffInterval { get; init; } = 1;

    public bool LogFileRotateEveryday { get; init; } = true;

    public TimeOnly LogFileRotateTime { get; init; } = new(0, 0);

    public bool LogFileCompressOld { get; init; }

    public int LogFileCompressDaysBefore { get; init; } = 1;

    /// <summary><c>log_file_rotate_on_size</c> in bytes; 0 = no size-based rotation (capped at 64 GB).</summary>
    public long LogFileRotateOnSize { get; init; }

    public int LogFileKeepDays { get; init; } = 15;

    public TimeOnly LogFileDeleteOldTime { get; init; } = new(1, 30);

    /// <summary>Reads the log keys from <paramref name="section"/>, typically <see cref="IniFile.ErrorLog"/>
    /// or <c>ini.WithGlobalFallback("access-log")</c>. A conf written for FastDFS 5.x names the rotation
    /// <c>rotate_{log}_log</c>, <c>{log}_log_rotate_time</c> and <c>rotate_{log}_log_size</c> (<paramref name="legacyName"/>
    /// = <c>error</c> or <c>access</c>): those count where the 6.x key is absent (stock 6 ignores them).</summary>
    public static LogConfig FromSection(IniSection section, string? legacyName = null)
    {
        string Key(string current, string legacy) =>
            legacyName is null || section.Contains(current) || !section.Contains(legacy) ? current : legacy;

        return new()
        {
            SyncLogBuffInterval = ConfigReading.PositiveOrDefault(section, "sync_log_buff_interval", Default.SyncLogBuffInterval),
            LogFileRotateEveryday = section.GetBool(Key("log_file_rotate_everyday", $"rotate_{legacyName}_log"), Default.LogFileRotateEveryday),
            LogFileRotateTime = section.GetTime(Key("log_file_rotate_time", $"{legacyName}_log_rotate_time"), Default.LogFileRotateTime),
            LogFileCompressOld = section.GetBool("log_file_compress_old", Default.LogFileCompressOld),
            LogFileCompressDaysBefore = section.GetInt("log_file_compress_days_before", Default.LogFileCompressDaysBefore),
            LogFileRotateOnSize = Math.Min(section.GetBytes(Key("log_file_rotate_on_size", $"rotate_{legacyName}_log_size"), 0), 64L << 30),
            LogFileKeepDays = section.GetInt("log_file_keep_days", Default.LogFileKeepDays),
            LogFileDeleteOldTime = section.GetTime("log_file_delete_old_time", Default.LogFileDeleteOldTime),
        };
    }
}
