using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.TestSupport;
using FastDfs.Tracker.Peers;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>Tracker-to-tracker frames (spec 8) against the stock captures, byte for byte.</summary>
public sealed class PeerFrameTests
{
    private static readonly List<CapturedFrame> Election = HexCapture.Load("tracker-leader-election-initial.hex");
    private static readonly List<CapturedFrame> Rejoin = HexCapture.Load("tracker-restart-rejoin.hex");
    private static readonly List<CapturedFrame> Pings = HexCapture.Load("tracker-ping-leader.hex");

    private static CapturedFrame Reply(List<CapturedFrame> frames, int requestIndex)
    {
        Assert.True(frames[requestIndex].IsRequest);
        Assert.False(frames[requestIndex + 1].IsRequest);
        return frames[requestIndex + 1];
    }

    /// <summary>Sends a captured request frame as is and returns the raw reply frame.</summary>
    private static async Task<byte[]> ReplayAsync(RawConnection connection, CapturedFrame request)
    {
        await connection.SendRawAsync(request.Bytes);
        var (header, body) = await connection.ReceiveAsync();
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        header.WriteTo(frame);
        body.CopyTo(frame, ProtocolConstants.HeaderSize);
        return frame;
    }

    [Fact]
    public async Task GetStatus_OfAnEmptyTracker_IsTheCapturedEnoent()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var peer = await tracker.ConnectAsync();
        Assert.Equal(Reply(Election, 0).Bytes, await ReplayAsync(peer, Election[0]));
    }

    [Fact]
    public async Task LoneLeader_AnswersStatusSysFilesJoinAndPings_AsStockDoes()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.JoinAsync(initFlag: true, status: -1);
        // The follower that joins below (port 22122) is a tracker the storages list.
        await using var lister = await tracker.JoinAsync(initFlag: true, status: -1, trackers: [$"127.0.0.1:{tracker.EndPoint.Port}", "127.0.0.1:22122"]);
        await using var peer = await tracker.ConnectAsync();
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");

        // GET_STATUS of a leader that started less than 300 s ago: 01 + zeros (capture of the rejoin).
        Assert.Equal(Reply(Rejoin, 0).Bytes, await ReplayAsync(peer, Rejoin[0]));

        // GET_SYS_FILES_START, the groups file (identical for group1/23000/1/256), sync timestamps, empty changelog, END.
        Assert.Equal(Reply(Election, 4).Bytes, await ReplayAsync(peer, Election[4]));
        Assert.Equal(Reply(Election, 6).Bytes, await ReplayAsync(peer, Election[6]));
        var servers = await ReplayAsync(peer, Election[8]);
        // Same keys in the same order; ours adds the modify/truncate counters stock does not keep (ignored by stock).
        var stockKeys = StockKeys(Reply(Election, 8).Bytes);
        Assert.Equal(stockKeys, StockKeys(servers).Where(stockKeys.Contains));
        var sync = await ReplayAsync(peer, Election[10]);
        Assert.Equal("group1,127.0.0.1,0\n", Encoding.ASCII.GetString(sync, ProtocolConstants.HeaderSize + 8, sync.Length - 18));
        Assert.Equal(Reply(Election, 12).Bytes, await ReplayAsync(peer, Election[12]));
        Assert.Equal(Reply(Election, 14).Bytes, await ReplayAsync(peer, Election[14]));

        // A follower joins (its port 22122 becomes a known peer) and pings: group list once, then empty replies.
        Assert.Equal(Reply(Rejoin, 2).Bytes, await ReplayAsync(peer, Rejoin[2]));
        Assert.Equal(Reply(Rejoin, 4).Bytes, await ReplayAsync(peer, Rejoin[4]));
        Assert.Equal(Reply(Pings, 0).Bytes, await ReplayAsync(peer, Pings[0]));
        Assert.Equal(Errno.EEXIST, await peer.StatusOfAsync(FdfsCommand.TrackerJoinLeader, Rejoin[2].Body.ToArray()));

        // The leader lists both trackers; the follower pinged just now, so it is active.
        var stat = await peer.RequestOkAsync(FdfsCommand.ServerTrackerClusterStat, new byte[3]);
        Assert.Equal(2, stat[0]);
        Assert.Equal(1 + 2 * 90, stat.Length);
    }

    [Fact]
    public async Task NotifyAndCommit_MakeALeaderFollowTheAnnouncedTracker()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync();
        await using var leader = new FakeLeader();
        await using var lister = await tracker.IntroduceTrackersAsync("127.0.0.1", "10.77.0.5:22122", leader.HostPort);
        await using var peer = await tracker.ConnectAsync();
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");
        await storage.BeatAsync();

        // A leader told about another next leader gives up and answers EINVAL; the commit then makes it follow.
        var notify = Election[20];
        Assert.Equal(FdfsCommand.TrackerNotifyNextLeader, notify.Header.Cmd);
        Assert.Equal(Errno.EINVAL, await peer.StatusOfAsync(FdfsCommand.TrackerNotifyNextLeader, notify.Body.ToArray()));
        Assert.Equal(Reply(Election, 22).Bytes, await ReplayAsync(peer, Election[22]));
        Assert.Equal("10.77.0.5:22122", Encoding.ASCII.GetString(await peer.RequestOkAsync(FdfsCommand.ServerGetLeader)));
        Assert.False(tracker.Server.IsLeader);

        // Hand the lead to a reachable stand-in so that the follower keeps following while we look at it.
        byte[] leaderText = Encoding.ASCII.GetBytes(leader.HostPort);
        Assert.Empty(await peer.RequestOkAsync(FdfsCommand.TrackerNotifyNextLeader, leaderText));
        Assert.Empty(await peer.RequestOkAsync(FdfsCommand.TrackerCommitNextLeader, leaderText));
        Assert.Equal(leader.HostPort, Encoding.ASCII.GetString(await peer.RequestOkAsync(FdfsCommand.ServerGetLeader)));

        // A follower answers storages with no flags, refuses leader-only commands, and a wrong commit is EINVAL.
        Assert.Equal([0], await storage.Connection.RequestOkAsync(FdfsCommand.StorageBeat));
        Assert.Equal(Errno.EOPNOTSUPP, await peer.StatusOfAsync(FdfsCommand.ServerTrackerClusterStat, new byte[3]));
        Assert.Equal(Errno.EOPNOTSUPP, await peer.StatusOfAsync(FdfsCommand.TrackerPingLeader, new byte[12]));
        Assert.Equal(Errno.EINVAL, await peer.StatusOfAsync(FdfsCommand.TrackerCommitNextLeader, "10.77.0.1:22122"u8.ToArray()));
    }

    [Fact]
    public async Task LeadershipMovesOnlyAtTheWordOfATrackerOfTheCluster()
    {
        await using var tracker = await TestTracker.StartAsync();
        await using var storage = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");
        await tracker.WaitUntilAsync(() => Task.FromResult(tracker.Server.IsLeader), "the lone tracker to lead");

        // 127.0.0.9 is neither a tracker of the cluster nor a storage.
        await using var stranger = await tracker.ConnectAsync("127.0.0.9");
        byte[] self = Encoding.ASCII.GetBytes("127.0.0.9:22122");
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(FdfsCommand.TrackerNotifyNextLeader, self));
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(FdfsCommand.TrackerCommitNextLeader, self));
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(FdfsCommand.TrackerNotifyReselectLeader));
        Assert.Equal(Errno.EPERM, await stranger.StatusOfAsync(FdfsCommand.TrackerJoinLeader, new JoinLeaderRequest(1, "6.16.1", 22122).ToArray()));
        Assert.True(tracker.Server.IsLeader);

        // A storage that saw two leaders may ask for a new election.
        Assert.Empty(await storage.Connection.RequestOkAsync(FdfsCommand.TrackerNotifyReselectLeader));
    }

    [Fact]
    public async Task WithTrackerServerConfigured_JoinListsAddNoOtherTracker_AndLearntOnesAreBounded()
    {
        // The configured peer is an empty tracker (GET_STATUS answers ENOENT), so the first JOIN goes through.
        await using var other = await TestTracker.StartAsync();
        await using (var configured = await TestTracker.StartAsync(c => c with { TrackerServers = [new("127.0.0.1", other.EndPoint.Port)] }))
        {
            await using var storage = await configured.JoinAsync(initFlag: true, status: -1);
            var rogue = new FakeStorage(await configured.ConnectAsync("127.0.0.3"), "group1", 23001, 1, 10)
            {
                Trackers = [$"127.0.0.1:{configured.EndPoint.Port}", "10.66.0.1:22122", "10.66.0.2:22122"],
            };
            await rogue.JoinAsync(true, -1);
            Assert.DoesNotContain(configured.Server.Runtime.Peers.Others, p => p.Ip.StartsWith("10.66.", StringComparison.Ordinal));
            await rogue.DisposeAsync();
        }

        // Without tracker_server the trackers are learnt from JOIN lists (16 at most each), and at most 16 in all.
        await using var learning = await TestTracker.StartAsync();
        await using var settled = await learning.JoinAsync(initFlag: true, status: -1);
        for (int s = 0; s < 3; s++)
        {
            await using var many = new FakeStorage(await learning.ConnectAsync($"127.0.0.{4 + s}"), "group1", 23002 + s, 1, 10)
            {
                Trackers = [.. Enumerable.Range(1, 10).Select(i => $"10.67.{s}.{i}:22122")],
            };
            await many.JoinAsync(true, -1);
        }

        Assert.Equal(TrackerPeers.MaxLearnt - 1, learning.Server.Runtime.Peers.Others.Count); // 16 with this one
    }

    [Fact]
    public void PeerMessages_EncodeAsCaptured()
    {
        Assert.Equal(Election[24].Body.ToArray(), new JoinLeaderRequest(0x6b04d75c, "6.16.1", 22122).ToArray());
        Assert.Equal(Election[26].Body.ToArray(), new PingLeaderRequest(256, 3, 3).ToArray());
        Assert.Equal(Reply(Election, 26).Body.ToArray(), GroupTrunkServer.Encode([new GroupTrunkServer("group1", "")]));
        Assert.Equal(new TrackerStatusReply(false, 0, 0), TrackerStatusReply.Parse(Reply(Election, 2).Body));
        Assert.Equal("10.77.0.5:22122", Encoding.ASCII.GetString(Election[20].Body));
    }

    [Fact]
    public void Election_PrefersTheLeader_ThenLongestRunning_ThenShortestRestart_ThenIpAsText_ThenPort()
    {
        var a = new TrackerPeer("10.77.0.10", 22122);
        var b = new TrackerPeer("10.77.0.5", 22122);
        var idle = new TrackerStatusReply(false, 0, 0);
        Assert.Equal(b, LeaderRelationship.PickWinner([(a, idle), (b, idle)]));
        Assert.Equal(a, LeaderRelationship.PickWinner([(a, idle with { IsLeader = true }), (b, idle)]));
        Assert.Equal(a, LeaderRelationship.PickWinner([(a, idle with { RunningTime = 300 }), (b, idle)]));
        Assert.Equal(a, LeaderRelationship.PickWinner([(a, idle), (b, idle with { RestartInterval = 600 })]));
        var c = new TrackerPeer("127.0.0.1", 40001);
        var d = new TrackerPeer("127.0.0.1", 40002);
        Assert.Equal(d, LeaderRelationship.PickWinner([(d, idle), (c, idle)]));
    }

    /// <summary>The key names of an ini sys file reply (values differ between clusters).</summary>
    private static List<string> StockKeys(byte[] frame) =>
        Encoding.ASCII.GetString(frame, ProtocolConstants.HeaderSize + 8, frame.Length - ProtocolConstants.HeaderSize - 8)
            .Split('\n')
            .Where(l => l.StartsWith('\t'))
            .Select(l => l.Trim().Split('=')[0])
            .ToList();
}
