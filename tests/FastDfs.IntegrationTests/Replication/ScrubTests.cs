using FastDfs.Cli;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>
/// The scrub reads every stored file whose name promises its size and CRC32, and replaces a damaged copy with a
/// peer's verified copy: on demand with <c>fdfs scrub</c>, and in the background every <c>scrub_interval</c>.
/// </summary>
public sealed class ScrubTests
{
    private static async Task<(int Exit, string Out, string Err)> FdfsAsync(TestCluster cluster, CancellationToken ct, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CliApp.InvokeAsync([.. args, "--tracker", cluster.TrackerAddress], output, error, ct);
        return (exit, output.ToString(), error.ToString());
    }

    private static string PathOn(TestCluster cluster, int storage, FileId id) =>
        Path.Combine(cluster.StorageConfigs[storage].BasePath, "data", id.LogicName[4..]);

    /// <summary>Flips one bit in the middle of the stored copy (the size stays the same, so only the CRC32 tells).</summary>
    private static async Task FlipAByteAsync(string path)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);
    }

    [Fact]
    public async Task FdfsScrubFindsAFlippedByteAndRepairsItFromAPeer()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 20; i++)
        {
            var content = ReplicationCluster.RandomBytes(1000 + i * 997, i);
            files[await client.UploadAsync(content, "bin", ct: ct)] = content;
        }

        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        var (damaged, good) = files.First();
        await FlipAByteAsync(PathOn(cluster, 1, damaged));
        Assert.NotEqual(good, await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], damaged, ct));

        var scrub = await FdfsAsync(cluster, ct, "scrub", "--group", "group1", "--rate", "0");
        Assert.True(scrub.Exit == 0, scrub.Out + scrub.Err);
        Assert.Contains("1 damaged, 1 repaired, 0 not repairable", scrub.Out, StringComparison.Ordinal);
        Assert.Contains($"{damaged}: repaired", scrub.Out, StringComparison.Ordinal);
        Assert.Contains("20 files", scrub.Out, StringComparison.Ordinal);
        Assert.Equal(good, await File.ReadAllBytesAsync(PathOn(cluster, 1, damaged)));
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);

        // What the monitor shows of it.
        var monitor = await FdfsAsync(cluster, ct, "monitor");
        Assert.Contains("damage_since_start = 1 found, 1 repaired, 0 not repairable", monitor.Out, StringComparison.Ordinal);
        Assert.Contains("scrub = 1 passes", monitor.Out, StringComparison.Ordinal);

        // A second pass finds nothing; one storage only.
        var storage = cluster.Storages[1].EndPoint;
        var again = await FdfsAsync(cluster, ct, "scrub", "--storage", $"{storage.Address}:{storage.Port}");
        Assert.Equal(0, again.Exit);
        Assert.Contains("0 damaged, 0 repaired", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACopyDamagedOnEveryMemberIsReportedNotRepairableAndLeftAlone()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var content = ReplicationCluster.RandomBytes(5000, 1);
        var id = await client.UploadAsync(content, "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [id] = content }, ct);
        await FlipAByteAsync(PathOn(cluster, 0, id));
        await FlipAByteAsync(PathOn(cluster, 1, id));
        var onDisk = await File.ReadAllBytesAsync(PathOn(cluster, 0, id));

        var scrub = await FdfsAsync(cluster, ct, "scrub");
        Assert.Equal(1, scrub.Exit);
        Assert.Contains($"{id}: NOT REPAIRABLE", scrub.Out, StringComparison.Ordinal);
        // A copy that does not verify is never taken over another one.
        Assert.Equal(onDisk, await File.ReadAllBytesAsync(PathOn(cluster, 0, id)));
    }

    [Fact]
    public async Task TheBackgroundScrubRepairsOnItsOwn()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct, (_, c) => c with { ScrubInterval = 2, ScrubRate = 0 });
        await using var client = cluster.CreateClient();
        var content = ReplicationCluster.RandomBytes(300_000, 3);
        var id = await client.UploadAsync(content, "bin", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [id] = content }, ct);
        int source = FastDfsClient.DecodeName(id).Source == ReplicationCluster.AddressOf(0) ? 0 : 1;
        await FlipAByteAsync(PathOn(cluster, source, id));

        await Eventually.TrueAsync(async () => (await File.ReadAllBytesAsync(PathOn(cluster, source, id), ct)).AsSpan().SequenceEqual(content),
            TimeSpan.FromSeconds(30), "the background scrub to repair the source's copy", ct);
        var report = await ReplicationCluster.Direct(client, cluster.Storages[source]).QueryIntegrityAsync(ct);
        Assert.True(report.ScrubPasses >= 1);
        Assert.Equal(1, report.Repaired);
        Assert.Contains(report.Findings, f => f.Kind == IntegrityFindingKind.Repaired && f.LogicName == id.LogicName);
    }

    [Fact]
    public async Task ADamagedTrunkSlotIsRepairedFromThePeersSlot()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(2, tracker => Trunk.TrunkTesting.WithTrunk(tracker, 8 << 20),
            (i, c) => ReplicationCluster.Configure(i, c), ct);
        await using var client = cluster.CreateClient();
        FileId id = default;
        var content = ReplicationCluster.RandomBytes(3000, 9);
        await Eventually.TrueAsync(async () =>
        {
            // Until a trunk server is elected, small uploads are normal files; while it is elected, the group may have no
            // writable storage for a moment (ENOENT): try again.
            try
            {
                id = await client.UploadAsync(content, "bin", ct: ct);
            }
            catch (FastDfsException e) when (e.ErrorCode == Protocol.Errno.ENOENT)
            {
                return false;
            }

            return Trunk.TrunkTesting.IsTrunk(id);
        }, TimeSpan.FromSeconds(60), "a trunk-stored upload", ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, new Dictionary<FileId, byte[]> { [id] = content }, ct);

        var damagedOn = cluster.Storages[1];
        var slot = Storage.Trunk.TrunkBlock.FromName(FileNameCodec.Decode(id.LogicName));
        string trunkFile = damagedOn.Context.Trunk.Files.FullPath(slot.File);
        await using (var stream = new FileStream(trunkFile, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = slot.Offset + Storage.Trunk.TrunkSlotHeader.Size + 100;
            int b = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(b ^ 0x01));
        }

        Assert.NotEqual(content, await ReplicationCluster.TryDownloadAsync(client, damagedOn, id, ct));
        var scrub = await FdfsAsync(cluster, ct, "scrub", "--storage", $"{damagedOn.EndPoint.Address}:{damagedOn.EndPoint.Port}");
        Assert.True(scrub.Exit == 0, scrub.Out + scrub.Err);
        Assert.Contains("1 damaged, 1 repaired", scrub.Out, StringComparison.Ordinal);
        Assert.Equal(content, await ReplicationCluster.TryDownloadAsync(client, damagedOn, id, ct));
    }
}
