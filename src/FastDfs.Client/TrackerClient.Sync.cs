using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

public sealed partial class TrackerClient
{
    /// <summary>
    /// FastDFS.NET trackers only (command 120): why each storage of <paramref name="group"/> is in its state
    /// and how many seconds each one lags behind each source. A stock tracker refuses the command.
    /// </summary>
    public async Task<StorageSyncStatus> GetSyncStatusAsync(string group, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(FdfsCommand.ServerStorageSyncStatus, GroupBody(group), ct).ConfigureAwait(false);
        return StorageSyncStatus.Parse(body);
    }
}
