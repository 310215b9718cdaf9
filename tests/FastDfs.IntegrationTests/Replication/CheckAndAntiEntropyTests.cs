using FastDfs.Cli;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>
/// <c>fdfs check GROUP</c> compares every member file by file; anti-entropy repairs what differs by the binlog's truth:
/// a copy missing on a peer or lost by its source comes back, a file deleted on purpose stays deleted.
/// </summary>
public sealed class CheckAndAntiEntropyTests
{
    private static async Task<(int Exit, string Out, string Err)> FdfsAsync(TestCluster cluster, CancellationToken ct, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CliApp.InvokeAsync([.. args, "--tracker", cluster.TrackerAddress], output, error, ct);
        return (exit, output.ToString(), error.ToString());
    }

    private static string PathOn(TestCluster cluster, int storage, string logicName) =>
        Path.Combine(cluster.StorageConfigs[storage].BasePath, "data", logicName[4..]);

    private static string Member(TestCluster cluster, int storage) => $"{cluster.Storages[storage].EndPoint.Address}:{cluster.Storages[storage].EndPoint.Port}";

    [Fact]
    public async Task CheckReportsEveryDifferenceAndAntiEntropyRepairsItWithoutBringingBackADeletedFile()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await ReplicationCluster.StartAsync(3, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 12; i++)
        {
            var content = ReplicationCluster.RandomBytes(500 + i * 311, i);
            files[await source.UploadAsync(new MemoryStream(content), content.Length, "bin", ct: ct)] = content;
        }

