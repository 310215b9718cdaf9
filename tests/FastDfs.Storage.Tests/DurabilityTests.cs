using System.Net;
using System.Net.Sockets;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Storage.Hosting;
using FastDfs.Storage.Sync;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Storage.Tests;

/// <summary>What a crash, a full disk or a busy port leave behind, and how a storage comes back from it.</summary>
public class DurabilityTests
{
    private static string BinlogPath(TestStorage storage) => Path.Combine(storage.BasePath, "data", "sync", "binlog.000");

    [Fact]
    public async Task A_torn_last_binlog_line_is_cut_at_start_and_the_next_record_is_whole()
    {
        await using var storage = await TestStorage.StartAsync();
        string first = await storage.UploadAsync("one"u8.ToArray());
        await storage.Server.StopAsync();
        // A crash half-way through a record: no newline.
        await File.AppendAllTextAsync(BinlogPath(storage), "1795479397 C M00/00/00/wKgAA");

        await storage.RestartAsync();
        string second = await storage.UploadAsync("two"u8.ToArray());
        var lines = storage.BinlogLines();
        Assert.Equal(2, lines.Length);
        Assert.EndsWith($" C {first}", lines[0]);
        Assert.EndsWith($" C {second}", lines[1]);
        Assert.All(lines, l => Assert.True(BinlogRecord.TryParse(l, out _), l));
    }

