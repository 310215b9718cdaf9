using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>Monitoring and administration commands (fdfs_monitor).</summary>
public sealed partial class TrackerClient
{
    /// <summary>All groups (SERVER_LIST_ALL_GROUPS), sorted by name.</summary>
    public async Task<IReadOnlyList<GroupStat>> ListGroupsAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.ServerListAllGroups, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        return Parse(body, static b => GroupStat.ParseList(b));
    }

    /// <summary>One group (SERVER_LIST_ONE_GROUP).</summary>
    public async Task<GroupStat> ListGroupAsync(string group, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.ServerListOneGroup, GroupBody(group), ct).ConfigureAwait(false);
        if (body.Length != GroupStat.Size)
        {
            throw new FastDfsProtocolException(default, $"group stat of {body.Length} bytes, expected {GroupStat.Size}");
        }

        return Parse(body, static b => GroupStat.Parse(b));
    }

    /// <summary>The storages of a group (SERVER_LIST_STORAGE), optionally only the one with <paramref name="storageId"/>.</summary>
    public async Task<IReadOnlyList<StorageStat>> ListStoragesAsync(string group, string? storageId = null, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.ServerListStorage, GroupAndIdBody(group, storageId), ct).ConfigureAwait(false);
        return Parse(body, static b => StorageStat.ParseList(b));
    }

    /// <summary>Removes an offline storage from a group (SERVER_DELETE_STORAGE) on one tracker.</summary>
    public async Task DeleteStorageAsync(string group, string storageId, CancellationToken ct = default) =>
        await ExchangeAsync(FdfsCommand.ServerDeleteStorage, GroupAndIdBody(group, storageId), ct).ConfigureAwait(false);

    /// <summary>Removes an empty group (SERVER_DELETE_GROUP) on one tracker.</summary>
    public async Task DeleteGroupAsync(string group, CancellationToken ct = default) =>
        await ExchangeAsync(FdfsCommand.ServerDeleteGroup, GroupBody(group), ct).ConfigureAwait(false);

    /// <summary>The leader tracker's address (SERVER_GET_LEADER).</summary>
    public async Task<FastDfsEndpoint> GetLeaderAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.ServerGetLeader, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        string text = FixedString.Read(body);
        return FastDfsEndpoint.TryParse(text, ProtocolConstants.DefaultTrackerPort, out var leader)
            ? leader
            : throw new FastDfsProtocolException(default, $"leader address '{text}' is not host:port");
    }

    /// <summary>
    /// Every tracker of the cluster as the leader sees it (SERVER_TRACKER_CLUSTER_STAT, answered by the leader only): asks
    /// a tracker for the leader, then the leader; null filters are not applied. What fdfs_tracker_stat lists.
    /// </summary>
    public async Task<IReadOnlyList<TrackerClusterStatEntry>> GetTrackerClusterStatAsync(bool? active = null, bool? leader = null, CancellationToken ct = default)
    {
        var leaderEndpoint = await GetLeaderAsync(ct).ConfigureAwait(false);
        byte[] body = await ExchangeOnAsync(leaderEndpoint, TrackerClusterStatRequest.Command,
            new TrackerClusterStatRequest(active, leader).ToArray(), ct).ConfigureAwait(false);
        return Parse(body, static b => TrackerClusterStatEntry.ParseList(b));
    }

    /// <summary>
    /// Every storage of every group (SERVER_STORAGE_CLUSTER_STAT) with the tracker's use_storage_id and use_trunk_file;
    /// null filters are not applied. What fdfs_storage_stat lists.
    /// </summary>
    public async Task<StorageClusterStat> GetStorageClusterStatAsync(StorageClusterStatRequest filter = default, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(StorageClusterStatRequest.Command, filter.ToArray(), ct).ConfigureAwait(false);
        return Parse(body, static b => StorageClusterStat.Parse(b));
    }

    /// <summary>The space of every group (SERVER_STORAGE_VOLUMN_STAT); null filters are not applied. What fdfs_volumn_stat lists.</summary>
    public async Task<VolumeStat> GetVolumeStatAsync(VolumeStatRequest filter = default, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(VolumeStatRequest.Command, filter.ToArray(), ct).ConfigureAwait(false);
        return Parse(body, static b => VolumeStat.Parse(b));
    }

    /// <summary>
    /// Makes <paramref name="storageId"/> the trunk server of <paramref name="group"/> (SERVER_SET_TRUNK_SERVER), or with
    /// no id lets the leader keep or elect one; returns the trunk server's id. Sent to each configured tracker in turn as
    /// stock's tracker_set_trunk_server does: a tracker that cannot be reached or is not the leader (EOPNOTSUPP) is
    /// skipped, any other answer is final.
    /// </summary>
    public async Task<string> SetTrunkServerAsync(string group, string? storageId = null, CancellationToken ct = default)
    {
        byte[] request = new SetTrunkServerRequest(group, storageId ?? "").ToArray();
        FastDfsException? last = null;
        foreach (var tracker in Options.Trackers)
        {
            try
            {
                byte[] body = await ExchangeOnAsync(tracker, SetTrunkServerRequest.Command, request, ct).ConfigureAwait(false);
                return Parse(body, static b => SetTrunkServerReply.Parse(b)).StorageId;
            }
            catch (FastDfsException ex) when (ex is FastDfsConnectionException || (ex.IsServerError && ex.ErrorCode == Errno.EOPNOTSUPP))
            {
                last = ex;
            }
        }

        throw last ?? new FastDfsException(Errno.ENOENT, "no tracker server configured");
    }

    /// <summary>The cluster parameters (STORAGE_PARAMETER_REQ): <c>key=value</c> lines as a dictionary.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetParametersAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.StorageParameterReq, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        return ParameterReply.Parse(body);
    }
}
