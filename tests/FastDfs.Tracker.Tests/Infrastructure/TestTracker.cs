using System.Net;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.Tracker.Tests.Infrastructure;

/// <summary>A real tracker on 127.0.0.1, port 0, for one test.</summary>
public sealed class TestTracker : IAsyncDisposable
{
    private readonly bool _ownsBasePath;

    private TestTracker(TrackerServer server, CancellationTokenSource timeout, string basePath, bool ownsBasePath, TimeProvider? clock)
    {
        Server = server;
        Clock = clock;
        Timeout = timeout;
        BasePath = basePath;
        _ownsBasePath = ownsBasePath;
    }

    /// <summary>The tracker's base_path (a temporary directory, deleted at dispose unless the test passed it in).</summary>
    public string BasePath { get; }

    public TrackerServer Server { get; }

    /// <summary>The clock the tracker runs on when the test gave one (a FakeTimeProvider), else null (the system clock).</summary>
    public TimeProvider? Clock { get; }

    public CancellationTokenSource Timeout { get; }

    public CancellationToken Ct => Timeout.Token;

    public IPEndPoint EndPoint => Server.EndPoint;

    /// <summary>A fresh temporary base_path for a tracker.</summary>
    public static string NewBasePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "fdfs-tt-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static async Task<TestTracker> StartAsync(Func<TrackerConfig, TrackerConfig>? configure = null, int timeoutSeconds = 30,
        string? basePath = null, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null, TimeProvider? clock = null)
    {
        var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        bool owns = basePath is null;
        basePath ??= NewBasePath();
        var config = TrackerConfig.Default(basePath);
        config = (configure?.Invoke(config) ?? config) with { BindAddr = "127.0.0.1", Port = 0 };
        var server = new TrackerServer(config, loggers ?? NullLoggerFactory.Instance, clock);
        await server.StartAsync(timeout.Token);
        return new TestTracker(server, timeout, basePath, owns, clock);
    }

    public Task<RawConnection> ConnectAsync(string? localIp = null) => RawConnection.ConnectAsync(EndPoint, Ct, localIp);

    public async Task<FakeStorage> JoinAsync(string group = "group1", int port = 23000, string? localIp = null,
        bool initFlag = true, sbyte status = 0, int storePathCount = 1, long uploadPriority = 10,
        IReadOnlyList<string>? trackers = null, long? upTime = null)
    {
        var connection = await ConnectAsync(localIp);
        var storage = new FakeStorage(connection, group, port, storePathCount, uploadPriority);
        storage = trackers is null ? storage : new FakeStorage(connection, group, port, storePathCount, uploadPriority) { Trackers = trackers };
        storage = upTime is null ? storage : new FakeStorage(connection, group, port, storePathCount, uploadPriority) { Trackers = storage.Trackers, UpTime = upTime.Value };
        await storage.JoinAsync(initFlag, status);
        return storage;
    }

    /// <summary>
    /// Tells this tracker of other trackers the way a cluster does: a JOIN of an already known storage whose tracker
    /// list names them (a tracker follows or yields only to trackers it knows). Keep the connection until the end.
    /// </summary>
    public Task<FakeStorage> IntroduceTrackersAsync(string storageIp, params string[] others) =>
        JoinAsync(localIp: storageIp, initFlag: false, status: (sbyte)StorageStatus.Active,
            trackers: [$"127.0.0.1:{EndPoint.Port}", .. others]);

    /// <summary>A storage that joined, passed SYNC_DEST_REQ, reported its disks and beat: ACTIVE.</summary>
    public async Task<FakeStorage> ActiveStorageAsync(string group = "group1", int port = 23000, string? localIp = null,
        long freeMb = 50_000, long totalMb = 100_000, long uploadPriority = 10, int storePathCount = 1, long? upTime = null)
    {
        // A storage whose old-data sync is done (init_flag 0) that was ACTIVE before: it re-joins ONLINE.
        var storage = await JoinAsync(group, port, localIp, initFlag: false, status: (sbyte)StorageStatus.Active,
            storePathCount, uploadPriority, upTime: upTime);
        await storage.Connection.RequestOkAsync(FdfsCommand.StorageSyncNotify, new byte[SyncSourceBody.Size]);
        var paths = Enumerable.Range(0, storePathCount).Select(_ => (totalMb, freeMb)).ToArray();
        await storage.ReportDiskUsageAsync(paths);
        await storage.BeatAsync();
        return storage;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the test times out.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        while (!await condition())
        {
            if (Ct.IsCancellationRequested)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(50, Ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Timeout.Dispose();
        if (!_ownsBasePath)
        {
            return;
        }

        try
        {
            Directory.Delete(BasePath, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
