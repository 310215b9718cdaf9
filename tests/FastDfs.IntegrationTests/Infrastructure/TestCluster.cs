using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Storage.Hosting;
using FastDfs.Tracker;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.IntegrationTests.Infrastructure;

/// <summary>
/// A real cluster in this process: one tracker and N storages on 127.0.0.1, every port 0,
/// each storage in its own temporary base path. Disposing stops everything and deletes the data.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<StorageServer> _storages = [];
    private readonly List<StorageConfig> _storageConfigs = [];
    private readonly bool _http;
    private readonly TimeProvider? _storageClock;

    private TestCluster(string root, TrackerServer tracker, bool http, TimeProvider? storageClock)
    {
        Root = root;
        Tracker = tracker;
        _http = http;
        _storageClock = storageClock;
    }

    public string Root { get; }

    public TrackerServer Tracker { get; }

    public IReadOnlyList<StorageServer> Storages => _storages;

    /// <summary>The configuration each storage was started with (same order as <see cref="Storages"/>).</summary>
    public IReadOnlyList<StorageConfig> StorageConfigs => _storageConfigs;

    public string TrackerAddress => $"127.0.0.1:{Tracker.EndPoint.Port}";

    public static async Task<TestCluster> StartAsync(
        int storageCount = 1,
        Func<TrackerConfig, TrackerConfig>? configureTracker = null,
        Func<int, StorageConfig, StorageConfig>? configureStorage = null,
        CancellationToken ct = default,
        bool http = false,
        TimeProvider? trackerClock = null,
        TimeProvider? storageClock = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "fdfs-it-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var trackerConfig = TrackerConfig.Default(Path.Combine(root, "tracker")) with
        {
            BindAddr = "127.0.0.1",
            Port = 0,
            ReservedStorageSpace = ReservedSpace.FromMegabytes(1),
        };
        if (http)
        {
            // Every HTTP server on a free port (0); configureTracker/configureStorage see and may change this.
            trackerConfig = trackerConfig with { HttpServerPort = 0, Http = trackerConfig.Http with { Enabled = true } };
        }

        trackerConfig = configureTracker?.Invoke(trackerConfig) ?? trackerConfig;
        Directory.CreateDirectory(trackerConfig.BasePath);
        // Each server runs on the clock the test gives it (a FakeTimeProvider it moves), else the system clock.
        var tracker = new TrackerServer(trackerConfig, TrackerCluster.TestLogs.For("tracker"), trackerClock);
        await tracker.StartAsync(ct);
        var cluster = new TestCluster(root, tracker, http, storageClock);
        try
        {
            for (int i = 0; i < storageCount; i++)
            {
                await cluster.AddStorageAsync(configureStorage is null ? null : c => configureStorage(i, c), ct);
            }

            await cluster.WaitForActiveAsync(storageCount, ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more storage of group1 reporting to this tracker.</summary>
    public async Task<StorageServer> AddStorageAsync(Func<StorageConfig, StorageConfig>? configure = null, CancellationToken ct = default)
    {
        string basePath = Path.Combine(Root, $"storage{_storages.Count}");
        Directory.CreateDirectory(basePath);
        var config = StorageConfig.Default(basePath, [new TrackerAddress("127.0.0.1", Tracker.EndPoint.Port)]) with
        {
            BindAddr = "127.0.0.1",
            Port = 0,
            HeartBeatInterval = 1,
            StatReportInterval = 1,
            SubdirCountPerPath = 4,
        };
        if (_http)
        {
            config = config with { HttpServerPort = 0, Http = config.Http with { Enabled = true } };
        }

        config = configure?.Invoke(config) ?? config;
        var storage = new StorageServer(config, TrackerCluster.TestLogs.For($"storage{_storages.Count}"), _storageClock);
        await storage.StartAsync(ct);
        _storages.Add(storage);
        _storageConfigs.Add(config);
        return storage;
    }

    /// <summary>Base URL of the tracker's HTTP server (clusters started with <c>http: true</c>).</summary>
    public Uri TrackerHttp => new($"http://127.0.0.1:{Tracker.HttpEndPoint?.Port ?? throw new InvalidOperationException("HTTP is off")}");

    /// <summary>Base URL of storage <paramref name="index"/>'s HTTP server.</summary>
    public Uri StorageHttp(int index = 0) =>
        new($"http://127.0.0.1:{_storages[index].HttpEndPoint?.Port ?? throw new InvalidOperationException("HTTP is off")}");

    /// <summary>
    /// Starts storage <paramref name="index"/> again on its base path and port after it was stopped or
    /// killed (replaces it in <see cref="Storages"/>).
    /// </summary>
    public async Task<StorageServer> RestartStorageAsync(int index, Func<StorageConfig, StorageConfig>? configure = null, CancellationToken ct = default)
    {
        var previous = _storages[index];
        var config = _storageConfigs[index] with { Port = previous.EndPoint.Port };
        config = configure?.Invoke(config) ?? config;
        await previous.DisposeAsync();
        var storage = new StorageServer(config, TrackerCluster.TestLogs.For($"storage{index}"), _storageClock);
        await storage.StartAsync(ct);
        _storages[index] = storage;
        _storageConfigs[index] = config;
        return storage;
    }

    public FastDfsClient CreateClient() => new(FastDfsClientOptions.ForTrackers(TrackerAddress));

    /// <summary>Polls the tracker until <paramref name="count"/> storages (of all groups) are ACTIVE.</summary>
    public async Task WaitForActiveAsync(int count, CancellationToken ct = default)
    {
        await using var client = CreateClient();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                int active = 0;
                foreach (var group in await client.Tracker.ListGroupsAsync(ct))
                {
                    active += (await client.ListStoragesAsync(group.GroupName, ct: ct)).Count(s => s.Status == StorageStatus.Active);
                }

                return active >= count;
            }
            catch (FastDfsException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), $"{count} ACTIVE storage(s)", ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in _storages)
        {
            await storage.DisposeAsync();
        }

        await Tracker.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}

/// <summary>Polling with a deadline instead of sleeping for a state.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken ct = default) =>
        TrueAsync(condition, timeout, () => what, ct);

    /// <param name="what">what is waited for, asked at the timeout (it may tell what was seen last)</param>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0}s waiting for {what()}");
            }

            await Task.Delay(100, ct);
        }
    }
}

public static class Timeouts
{
    public static CancellationToken Test(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}

public static class FreePorts
{
    /// <summary>A TCP port free on <paramref name="address"/> right now (for servers that need a fixed port).</summary>
    public static int On(string address = "127.0.0.1")
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse(address), 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
