using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Storage.Hosting;
using FastDfs.Tracker;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.IntegrationTests.TrackerCluster;

/// <summary>
/// Several trackers and storages on 127.0.0.1 in this process: every storage lists every tracker; storage i is
/// the only member of group i+1 (a second member of a group would wait for replication, another issue). Trackers
/// start on port 0 and keep the port they got across restarts (trackers know each other by ip:port).
/// </summary>
public sealed class TrackerSet : IAsyncDisposable
{
    private readonly TrackerConfig[] _trackerConfigs;
    private readonly TrackerServer?[] _trackers;
    private readonly List<StorageServer?> _storages = [];
    private readonly List<StorageConfig> _storageConfigs = [];

    private TrackerSet(string root, int trackerCount)
    {
        Root = root;
        _trackerConfigs = new TrackerConfig[trackerCount];
        _trackers = new TrackerServer?[trackerCount];
    }

    public string Root { get; }

    public IReadOnlyList<TrackerServer?> Trackers => _trackers;

    public IReadOnlyList<StorageServer?> Storages => _storages;

    public string[] TrackerAddresses => _trackerConfigs.Select(c => $"127.0.0.1:{c.Port}").ToArray();

    public static async Task<TrackerSet> StartAsync(int trackerCount, int storageCount, CancellationToken ct,
        Func<TrackerConfig, TrackerConfig>? configureTracker = null, Func<int, StorageConfig, StorageConfig>? configureStorage = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "fdfs-tc-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var set = new TrackerSet(root, trackerCount);
        try
        {
            for (int i = 0; i < trackerCount; i++)
            {
                string basePath = Path.Combine(root, $"tracker{i}");
                Directory.CreateDirectory(basePath);
                var config = TrackerConfig.Default(basePath) with
                {
                    BindAddr = "127.0.0.1",
                    Port = 0,
                    ReservedStorageSpace = ReservedSpace.FromMegabytes(1),
                };
                set._trackerConfigs[i] = configureTracker?.Invoke(config) ?? config;
                await set.StartTrackerAsync(i, ct);
            }

            for (int i = 0; i < storageCount; i++)
            {
                int index = i;
                await set.AddStorageAsync(configureStorage is null ? null : c => configureStorage(index, c), ct);
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>(Re)starts tracker <paramref name="index"/> on its base path and, after the first start, its port.</summary>
    public async Task StartTrackerAsync(int index, CancellationToken ct)
    {
        var server = new TrackerServer(_trackerConfigs[index], TestLogs.For($"tracker{index}"));
        await server.StartAsync(ct);
        _trackers[index] = server;
        _trackerConfigs[index] = _trackerConfigs[index] with { Port = server.EndPoint.Port };
    }

    /// <summary>kill -9 in-process: connections aborted, nothing more written.</summary>
    public async Task KillTrackerAsync(int index)
    {
        var server = _trackers[index] ?? throw new InvalidOperationException($"tracker {index} is not running");
        _trackers[index] = null;
        await server.KillAsync();
    }

    public async Task StopTrackerAsync(int index, CancellationToken ct)
    {
        var server = _trackers[index] ?? throw new InvalidOperationException($"tracker {index} is not running");
        _trackers[index] = null;
        await server.StopAsync(ct);
    }

    public async Task<StorageServer> AddStorageAsync(Func<StorageConfig, StorageConfig>? configure, CancellationToken ct)
    {
        string basePath = Path.Combine(Root, $"storage{_storages.Count}");
        Directory.CreateDirectory(basePath);
        var trackers = _trackerConfigs.Select(c => new TrackerAddress("127.0.0.1", c.Port)).ToArray();
        var config = StorageConfig.Default(basePath, trackers) with
        {
            GroupName = $"group{_storages.Count + 1}",
            BindAddr = "127.0.0.1",
            Port = 0,
            HeartBeatInterval = 1,
            StatReportInterval = 1,
            SubdirCountPerPath = 4,
        };
        config = configure?.Invoke(config) ?? config;
        var storage = new StorageServer(config, TestLogs.For($"storage{_storages.Count}"));
        await storage.StartAsync(ct);
        _storages.Add(storage);
        _storageConfigs.Add(config);
        return storage;
    }

    public async Task StopStorageAsync(int index, CancellationToken ct)
    {
        var storage = _storages[index] ?? throw new InvalidOperationException($"storage {index} is not running");
        _storages[index] = null;
        await storage.StopAsync(ct);
    }

    /// <summary>Restarts storage <paramref name="index"/> on its data with a changed config (e.g. another address).</summary>
    public async Task RestartStorageAsync(int index, Func<StorageConfig, StorageConfig> change, CancellationToken ct)
    {
        var config = change(_storageConfigs[index]);
        var storage = new StorageServer(config, TestLogs.For($"storage{_storages.Count}"));
        await storage.StartAsync(ct);
        _storages[index] = storage;
        _storageConfigs[index] = config;
    }

    /// <summary>A client that knows every tracker (it fails over between them).</summary>
    public FastDfsClient CreateClient() => new(FastDfsClientOptions.ForTrackers(TrackerAddresses));

    /// <summary>A client bound to tracker <paramref name="index"/> only.</summary>
    public FastDfsClient ClientOf(int index) => new(FastDfsClientOptions.ForTrackers(TrackerAddresses[index]));

    public IEnumerable<int> Running => Enumerable.Range(0, _trackers.Length).Where(i => _trackers[i] is not null);

    /// <summary>The leader every running tracker agrees on, with exactly one of them leading; null while they do not agree.</summary>
    public string? AgreedLeader()
    {
        var running = Running.Select(i => _trackers[i]!).ToList();
        if (running.Count == 0 || running.Count(t => t.IsLeader) != 1)
        {
            return null;
        }

        string? leader = running.First(t => t.IsLeader).LeaderAddress;
        return running.All(t => t.LeaderAddress == leader) ? leader : null;
    }

    public int IndexOf(string hostPort) => Array.FindIndex(TrackerAddresses, a => a == hostPort);

    public async Task<string> WaitForLeaderAsync(TimeSpan timeout, CancellationToken ct)
    {
        string? leader = null;
        await Eventually.TrueAsync(() => Task.FromResult((leader = AgreedLeader()) is not null), timeout, "one agreed tracker leader", ct);
        return leader!;
    }

    /// <summary>Every running tracker sees <paramref name="count"/> ACTIVE storages (all groups).</summary>
    public async Task WaitForActiveAsync(int count, CancellationToken ct, TimeSpan? timeout = null)
    {
        string seen = "nothing yet";
        await Eventually.TrueAsync(async () =>
        {
            var views = new List<string>();
            bool all = true;
            foreach (int i in Running)
            {
                await using var client = ClientOf(i);
                try
                {
                    int active = 0;
                    var states = new List<string>();
                    foreach (var group in await client.Tracker.ListGroupsAsync(ct))
                    {
                        var storages = await client.Tracker.ListStoragesAsync(group.GroupName, ct: ct);
                        active += storages.Count(s => s.Status == StorageStatus.Active);
                        states.AddRange(storages.Select(s => $"{group.GroupName}/{s.Id} {s.Status}"));
                    }

                    views.Add($"tracker {i}: {string.Join(", ", states)}");
                    all &= active >= count;
                }
                catch (FastDfsException e)
                {
                    views.Add($"tracker {i}: {e.Message}");
                    all = false;
                }
            }

            seen = string.Join("; ", views);
            return all;
        }, timeout ?? TimeSpan.FromSeconds(30), () => $"{count} ACTIVE storage(s) on every tracker (last seen: {seen})", ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in _storages)
        {
            if (storage is not null)
            {
                await storage.DisposeAsync();
            }
        }

        foreach (var tracker in _trackers)
        {
            if (tracker is not null)
            {
                await tracker.DisposeAsync();
            }
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
