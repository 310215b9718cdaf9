using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Time;
using FastDfs.Tracker.Persistence;
using FastDfs.Tracker.StorageIds;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// The tracker's view of the storage cluster: groups sorted by name, each with its storages.
/// One lock guards the whole topology: every operation is short and in memory.
/// </summary>
internal sealed partial class ClusterState(TrackerConfig config, TrackerDataStore? dataStore, TimeProvider clock, ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly List<StorageGroup> _groups = [];
    private int _currentWriteGroup;

    public TrackerConfig Config { get; } = config;

    /// <summary>storage_ids.conf when use_storage_id is on, else null.</summary>
    public StorageIdTable? StorageIds { get; init; }

    /// <summary>The tracker's clock: <see cref="TimeProvider.System"/>, or a fake one in tests.</summary>
    public TimeProvider Clock { get; } = clock;

    /// <summary>Now in Unix seconds, by <see cref="Clock"/>.</summary>
    public long Now => Clock.UnixSeconds();

    private StorageGroup? FindGroup(string name) => _groups.Find(g => g.Name == name);

    private StorageGroup AddGroup(string name, int port, int pathCount, int subdirs)
    {
        var group = new StorageGroup(name, port, pathCount, subdirs);
        int index = _groups.FindIndex(g => string.CompareOrdinal(g.Name, name) > 0);
        _groups.Insert(index < 0 ? _groups.Count : index, group);
        return group;
    }

    /// <summary>Runs <paramref name="action"/> under the topology lock (tests and stats).</summary>
    public T Read<T>(Func<IReadOnlyList<StorageGroup>, T> action)
    {
        lock (_lock)
        {
            return action(_groups);
        }
    }

    private void SetStatus(StorageNode node, StorageStatus status)
    {
        if (node.Status == status)
        {
            return;
        }

        logger.LogInformation("storage {Group}/{Id} ({Ip}:{Port}) status {Old} -> {New}",
            node.Group.Name, node.Id, node.Ip, node.Port, node.Status.ToMonitorName(), status.ToMonitorName());
        node.Status = status;
        node.Group.Changed();
        StateChanged();
    }

    /// <summary>The storage's tracker connection closed: ACTIVE/ONLINE/OFFLINE -> OFFLINE, up_time 0 (spec 11.2).</summary>
    public void Logout(StorageNode node, object connection)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(node.Connection, connection))
            {
                return;
            }

            node.Connection = null;
            node.NotifiedGroupVersion = -1;
            node.NotifiedTrunkServer = null;
            if (node.Status.IsAvailable())
            {
                node.UpTime = 0;
                SetStatus(node, StorageStatus.Offline);
            }
        }
    }

    /// <summary>Demotes ACTIVE storages whose last heartbeat is older than check_active_interval.</summary>
    public int DemoteSilentStorages()
    {
        long deadline = Now - Config.CheckActiveInterval;
        int demoted = 0;
        lock (_lock)
        {
            foreach (var group in _groups)
            {
                foreach (var node in group.Storages)
                {
                    if (node.Status == StorageStatus.Active && node.LastHeartbeat < deadline)
                    {
                        logger.LogWarning("storage {Group}/{Id} sent no heartbeat for {Seconds}s: OFFLINE",
                            group.Name, node.Id, Now - node.LastHeartbeat);
                        node.UpTime = 0;
                        node.NotifiedGroupVersion = -1;
                        node.NotifiedTrunkServer = null;
                        SetStatus(node, StorageStatus.Offline);
                        demoted++;
                    }
                }
            }
        }

        return demoted;
    }
}
