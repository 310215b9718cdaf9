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

    /// <summary>The cluster parameters (STORAGE_PARAMETER_REQ): <c>key=value</c> lines as a dictionary.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetParametersAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.StorageParameterReq, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        return ParameterReply.Parse(body);
    }
}
