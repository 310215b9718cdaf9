using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Logging;

/// <summary>
/// Writes the daemons' log lines to their stock log files (<c>trackerd.log</c>, <c>storaged.log</c>) as stock does:
/// <c>[yyyy-MM-dd HH:mm:ss] INFO - text</c>. The level filter is the host's (<c>log_level</c>); an exception follows its
/// line; warnings and errors wait for the periodic flush, other lines are written at once. The all-in-one server routes each category to its role's file.
/// </summary>
public sealed class StockLogFileProvider : ILoggerProvider
{
    private readonly Func<string, LogFile> _route;
    private readonly IReadOnlyList<LogFile> _files;
    private readonly TimeProvider _clock;

    /// <param name="files">the files this provider owns (disposed with it)</param>
    /// <param name="route">the file of a logger category</param>
    public StockLogFileProvider(IReadOnlyList<LogFile> files, Func<string, LogFile> route, TimeProvider clock)
    {
        _files = files;
        _route = route;
        _clock = clock;
    }

    /// <summary>One file for every category.</summary>
    public StockLogFileProvider(LogFile file, TimeProvider clock) : this([file], _ => file, clock)
    {
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(_route(categoryName), _clock);

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    /// <summary>Stock's caption of a level (DEBUG, INFO, WARNING, ERROR, CRIT).</summary>
    public static string Caption(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        _ => "CRIT",
    };

    private sealed class FileLogger(LogFile file, TimeProvider clock) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            if (exception is not null)
            {
                message = $"{message}{Environment.NewLine}{exception}";
            }

            file.Append(clock.GetLocalNow(), LogStampPrecision.Second, Caption(logLevel), message);
            // As stock: DEBUG, INFO and CRIT lines are written at once (the rare lines an operator waits for: started,
            // listening, joined; or the last words), WARNING and ERROR lines buffered (a failing disk can log many). At
            // once means on a pool thread, so the caller (a socket completion, a request) never waits for the disk; a CRIT
            // line is written by the caller: the process may be about to end.
            if (logLevel == LogLevel.Critical)
            {
                file.Flush();
            }
            else if (logLevel is LogLevel.Trace or LogLevel.Debug or LogLevel.Information)
            {
                file.FlushSoon();
            }
        }
    }
}
