using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Tracker.Persistence;

namespace FastDfs.Tracker.Cluster;

/// <summary>Snapshots for the data files (spec 14.3) and the change counters that tell when to write them.</summary>
internal sealed partial class ClusterState
{
    private long _stateVersion;
    private long _statsVersion;

    /// <summary>Bumped by every change of membership, status or sync source: written within a second.</summary>
    public long StateVersion => Interlocked.Read(ref _stateVersion);

    /// <summary>Bumped by heartbeats, disk and sync reports: written periodically.</summary>
    public long StatsVersion => Interlocked.Read(ref _statsVersion);

    /// <summary>The tracker's data directory (changelog); null for a tracker without one.</summary>
    public TrackerDataStore? DataStore { get; } = dataStore;

    private void StateChanged() => Interlocked.Increment(ref _stateVersion);

    private void StatsChanged() => Interlocked.Increment(ref _statsVersion);

    public bool HasGroups
    {
        get
        {
            lock (_lock)
            {
                return _groups.Count > 0;
            }
        }
    }

    public (string Groups, string Servers, string SyncTimestamps) ExportFiles()
    {
        lock (_lock)
        {
            return (TrackerStateFormat.FormatGroups(_groups), TrackerStateFormat.FormatServers(_groups, Config.UseStorageId),
                TrackerStateFormat.FormatSyncTimestamps(_groups));
        }
    }

    /// <summary>
    /// Replaces the topology with the one in the files. Storages that were connected come back OFFLINE (they
    /// turn ONLINE at their re-join and ACTIVE at their next heartbeat); other states are kept.
    /// </summary>
    public void ImportFiles(string groupsText, string serversText, string syncText)
    {
        var groups = TrackerStateFormat.ParseGroups(groupsText);
        var storages = TrackerStateFormat.ParseServers(serversText);
        var sync = TrackerStateFormat.ParseSyncTimestamps(syncText);
        lock (_lock)
        {
            _groups.Clear();
            _currentWriteGroup = 0;
            foreach (var record in groups)
            {
                var group = AddGroup(record.Name, record.StoragePort, record.StorePathCount, record.SubdirCount);
                group.CurrentTrunkFileId = record.CurrentTrunkFileId;
                group.TrunkServerId = record.TrunkServer;
                group.LastTrunkServerId = record.LastTrunkServer;
            }

            foreach (var record in storages)
            {
                var group = FindGroup(record.Group) ?? AddGroup(record.Group, 0, 1, 256);
                if (group.Find(record.Id) is not null)
                {
                    continue;
                }

                var node = group.Add(record.Id);
                TrackerStateFormat.Apply(record, node);
                node.Status = record.Status is StorageStatus.Active or StorageStatus.Online ? StorageStatus.Offline
                    : Enum.IsDefined(record.Status) ? record.Status : StorageStatus.Offline;
                node.UpTime = 0;
                if (StorageIds?.FindById(record.Id) is { } entry)
                {
                    node.RwMode = entry.RwMode;
                }
            }

            foreach (var group in _groups)
            {
                var members = group.Storages;
                foreach (var src in members)
                {
                    if (!sync.TryGetValue((group.Name, src.Id), out var row))
                    {
                        continue;
                    }

                    for (int i = 0; i < row.Length && i < members.Count; i++)
                    {
                        if (row[i] > 0 && members[i] != src)
                        {
                            members[i].SyncedFrom[src.Id] = (int)row[i];
                        }
                    }
                }

                group.Changed();
            }

            StateChanged();
        }
    }
}
