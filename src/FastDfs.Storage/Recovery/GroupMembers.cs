using FastDfs.Client;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>The members of our group as the first tracker that answers lists them (LIST_SERVERS), or null when none does.</summary>
internal static class GroupMembers
{
    public static async Task<IReadOnlyList<StorageStat>?> ListAsync(StorageConfig config, TimeSpan connectTimeout, TimeSpan networkTimeout,
        ILogger logger, CancellationToken ct)
    {
        await using var client = new FastDfsClient(new FastDfsClientOptions
        {
            Trackers = config.TrackerServers.Select(t => new FastDfsEndpoint(t.Host, t.Port)).ToList(),
            ConnectTimeout = connectTimeout,
            NetworkTimeout = networkTimeout,
            UseConnectionPool = false,
        });
        foreach (var tracker in config.TrackerServers)
        {
            try
            {
                return await client.Tracker.ListStoragesOnAsync(new FastDfsEndpoint(tracker.Host, tracker.Port), config.GroupName!, ct: ct)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is FastDfsException or IOException)
            {
                logger.LogDebug("listing group {Group} on {Tracker}: {Message}", config.GroupName, tracker, e.Message);
            }
        }

        return null;
    }
}
