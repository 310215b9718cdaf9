using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Tracking;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Sync;

/// <summary>
/// The sync workers' short tracker conversations (spec 6.6, 6.7): SYNC_SRC_REQ (86) to one tracker and
/// REPORT_STATUS (76) to every tracker, each on a fresh connection closed with QUIT, as stock does.
/// </summary>
internal sealed class TrackerNotifier(StorageState ctx, ILogger logger)
{
    private TimeSpan ConnectTimeout => TimeSpan.FromSeconds(ctx.Config.ConnectTimeout > 0 ? ctx.Config.ConnectTimeout : 10);
    private TimeSpan NetworkTimeout => TimeSpan.FromSeconds(ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30);

    /// <summary>Asks the trackers in turn who gives <paramref name="destId"/> its old data; null = nobody.</summary>
    public async Task<SyncSourceBody?> SyncSourceRequestAsync(string destId, CancellationToken ct)
    {
        var body = new byte[2 * ProtocolConstants.GroupNameMaxLen];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), ctx.GroupName);
        FixedString.Write(body.AsSpan(ProtocolConstants.GroupNameMaxLen), destId);
        Exception? last = null;
        foreach (var tracker in ctx.Config.TrackerServers)
        {
            try
            {
                await using var connection = await TrackerConnection.ConnectAsync(
                    tracker.Hosts, tracker.Port, ConnectTimeout, NetworkTimeout, ct, ctx.ClientBindAddress, ctx.PeerKey).ConfigureAwait(false);
                var (status, reply) = await connection.RequestAsync(FdfsCommand.StorageSyncSrcReq, body, ct).ConfigureAwait(false);
                if (status != Errno.Ok)
                {
                    throw new ProtocolException($"SYNC_SRC_REQ for {destId} answered {Errno.Describe(status)}", status);
                }

                return reply.Length >= SyncSourceBody.Size ? SyncSourceBody.Parse(reply) : null;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                last = e;
            }
        }

        throw new IOException($"no tracker answered SYNC_SRC_REQ: {last?.Message}", last);
    }

    /// <summary>Tells every tracker the old-data progress of <paramref name="peer"/> (WAIT_SYNC -> SYNCING -> OFFLINE).</summary>
    public async Task ReportStatusAsync(StorageBrief peer, StorageStatus status, CancellationToken ct)
    {
        var body = new byte[ProtocolConstants.GroupNameMaxLen + StorageBrief.Size];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), ctx.GroupName);
        (peer with { Status = status }).Write(body.AsSpan(ProtocolConstants.GroupNameMaxLen));
        int reached = 0;
        foreach (var tracker in ctx.Config.TrackerServers)
        {
            try
            {
                await using var connection = await TrackerConnection.ConnectAsync(
                    tracker.Hosts, tracker.Port, ConnectTimeout, NetworkTimeout, ct, ctx.ClientBindAddress, ctx.PeerKey).ConfigureAwait(false);
                var (reply, _) = await connection.RequestAsync(FdfsCommand.StorageReportStatus, body, ct).ConfigureAwait(false);
                if (reply == Errno.Ok)
                {
                    reached++;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                logger.LogDebug("REPORT_STATUS to {Tracker}: {Message}", tracker, e.Message);
            }
        }

        if (reached == 0)
        {
            throw new IOException($"no tracker accepted REPORT_STATUS {status} for {peer.Id}");
        }

        logger.LogInformation("reported peer {Peer} as {Status} to {Count} tracker(s)", peer.Id, status.ToMonitorName(), reached);
    }
}