        var withMeta = files.Keys.First();
        await source.SetMetadataAsync(withMeta, [new MetadataItem("k", "v")], MetadataOp.Overwrite, ct);
        var log = await source.UploadAppenderAsync(new MemoryStream("0123456789"u8.ToArray()), 10, "log", ct: ct);
        var doomed = await source.UploadAsync(new MemoryStream("deleted on purpose"u8.ToArray()), 18, "txt", ct: ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        await ConvergenceTests.AllIdenticalAsync(cluster, client, [log, doomed], ct);
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(PathOn(cluster, 1, withMeta.LogicName + "-m"))), TimeSpan.FromSeconds(10),
            "the metadata on the peer", ct);

        var clean = await FdfsAsync(cluster, ct, "check", "group1");
        Assert.True(clean.Exit == 0, clean.Out + clean.Err);
        Assert.Contains("0 differences", clean.Out, StringComparison.Ordinal);

        // Damage by hand: a replica removed, a file the source lost, a metadata file removed, an appender's bytes changed
        // on one peer (same size: the other two members outvote it), and a deleted file put back on the peer.
        var removedOnPeer = files.Keys.ElementAt(1);
        var lostBySource = files.Keys.ElementAt(2);
        File.Delete(PathOn(cluster, 1, removedOnPeer.LogicName));
        File.Delete(PathOn(cluster, 0, lostBySource.LogicName));
        File.Delete(PathOn(cluster, 1, withMeta.LogicName + "-m"));
        await File.WriteAllBytesAsync(PathOn(cluster, 1, log.LogicName), "01234xxxxx"u8.ToArray(), ct);
        string doomedCopy = PathOn(cluster, 1, doomed.LogicName) + ".copy";
        File.Copy(PathOn(cluster, 1, doomed.LogicName), doomedCopy);
        await source.DeleteAsync(doomed, ct);
        await Eventually.TrueAsync(() => Task.FromResult(!File.Exists(PathOn(cluster, 1, doomed.LogicName))), TimeSpan.FromSeconds(10),
            "the delete on the peer", ct);
        File.Move(doomedCopy, PathOn(cluster, 1, doomed.LogicName));

        var dirty = await FdfsAsync(cluster, ct, "check", "group1");
        Assert.Equal(1, dirty.Exit);
        Assert.Contains($"{removedOnPeer.LogicName}: missing on {Member(cluster, 1)}", dirty.Out, StringComparison.Ordinal);
        Assert.Contains($"{lostBySource.LogicName}: missing on {Member(cluster, 0)}", dirty.Out, StringComparison.Ordinal);
        Assert.Contains($"{withMeta.LogicName}-m: missing on {Member(cluster, 1)}", dirty.Out, StringComparison.Ordinal);
        Assert.Contains($"{log.LogicName}: content differs", dirty.Out, StringComparison.Ordinal);
        Assert.Contains($"{doomed.LogicName}: missing on {Member(cluster, 0)}", dirty.Out, StringComparison.Ordinal);
        Assert.Contains("5 differences", dirty.Out, StringComparison.Ordinal);

        // The quick form sees the same: appender and metadata CRC32s are compared in it too.
        var quick = await FdfsAsync(cluster, ct, "check", "group1", "--quick");
        Assert.Equal(1, quick.Exit);
        Assert.Contains("5 differences", quick.Out, StringComparison.Ordinal);

        // Anti-entropy on the source: every file it is the source of, by the binlog's truth.
        cluster.Storages[0].Context.AntiEntropy.RequestRound();
        await Eventually.TrueAsync(async () => (await FdfsAsync(cluster, ct, "check", "group1")).Exit == 0, TimeSpan.FromSeconds(60),
            "fdfs check to find nothing after anti-entropy", ct);
        await ReplicationCluster.AllServeAsync(client, cluster.Storages, files, ct);
        Assert.Equal("0123456789"u8.ToArray(), await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], log, ct));
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[2], doomed, ct));
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[0], doomed, ct));
        Assert.Null(await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], doomed, ct));
        Assert.Equal("v", Assert.Single(await ReplicationCluster.Direct(client, cluster.Storages[1]).GetMetadataAsync(withMeta, ct)).Value);

        var report = await source.QueryIntegrityAsync(ct);
        Assert.True(report.AntiEntropyRounds >= 1);
        Assert.Equal((3L, 1L, 1L), (report.AntiEntropyResent, report.AntiEntropyDeletesResent, report.AntiEntropyRestored));
        Assert.Contains(report.Findings, f => f.Kind == IntegrityFindingKind.Restored && f.LogicName == lostBySource.LogicName);
    }

    [Fact]
    public async Task WithoutAMajorityADifferentAppenderCopyIsLeftAndAFileWithoutARecordIsNotBroughtBack()
    {
        // Two members, an appender whose copies differ in a byte: which one rotted cannot be told.
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var log = await source.UploadAppenderAsync(new MemoryStream("0123456789"u8.ToArray()), 10, "log", ct: ct);
        await ConvergenceTests.AllIdenticalAsync(cluster, client, [log], ct);
        string onPeer = PathOn(cluster, 1, log.LogicName);
        var mtime = File.GetLastWriteTimeUtc(onPeer);
        await File.WriteAllBytesAsync(onPeer, "0123x56789"u8.ToArray(), ct);
        File.SetLastWriteTimeUtc(onPeer, mtime); // rot keeps the mtime

        // A file the source has no record of (from before its binlog, say) is never brought to it on a guess.
        var content = "no record of me"u8.ToArray();
        string stray = FileNameCodec.BuildLogicName(0, 0, 0, FileNameCodec.SourceFromIp(ReplicationCluster.AddressOf(0)), 1795479441,
            FileNameCodec.MakeSizeField(content.Length, appender: false, trunk: false, 3), System.IO.Hashing.Crc32.HashToUInt32(content), "000.txt");
        await File.WriteAllBytesAsync(PathOn(cluster, 1, stray), content, ct);

        var check = await FdfsAsync(cluster, ct, "check", "group1");
        Assert.Equal(1, check.Exit);
        Assert.Contains($"{log.LogicName}: content differs", check.Out, StringComparison.Ordinal);
        Assert.Contains($"{stray}: missing on {Member(cluster, 0)}", check.Out, StringComparison.Ordinal);
        cluster.Storages[0].Context.AntiEntropy.RequestRound();
        await Eventually.TrueAsync(async () => (await source.QueryIntegrityAsync(ct)).AntiEntropyRounds >= 1, TimeSpan.FromSeconds(30),
            "an anti-entropy round", ct);
        Assert.Equal("0123x56789"u8.ToArray(), await File.ReadAllBytesAsync(onPeer, ct));
        Assert.False(File.Exists(PathOn(cluster, 0, stray)));
        var report = await source.QueryIntegrityAsync(ct);
        Assert.Equal((0L, 0L), (report.AntiEntropyResent, report.AntiEntropyRestored));
    }

    [Fact]
    public async Task AChangeOrDeleteOnAMemberThatIsNotTheSourceIsRefusedWhileTheSourceIsInTheGroup()
    {
        var ct = Timeouts.Test(60);
        await using var cluster = await ReplicationCluster.StartAsync(2, ct);
        await using var client = cluster.CreateClient();
        var source = ReplicationCluster.Direct(client, cluster.Storages[0]);
        var other = ReplicationCluster.Direct(client, cluster.Storages[1]);
        var log = await source.UploadAppenderAsync(new MemoryStream("abc"u8.ToArray()), 3, "log", ct: ct);
        await ConvergenceTests.AllIdenticalAsync(cluster, client, [log], ct);

        var error = await Assert.ThrowsAsync<FastDfsException>(() => other.AppendAsync(log, new MemoryStream("d"u8.ToArray()), 1, ct));
        Assert.Equal(Protocol.Errno.EAGAIN, error.ErrorCode);
        await cluster.Storages[0].KillAsync(); // down, but still a member
        error = await Assert.ThrowsAsync<FastDfsException>(() => other.TruncateAsync(log, 0, ct));
        Assert.Equal(Protocol.Errno.EAGAIN, error.ErrorCode);
        error = await Assert.ThrowsAsync<FastDfsException>(() => other.DeleteAsync(log, ct));
        Assert.Equal(Protocol.Errno.EAGAIN, error.ErrorCode);
        Assert.Equal("abc"u8.ToArray(), await ReplicationCluster.TryDownloadAsync(client, cluster.Storages[1], log, ct));
    }
}
