using Microsoft.Extensions.Logging;

namespace FastDfs.TestSupport.Fuzzing;

/// <summary>
/// A logger factory that keeps Error entries that carry an exception, and Critical ones: a server logs an exception its
/// session did not expect at Error with the exception ("connection from ... failed"), which is what a fuzz test must
/// never provoke. Errors about the data without an exception (a damaged replica stored and reported) are the server
/// doing its job when a fuzzer plays a member sending bad replicas.
/// </summary>
public sealed class ErrorLog : ILoggerFactory, ILogger
{
    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_errors)
            {
                return _errors.Count;
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel) || (exception is null && logLevel < LogLevel.Critical))
        {
            return;
        }

        lock (_errors)
        {
            _errors.Add($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }

    public void Dispose()
    {
    }
}
