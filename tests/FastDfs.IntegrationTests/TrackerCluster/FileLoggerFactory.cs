using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.IntegrationTests.TrackerCluster;

/// <summary>Logs of a multi-tracker test go to the file named by FDFS_TEST_LOG (debugging aid); none otherwise.</summary>
internal static class TestLogs
{
    private static readonly object Gate = new();

    public static ILoggerFactory For(string name)
    {
        string? path = Environment.GetEnvironmentVariable("FDFS_TEST_LOG");
        return string.IsNullOrEmpty(path) ? NullLoggerFactory.Instance : new FileLoggerFactory(path, name);
    }

    private sealed class FileLoggerFactory(string path, string name) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new FileLogger(path, $"{name} {categoryName.Split('.')[^1]}");

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class FileLogger(string path, string prefix) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Gate)
            {
                File.AppendAllText(path, $"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {prefix}: {formatter(state, exception)}\n");
            }
        }
    }
}
