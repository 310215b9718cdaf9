using System.IO.Hashing;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>With cluster_secret_key, storage-to-storage commands need a connection that proved the secret.</summary>
public sealed class PeerSecretTests
{
    private const string Secret = "s3cret of the cluster";

    private static string NameFor(byte[] content) =>
        FileNameCodec.BuildLogicName(0, 1, 2, FileNameCodec.SourceFromIp("127.0.0.9"), 1795479441,
            FileNameCodec.MakeSizeField(content.Length, appender: false, trunk: false, 4242), Crc32.HashToUInt32(content), "000.txt");

    [Fact]
    public async Task A_member_address_without_the_proof_changes_nothing_and_with_it_replicates()
    {
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { ClusterSecretKey = Secret });
        var content = "replicated with a proof"u8.ToArray();
        string name = NameFor(content);

        await using (var unproven = await storage.ConnectAsync())
        {
            // 127.0.0.1 is a member's address (TestStorage): without the secret that is not enough.
            Assert.Equal(Errno.EPERM, (await unproven.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, content, 1795479441))).Status);
            Assert.Equal(Errno.EPERM, (await unproven.RequestAsync(FdfsCommand.TrunkFreeSpace, new byte[TrunkSlotRequest.Size])).Status);
            Assert.False(File.Exists(storage.FullPath(name)));
            // Client commands stay open (stock clients know no secret), and the connection still serves.
            Assert.Equal(0, (await unproven.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
        }

        await using var proven = await storage.ConnectAsync();
        await PeerHandshake.ProveAsync(proven.Stream, PeerAuth.Key(Secret), "test storage", TimeSpan.FromSeconds(5), storage.Timeout);
        Assert.Equal(0, (await proven.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, content, 1795479441))).Status);
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(name)));
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_both_ways_and_a_wrong_proof_closes_the_connection()
    {
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { ClusterSecretKey = Secret });

        // We check the server first: a server with another secret is not talked to.
        await using (var client = await storage.ConnectAsync())
        {
            var e = await Assert.ThrowsAsync<PeerAuthenticationException>(() =>
                PeerHandshake.ProveAsync(client.Stream, PeerAuth.Key("another secret"), "test storage", TimeSpan.FromSeconds(5), storage.Timeout));
            Assert.Contains("does not know", e.Message);
        }

        // A client that guesses: HELLO, then a proof that is not the right one: EPERM, and the connection is closed.
        await using (var guesser = await storage.ConnectAsync())
        {
            var (status, reply) = await guesser.RequestAsync(PeerAuth.Hello, PeerAuth.NewNonce());
            Assert.Equal(0, status);
            Assert.Equal(PeerAuth.HelloReplySize, reply.Length);
            Assert.Equal(Errno.EPERM, (await guesser.RequestAsync(PeerAuth.Proof, new byte[PeerAuth.ProofSize])).Status);
            Assert.True(await guesser.IsClosedByServerAsync());
        }

        // A PROOF without a HELLO is a malformed exchange.
        await using (var early = await storage.ConnectAsync())
        {
            Assert.Equal(Errno.EINVAL, (await early.RequestAsync(PeerAuth.Proof, new byte[PeerAuth.ProofSize])).Status);
        }
    }

    [Fact]
    public async Task Without_a_secret_the_handshake_is_answered_EOPNOTSUPP_and_a_storage_with_one_will_not_talk()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var client = await storage.ConnectAsync();
        var e = await Assert.ThrowsAsync<PeerAuthenticationException>(() =>
            PeerHandshake.ProveAsync(client.Stream, PeerAuth.Key(Secret), "test storage", TimeSpan.FromSeconds(5), storage.Timeout));
        Assert.Contains("has no cluster_secret_key", e.Message);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
    }
}
