using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>With cluster_secret_key, what storages and trackers send needs a connection that proved the secret.</summary>
public sealed class PeerSecretTests
{
    private const string Secret = "the cluster's secret";

    private static Task ProveAsync(RawConnection connection, TestTracker tracker, string secret = Secret) =>
        PeerHandshake.ProveAsync(connection.Stream, PeerAuth.Key(secret), "test tracker", TimeSpan.FromSeconds(5), tracker.Ct);

    [Fact]
    public async Task Joins_and_leadership_need_the_proof_while_clients_and_monitors_do_not()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { ClusterSecretKey = Secret });

        await using (var unproven = await tracker.ConnectAsync("127.0.0.2"))
        {
            var join = new FakeStorage(unproven, "group1", 23000, 1, 10).Request(true, -1).ToArray();
            Assert.Equal(Errno.EPERM, await unproven.StatusOfAsync(FdfsCommand.StorageJoin, join));
            Assert.Equal(Errno.EPERM, await unproven.StatusOfAsync(FdfsCommand.TrackerNotifyNextLeader, "127.0.0.2:22122"u8.ToArray()));
            Assert.Equal(Errno.EPERM, await unproven.StatusOfAsync(FdfsCommand.TrackerGetSysFilesStart));
            // Stock clients and tools know no secret: queries and lists stay open on the same connection.
            Assert.Equal(Errno.ENOENT, await unproven.StatusOfAsync(FdfsCommand.QueryStoreWithoutGroupOne));
            Assert.Empty(await unproven.RequestOkAsync(FdfsCommand.ServerListAllGroups));
        }

        Assert.False(tracker.Server.Runtime.Cluster.HasGroups);

        // The same JOIN after the handshake: the storage is a member.
        var connection = await tracker.ConnectAsync("127.0.0.2");
        await ProveAsync(connection, tracker);
        await using var storage = new FakeStorage(connection, "group1", 23000, 1, 10);
        await storage.JoinAsync(true, -1);
        Assert.Single(tracker.Server.Runtime.Cluster.ListGroups());
    }

    [Fact]
    public async Task Another_secret_is_refused_both_ways_and_a_wrong_proof_closes()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { ClusterSecretKey = Secret });
        await using (var other = await tracker.ConnectAsync())
        {
            await Assert.ThrowsAsync<PeerAuthenticationException>(() => ProveAsync(other, tracker, "not the secret"));
        }

        await using var guesser = await tracker.ConnectAsync();
        Assert.Equal(PeerAuth.HelloReplySize, (await guesser.RequestOkAsync(PeerAuth.Hello, PeerAuth.NewNonce())).Length);
        Assert.Equal(Errno.EPERM, await guesser.StatusOfAsync(PeerAuth.Proof, new byte[PeerAuth.ProofSize]));
        Assert.True(await guesser.IsClosedByServerAsync());

        // Without a secret, HELLO is EOPNOTSUPP: a tracker that has one refuses to go on.
        await using var open = await TestTracker.StartAsync();
        await using var connection = await open.ConnectAsync();
        var e = await Assert.ThrowsAsync<PeerAuthenticationException>(() => ProveAsync(connection, open));
        Assert.Contains("has no cluster_secret_key", e.Message);
    }
}
