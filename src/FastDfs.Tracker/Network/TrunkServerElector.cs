using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>
/// Trunk server election (spec 13), run by the leader only and only with use_trunk_file: every second, each group
/// whose trunk server is missing or no longer ACTIVE (its connection closed or it stopped beating for
/// check_active_interval) asks every writable storage for its trunk binlog size with TRUNK_GET_BINLOG_SIZE (31) on
/// a short connection; the largest binlog wins (it has seen the most allocations), ties go to the first in id
/// order. Unlike stock, every candidate is compared with the best so far (stock compares each with the group's
/// store server only), and a storage that cannot be asked is skipped rather than aborting the election.
/// </summary>
internal sealed class TrunkServerElector(TrackerConfig config, ClusterState cluster, Peers.TrackerPeers peers, TimeProvider clock, ILogger<TrunkServerElector> logger)
{
    private readonly SemaphoreSlim _electing = new(1, 1);

    public async Task RunAsync(CancellationToken stop)
    {
        if (!config.UseTrunkFile)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (peers.IsLeader)
                {
                    await ElectMissingAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Elects a trunk server for every group that needs one; returns nothing, the state holds the result.</summary>
    public async Task ElectMissingAsync(CancellationToken ct)
    {
        await _electing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var (group, candidates) in cluster.GroupsNeedingTrunkServer())
            {
                string chosen = await ChooseAsync(group, candidates, ct).ConfigureAwait(false) ?? "";
                cluster.ElectTrunkServer(group, chosen);
            }
        }
        finally
        {
            _electing.Release();
        }
    }

    /// <summary>The candidate with the largest trunk binlog, or null when none answered.</summary>
    private async Task<string?> ChooseAsync(string group, List<TrunkCandidate> candidates, CancellationToken ct)
    {
        string? best = null;
        long bestSize = -1;
        foreach (var candidate in candidates)
        {
            try
            {
                long size = await QueryBinlogSizeAsync(candidate, ct).ConfigureAwait(false);
                logger.LogDebug("group {Group}: {Id} has a trunk binlog of {Size} bytes", group, candidate.Id, size);
                if (size > bestSize)
                {
                    best = candidate.Id;
                    bestSize = size;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ProtocolException)
            {
                if (ct.IsCancellationRequested)
                {
                    throw;
                }

                logger.LogWarning("group {Group}: TRUNK_GET_BINLOG_SIZE to {Ip}:{Port} failed: {Message}", group, candidate.Ip, candidate.Port, e.Message);
            }
        }

        return best;
    }

    /// <summary>TRUNK_GET_BINLOG_SIZE on a short connection, through the servers' one outgoing channel (connect timeout,
    /// client_bind, the cluster_secret_key proof when one is set).</summary>
    private async Task<long> QueryBinlogSizeAsync(TrunkCandidate candidate, CancellationToken ct)
    {
        var options = new PeerChannelOptions(TimeSpan.FromSeconds(Math.Clamp(config.ConnectTimeout, 1, 30)),
            TimeSpan.FromSeconds(Math.Clamp(config.NetworkTimeout, 1, 30)), TrackerRuntime.ClientBindAddressOf(config), TrackerRuntime.PeerKeyOf(config));
        await using var channel = await PeerChannel.ConnectAsync(candidate.Ip, candidate.Port, options, "storage", ct).ConfigureAwait(false);
        var (status, body) = await channel.RequestAsync(TrunkBinlogSizeReply.Command, default, TrunkBinlogSizeReply.Size, ct).ConfigureAwait(false);
        if (status != Errno.Ok || body.Length != TrunkBinlogSizeReply.Size)
        {
            throw new ProtocolException($"TRUNK_GET_BINLOG_SIZE answered status {status}, body {body.Length}", status == Errno.Ok ? Errno.EINVAL : status);
        }

        return TrunkBinlogSizeReply.Parse(body).BinlogSize;
    }
}
