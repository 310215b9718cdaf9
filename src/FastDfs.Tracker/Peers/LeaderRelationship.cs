using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Time;
using FastDfs.Tracker.Cluster;
using FastDfs.Tracker.Network;
using FastDfs.Tracker.Persistence;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Peers;

/// <summary>
/// The tracker-to-tracker relationship (spec 14.2): elects a leader when none is known, follows it with
/// JOIN_LEADER and a PING_LEADER every second (three failed pings in a row forget it and start a new
/// election), and, as leader, checks every few seconds that no other tracker also claims leadership.
/// </summary>
internal sealed partial class LeaderRelationship(TrackerConfig config, ClusterState cluster, TrackerPeers peers, TrackerDataStore dataStore,
    ConnectionCounts connections, TimeProvider clock, ILogger logger)
{
    /// <summary>Consecutive failed pings after which the leader is considered gone (stock: 3).</summary>
    public const int MaxPingFailures = 3;

    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeaderCheckInterval = TimeSpan.FromSeconds(3);

    private readonly TrackerPeers _peers = peers;
    private readonly ClusterState _cluster = cluster;
    private readonly System.Net.IPAddress? _bindAddress = TrackerRuntime.ClientBindAddressOf(config);
    private readonly byte[]? _peerKey = TrackerRuntime.PeerKeyOf(config);
    private PeerConnection? _leaderConnection;
    private int _pingFailures;
    private long _electionNotBefore;
    private long _lastLeaderCheck;
    private long _lastPing;
    private TrackerPeer? _lastPinged;

    private TimeSpan ConnectTimeout => TimeSpan.FromSeconds(Math.Clamp(config.ConnectTimeout, 1, 3));

    private TimeSpan NetworkTimeout => TimeSpan.FromSeconds(Math.Clamp(config.NetworkTimeout, 1, 5));

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await StepAsync(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or ProtocolException && !stop.IsCancellationRequested)
                {
                    logger.LogDebug("tracker relationship: {Message}", e.Message);
                }

                // A second between steps (by the tracker's clock), or at once when a new tracker was learnt or the leader lost.
                await WaitForWakeOrTickAsync(stop).ConfigureAwait(false);
                while (_peers.Wake.Wait(0))
                {
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping: whatever the step was doing (a connect refused as the socket closed) no longer matters.
        }
        finally
        {
            await DropLeaderConnectionAsync().ConfigureAwait(false);
        }
    }

    private async Task WaitForWakeOrTickAsync(CancellationToken stop)
    {
        using var tick = new CancellationTokenSource(PingInterval, clock);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, tick.Token);
        try
        {
            await _peers.Wake.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // The second is up.
        }
    }

    private async Task StepAsync(CancellationToken stop)
    {
        var self = _peers.Self;
        if (self is null)
        {
            // No storage has told us who the trackers are yet (stock elects nothing either).
            return;
        }

        var leader = _peers.Leader;
        if (leader is null)
        {
            await DropLeaderConnectionAsync().ConfigureAwait(false);
            if (clock.Milliseconds() >= _electionNotBefore && !_peers.AwaitingCommit)
            {
                await ElectAsync(self, stop).ConfigureAwait(false);
            }

            return;
        }

        if (leader == self)
        {
            await DropLeaderConnectionAsync().ConfigureAwait(false);
            if (clock.Milliseconds() - _lastLeaderCheck >= LeaderCheckInterval.TotalMilliseconds)
            {
                _lastLeaderCheck = clock.Milliseconds();
                await CheckSingleLeaderAsync(self, stop).ConfigureAwait(false);
            }

            return;
        }

        await PingLeaderAsync(self, leader, stop).ConfigureAwait(false);
    }

    private async Task PingLeaderAsync(TrackerPeer self, TrackerPeer leader, CancellationToken stop)
    {
        // Pings stay a second apart even when the loop is woken early: three failures take about 3 s.
        if (_lastPinged == leader && clock.Milliseconds() - _lastPing < PingInterval.TotalMilliseconds - 50)
        {
            return;
        }

        if (_lastPinged != leader)
        {
            _pingFailures = 0;
        }

        _lastPinged = leader;
        _lastPing = clock.Milliseconds();
        try
        {
            if (_leaderConnection is null || _leaderConnection.Peer != leader)
            {
                await DropLeaderConnectionAsync().ConfigureAwait(false);
                _leaderConnection = await PeerConnection.ConnectAsync(leader, ConnectTimeout, NetworkTimeout, stop, _bindAddress, _peerKey).ConfigureAwait(false);
            }

            if (!_leaderConnection.JoinedLeader)
            {
                var join = new JoinLeaderRequest(_peers.StartTime, ProtocolConstants.Version, self.Port);
                var (joinStatus, _) = await _leaderConnection.RequestAsync(FdfsCommand.TrackerJoinLeader, join.ToArray(), stop).ConfigureAwait(false);
                if (joinStatus != Errno.Ok)
                {
                    throw new ProtocolException($"JOIN_LEADER refused by {leader}: {Errno.Describe(joinStatus)}", joinStatus);
                }

                _leaderConnection.JoinedLeader = true;
            }

            var ping = new PingLeaderRequest(config.MaxConnections, connections.Current, connections.Peak);
            var (status, body) = await _leaderConnection.RequestAsync(FdfsCommand.TrackerPingLeader, ping.ToArray(), stop).ConfigureAwait(false);
            if (status != Errno.Ok)
            {
                throw new ProtocolException($"PING_LEADER refused by {leader}: {Errno.Describe(status)}", status);
            }

            if (body.Length > 0)
            {
                _cluster.ApplyLeaderTrunkServers(GroupTrunkServer.Decode(body));
            }

            _pingFailures = 0;
        }
        catch (Exception e) when (e is IOException or ProtocolException && !stop.IsCancellationRequested)
        {
            await DropLeaderConnectionAsync().ConfigureAwait(false);
            _pingFailures++;
            logger.LogWarning("ping to leader {Leader} failed ({Count}/{Max}): {Message}", leader, _pingFailures, MaxPingFailures, e.Message);
            if (_pingFailures >= MaxPingFailures)
            {
                _pingFailures = 0;
                _peers.SetLeader(null, $"{leader} did not answer {MaxPingFailures} pings");
            }
        }
    }

    private async Task DropLeaderConnectionAsync()
    {
        if (_leaderConnection is { } connection)
        {
            _leaderConnection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// GET_STATUS of one tracker: null when it cannot be reached. A tracker that answers ENOENT (no storage
    /// joined it yet) is alive and still a candidate, with zero running time: counting it keeps trackers that
    /// start together from each electing itself before the storages reached all of them.
    /// </summary>
    private async Task<TrackerStatusReply?> GetStatusAsync(TrackerPeer peer, CancellationToken stop)
    {
        if (peer == _peers.Self)
        {
            return _peers.LocalStatus(_cluster.Now);
        }

        try
        {
            await using var connection = await PeerConnection.ConnectAsync(peer, ConnectTimeout, NetworkTimeout, stop, _bindAddress, _peerKey).ConfigureAwait(false);
            var (status, body) = await connection.RequestAsync(FdfsCommand.TrackerGetStatus, default, stop).ConfigureAwait(false);
            return status switch
            {
                Errno.Ok => TrackerStatusReply.Parse(body),
                Errno.ENOENT => new TrackerStatusReply(false, 0, 0),
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or ProtocolException && !stop.IsCancellationRequested)
        {
            logger.LogDebug("GET_STATUS of {Peer}: {Message}", peer, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Stock's order: if_leader, running time ascending, restart interval descending, then IP (as a string)
    /// and port ascending; the last one wins.
    /// </summary>
    internal static TrackerPeer PickWinner(IReadOnlyList<(TrackerPeer Peer, TrackerStatusReply Status)> candidates) =>
        candidates
            .OrderBy(c => c.Status.IsLeader)
            .ThenBy(c => c.Status.RunningTime)
            .ThenByDescending(c => c.Status.RestartInterval)
            .ThenBy(c => c.Peer)
            .Last().Peer;

    private async Task ElectAsync(TrackerPeer self, CancellationToken stop)
    {
        var candidates = new List<(TrackerPeer Peer, TrackerStatusReply Status)>();
        foreach (var peer in _peers.Known)
        {
            if (await GetStatusAsync(peer, stop).ConfigureAwait(false) is { } status)
            {
                candidates.Add((peer, status));
            }
        }

        if (!candidates.Any(c => c.Peer == self))
        {
            candidates.Add((self, _peers.LocalStatus(_cluster.Now)));
        }

        var winner = PickWinner(candidates);
        if (winner != self)
        {
            var claim = candidates.First(c => c.Peer == winner).Status;
            if (claim.IsLeader)
            {
                _peers.SetLeader(winner, "found the existing leader");
            }
            else
            {
                // The winner will notify us; elect again if it does not within a moment.
                logger.LogDebug("waiting for {Winner} to take the lead", winner);
                DelayNextElection(1000, 2000);
            }

            return;
        }

        // Announce to everyone that answered, then commit: they follow us from the commit on.
        var others = candidates.Where(c => c.Peer != self).Select(c => c.Peer).ToList();
        if (!await TellAllAsync(FdfsCommand.TrackerNotifyNextLeader, self, others, stop).ConfigureAwait(false) ||
            !await TellAllAsync(FdfsCommand.TrackerCommitNextLeader, self, others, stop).ConfigureAwait(false))
        {
            // Stock retries after 1-10 s; a shorter random pause keeps failover under 5 s.
            DelayNextElection(300, 1500);
            return;
        }

        _peers.SetLeader(self, $"won the election among {candidates.Count} tracker(s)");
        _cluster.ForgetNotifications();
    }

    private void DelayNextElection(int minMs, int maxMs) =>
        _electionNotBefore = clock.Milliseconds() + Random.Shared.Next(minMs, maxMs);

    private async Task<bool> TellAllAsync(FdfsCommand command, TrackerPeer self, List<TrackerPeer> peers, CancellationToken stop)
    {
        byte[] text = System.Text.Encoding.ASCII.GetBytes(self.HostPort);
        bool ok = true;
        foreach (var peer in peers)
        {
            try
            {
                await using var connection = await PeerConnection.ConnectAsync(peer, ConnectTimeout, NetworkTimeout, stop, _bindAddress, _peerKey).ConfigureAwait(false);
                var (status, _) = await connection.RequestAsync(command, text, stop).ConfigureAwait(false);
                if (status != Errno.Ok)
                {
                    logger.LogInformation("{Peer} answered {Command} with {Status}", peer, command, Errno.Describe(status));
                    ok = false;
                }
            }
            catch (IOException e)
            {
                // A tracker that went away meanwhile does not block the others.
                logger.LogDebug("{Command} to {Peer}: {Message}", command, peer, e.Message);
            }
        }

        return ok;
    }

    /// <summary>
    /// Split brain (two leaders, e.g. after a partition heals): the leader that would lose the election
    /// against the other steps down and follows it.
    /// </summary>
    private async Task CheckSingleLeaderAsync(TrackerPeer self, CancellationToken stop)
    {
        foreach (var peer in _peers.Others)
        {
            if (await GetStatusAsync(peer, stop).ConfigureAwait(false) is not { IsLeader: true } status)
            {
                continue;
            }

            var winner = PickWinner([(self, _peers.LocalStatus(_cluster.Now)), (peer, status)]);
            if (winner != self)
            {
                _peers.SetLeader(peer, $"{peer} is also leader and outranks this tracker");
                return;
            }
        }
    }
}