    [Fact]
    public void A_torn_last_trunk_binlog_line_is_cut_before_the_next_append()
    {
        string dataDirectory = Directory.CreateTempSubdirectory("fdfs-trunk-binlog-").FullName;
        try
        {
            var block = new TrunkBlock(new TrunkFileKey(0, 0, 0, 1), 0, 1024);
            var binlog = new TrunkBinlog(dataDirectory, NullLogger.Instance);
            binlog.Append([new TrunkBinlogRecord(1795479397, TrunkBinlogRecord.Add, block)]);
            binlog.Dispose();
            File.AppendAllText(binlog.FilePath, "1795479398 D 0 0 0 1 0");

            var reopened = new TrunkBinlog(dataDirectory, NullLogger.Instance);
            reopened.TrimTornTail();
            reopened.Append([new TrunkBinlogRecord(1795479399, TrunkBinlogRecord.Delete, block)]);
            var records = reopened.ReadFrom(0);
            reopened.Dispose();
            Assert.Equal([TrunkBinlogRecord.Add, TrunkBinlogRecord.Delete], records.Select(r => r.Op));
            Assert.Equal(1795479399, records[1].Timestamp);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task An_empty_binlog_index_stops_the_start_with_what_to_write()
    {
        await using var storage = await TestStorage.StartAsync();
        await storage.UploadAsync("x"u8.ToArray());
        await storage.Server.StopAsync();
        string index = Path.Combine(storage.BasePath, "data", "sync", "binlog_index.dat");
        await File.WriteAllTextAsync(index, "");

        var restarted = new StorageServer(storage.Server.Config);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restarted.StartAsync());
        Assert.Contains("current_write=0", error.Message);

        // Deleted while binlog files exist: the same, never a silent restart at binlog.000.
        File.Delete(index);
        restarted = new StorageServer(storage.Server.Config);
        error = await Assert.ThrowsAsync<InvalidDataException>(() => restarted.StartAsync());
        Assert.Contains("is missing although binlog files exist", error.Message);

        // Written as the message says, the storage starts and keeps its binlog.
        await File.WriteAllTextAsync(index, "current_write=0\ncurrent_compress=0\n");
        await storage.RestartAsync();
        await storage.UploadAsync("y"u8.ToArray());
        Assert.Equal(2, storage.BinlogLines().Length);
    }

    [Fact]
    public async Task State_files_are_written_whole_and_an_empty_data_init_flag_is_an_error()
    {
        await using var storage = await TestStorage.StartAsync();
        await storage.Server.StopAsync();
        string flag = Path.Combine(storage.BasePath, "data", ".data_init_flag");
        Assert.Contains("storage_join_time=", await File.ReadAllTextAsync(flag));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage.BasePath, "data"), "*.tmp", SearchOption.AllDirectories));

        await File.WriteAllTextAsync(flag, "");
        var restarted = new StorageServer(storage.Server.Config);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restarted.StartAsync());
        Assert.Contains(".data_init_flag is empty or damaged", error.Message);
        Assert.Contains("restore it", error.Message);
    }

    [Fact]
    public async Task The_periodic_state_writer_survives_a_failed_write_and_writes_again()
    {
        // The writer runs on the storage's clock, which the test moves: no sleeping through sync_stat_file_interval.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new ListLogger();
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { SyncStatFileInterval = 60 }, loggers: new ListLoggerFactory(logs),
            clock: clock);
        string stat = Path.Combine(storage.BasePath, "data", "storage_stat.dat");
        // storage_stat.dat cannot be written while a directory holds its temporary name.
        string blocker = stat + ".tmp";
        Directory.CreateDirectory(blocker);
        await storage.UploadAsync("counted"u8.ToArray());
        clock.Advance(TimeSpan.FromSeconds(60));
        while (!logs.Lines.Any(l => l.Contains("writing storage_stat.dat failed", StringComparison.Ordinal)))
        {
            await Task.Delay(10, storage.Timeout);
        }

        Assert.False(File.Exists(stat) && File.ReadAllText(stat).Contains("success_upload_count=1"));

        // Written again at the next interval, not before.
        Directory.Delete(blocker);
        clock.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(200, storage.Timeout);
        Assert.False(File.Exists(stat) && File.ReadAllText(stat).Contains("success_upload_count=1"), "written before sync_stat_file_interval");
        clock.Advance(TimeSpan.FromSeconds(30));
        while (!logs.Lines.Any(l => l.Contains("storage_stat.dat written again", StringComparison.Ordinal)))
        {
            // Stopping here until the test's timeout means the writer gave up after the failure.
            await Task.Delay(10, storage.Timeout);
        }

        Assert.Contains("success_upload_count=1\n", await File.ReadAllTextAsync(stat));
    }

    [Fact]
    public async Task Temporary_files_left_by_a_crash_are_removed_after_start_and_stored_files_kept()
    {
        await using var storage = await TestStorage.StartAsync();
        string kept = await storage.UploadAsync("kept"u8.ToArray());
        await storage.Server.StopAsync();
        string subdir = Path.Combine(storage.BasePath, "data", "03", "02");
        string uploadLeftover = Path.Combine(subdir, ".1f-00112233aabbccdd.tmp");
        string metadataLeftover = Path.Combine(subdir, ".wKgAAWk-leftover.dat-m.1c.tmp");
        string notOurs = Path.Combine(subdir, "fwAAAWsWdZGAWnjzAAAABPpQGxg19.-m.tmp"); // a user's file may end so
        foreach (string path in new[] { uploadLeftover, metadataLeftover, notOurs })
        {
            await File.WriteAllTextAsync(path, "partial");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-5));
        }

        await storage.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (storage.Server.LeftoverSweepCompleted is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the leftover sweep did not finish");
            await Task.Delay(50, storage.Timeout);
        }

        Assert.Equal(2, storage.Server.LeftoverSweepCompleted);
        Assert.False(File.Exists(uploadLeftover));
        Assert.False(File.Exists(metadataLeftover));
        Assert.True(File.Exists(notOurs));
        Assert.Equal("kept"u8.ToArray(), await File.ReadAllBytesAsync(storage.FullPath(kept)));
    }

    [Fact]
    public async Task A_port_still_in_use_at_start_is_waited_for_and_logged()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        string basePath = Directory.CreateTempSubdirectory("fdfs-storage-").FullName;
        var logs = new ListLogger();
        var server = new StorageServer(TestStorage.MakeConfig(basePath) with { Port = port }, new ListLoggerFactory(logs));
        try
        {
            var start = server.StartAsync();
            await Task.Delay(1500);
            Assert.False(start.IsCompleted, "the storage started on a port another socket holds");
            Assert.Contains(logs.Lines, l => l.Contains($"port 127.0.0.1:{port} is in use", StringComparison.Ordinal));

            holder.Stop();
            await start.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(port, server.EndPoint.Port);
            await using var client = await RawClient.ConnectAsync(port, CancellationToken.None);
            var (status, _) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload("after"u8.ToArray(), "txt"));
            Assert.Equal(0, status);
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(basePath, recursive: true);
        }
    }

    /// <summary>Collects formatted log lines (thread-safe).</summary>
    internal sealed class ListLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = new StringBuilder().Append(logLevel).Append(": ").Append(formatter(state, exception)).ToString();
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
    }

    internal sealed class ListLoggerFactory(ListLogger logger) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
