using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests;

/// <summary>
/// Moving files between groups (issue 19): <c>fdfs rebalance</c> moves half of group1 to group2 under load, is killed
/// (kill -9) once and resumed; every old ID and every new ID then downloads byte-identical through the tracker (binary,
/// HTTP gateway, the npm client), with its metadata, and nothing moved is left in group1.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class RebalanceTests
{
    private const int InitialFiles = 600;

    [Fact]
    public async Task Half_of_a_group_moves_under_load_with_the_mover_killed_once_and_every_old_and_new_id_serves_the_same_bytes()
    {
        var ct = Timeouts.Test(240);
        // group1: two members on two addresses (a name says which one created it), group2: one member.
        await using var cluster = await TwoGroupsAsync(group1Members: 2, ct, http: true);
        await using var client = cluster.CreateClient();
        string tracker = cluster.TrackerAddress;
        var acknowledged = new ConcurrentDictionary<FileId, byte[]>();
        var withMetadata = new ConcurrentDictionary<FileId, MetadataItem[]>();
        for (int i = 0; i < InitialFiles; i++)
        {
            byte[] content = Content(i);
            MetadataItem[]? metadata = i % 5 == 0 ? [new("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("kind", "initial")] : null;
            var id = await client.UploadAsync(content, "bin", metadata, group: "group1", ct: ct);
            acknowledged[id] = content;
            if (metadata is not null)
            {
                withMetadata[id] = metadata;
            }
        }

        // A slave of a file that may move: slaves are files of their own and move alike.
        var master = acknowledged.Keys.First();
        byte[] slaveContent = Content(1_000_000);
        var slave = await client.UploadSlaveAsync(master, "_small", "bin", new MemoryStream(slaveContent), slaveContent.Length, ct: ct);
        acknowledged[slave] = slaveContent;

        // Load during the move: uploads to group1, and downloads of every kind of ID, which must never fail.
        using var stopLoad = new CancellationTokenSource();
        int key = InitialFiles;
        var readFailures = new ConcurrentQueue<string>();
        var uploads = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                byte[] content = Content(Interlocked.Increment(ref key));
                acknowledged[await client.UploadAsync(content, "bin", group: "group1", ct: ct)] = content;
            }
        })));
        var reads = Task.Run(async () =>
        {
            var ids = acknowledged.Keys.ToArray();
            for (int i = 0; !stopLoad.IsCancellationRequested; i++)
            {
                var id = ids[i % ids.Length];
                try
                {
                    byte[] read = await client.DownloadBytesAsync(id, ct: ct);
                    if (!acknowledged[id].AsSpan().SequenceEqual(read))
                    {
                        readFailures.Enqueue($"{id}: other bytes");
                    }
                }
                catch (FastDfsException e)
                {
                    readFailures.Enqueue($"{id}: {e.Message}");
                }
            }
        });

        // The mover, a process of its own: killed (kill -9) once it maps files, then run again to the end.
        string journal = Path.Combine(cluster.Root, "move.journal");
        string[] arguments = ["rebalance", "group1", "group2", "--share", "50%", "--journal", journal, "--tracker", tracker, "--grace", "1"];
        using (var mover = StartFdfs(arguments))
        {
            await Eventually.TrueAsync(() => Task.FromResult(File.Exists(journal) && File.ReadAllText(journal).Contains("\nmapping ", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(60), "the mover to map its first files", ct);
            mover.Kill();
            await mover.WaitForExitAsync(ct);
        }

        string killedAt = File.ReadAllText(journal);
        Assert.DoesNotContain("\nplanned 0\n", killedAt);
        int plannedCount = killedAt.Split('\n').Count(l => l.StartsWith("file ", StringComparison.Ordinal));
        Assert.True(killedAt.Split('\n').Count(l => l.StartsWith("done ", StringComparison.Ordinal)) < plannedCount, "the mover was killed before its end");

        var (exit, stdout, stderr) = await ProcessRunner.RunSplitAsync(Path.Combine(AppContext.BaseDirectory, "fdfs"), arguments, TimeSpan.FromSeconds(150));
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("resuming", stdout);
        Assert.False(File.Exists(journal), "the journal of a complete move is removed");
        await stopLoad.CancelAsync();
        await Task.WhenAll(uploads, reads);
        Assert.Empty(readFailures);

        // What moved: group2's files (it had none), about half of group1's at the plan, none of them left in group1.
        var moved = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var file in client.ListFilesAsync("group2", ct: ct))
        {
            if (!file.Kind.HasFlag(ListedFileKind.Metadata))
            {
                moved.Add(file.LogicName);
            }
        }

        Assert.Equal(plannedCount, moved.Count);
        Assert.InRange(moved.Count, InitialFiles / 2, acknowledged.Count / 2 + 1);
        // The source copies' deletions reach the other member of group1 by replication.
        await Eventually.TrueAsync(async () =>
        {
            foreach (var member in await client.Tracker.ListStoragesAsync("group1", ct: ct))
            {
                var storage = client.GetStorage(new StorageEndpoint(member.IpAddr, (int)member.StoragePort));
                await foreach (var file in storage.ListAllFilesAsync("group1", ct: ct))
                {
                    if (moved.Contains(file.LogicName.EndsWith("-m", StringComparison.Ordinal) ? file.LogicName[..^2] : file.LogicName))
                    {
                        return false;
                    }
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30), "no moved file left in group1", ct);

        // Every acknowledged file by its old ID, and every moved one by its new ID too: binary, HTTP gateway.
        using var http = new HttpClient();
        foreach (var (id, content) in acknowledged)
        {
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
            if (moved.Contains(id.LogicName))
            {
                var newId = new FileId("group2", id.LogicName);
                Assert.Equal(content, await client.DownloadBytesAsync(newId, ct: ct));
                Assert.Equal(content, await http.GetByteArrayAsync(new Uri(cluster.TrackerHttp, "/" + id), ct));
                Assert.Equal(content, await http.GetByteArrayAsync(new Uri(cluster.TrackerHttp, "/" + newId), ct));
            }
        }

        var movedWithMetadata = withMetadata.Where(m => moved.Contains(m.Key.LogicName)).ToList();
        Assert.NotEmpty(movedWithMetadata);
        foreach (var (id, metadata) in movedWithMetadata)
        {
            Assert.Equal(metadata.OrderBy(m => m.Name), (await client.GetMetadataAsync(id, ct)).OrderBy(m => m.Name));
        }

        // The npm client (nobody here wrote it) reads moved files by their old IDs.
        foreach (var id in acknowledged.Keys.Where(id => moved.Contains(id.LogicName)).Take(3))
        {
            var result = await NodeDownloadAsync(tracker, id, ct);
            Assert.Equal(Convert.ToBase64String(acknowledged[id]), result.GetProperty("base64").GetString());
        }

        // A moved file is changed and deleted through its old ID: it is gone under both.
        var doomed = acknowledged.Keys.First(id => moved.Contains(id.LogicName));
        await client.SetMetadataAsync(doomed, [new MetadataItem("after", "move")], MetadataOp.Overwrite, ct);
        Assert.Equal("move", (await client.GetMetadataAsync(doomed, ct)).Single().Value);
        await client.DeleteAsync(doomed, ct);
        foreach (var id in new[] { doomed, new FileId("group2", doomed.LogicName) })
        {
            var gone = await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct));
            Assert.Equal(Errno.ENOENT, gone.ErrorCode);
        }
    }

    [Fact]
    public async Task A_delete_or_metadata_change_reaching_the_source_copy_during_the_grace_period_is_carried_over()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TwoGroupsAsync(group1Members: 1, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 30; i++)
        {
            byte[] content = Content(i);
            files[await client.UploadAsync(content, "bin", [new MetadataItem("v", "1")], group: "group1", ct: ct)] = content;
        }

        // Usage errors: no selection, two selections, a journal of another move.
        string journal = Path.Combine(cluster.Root, "late.journal");
        Assert.Equal(2, (await InvokeAsync(["rebalance", "group1", "group2", "--journal", journal, "--tracker", cluster.TrackerAddress], ct)).Exit);
        Assert.Equal(2, (await InvokeAsync(["rebalance", "group1", "group2", "--share", "10%", "--bytes", "1M", "--tracker", cluster.TrackerAddress], ct)).Exit);
        await File.WriteAllTextAsync(journal, "fdfs-rebalance 2 group1 group3\nplanned 0\n", ct);
        var (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--share", "1", "--journal", journal, "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 2 && output.Contains("journal of another move", StringComparison.Ordinal), output);
        File.Delete(journal);
        FileId deletedLate, changedLate;

        // Every file, with a long grace: while the first batch waits in it, one source copy is deleted and another's
        // metadata changed directly on the source storage (as by clients that asked a tracker just before the map entry);
        // then the mover is killed (kill -9) in the grace period, and the resumed move still carries both over.
        using (var mover = StartFdfs(["rebalance", "group1", "group2", "--share", "100%", "--grace", "30", "--journal", journal, "--tracker", cluster.TrackerAddress]))
        {
            await Eventually.TrueAsync(() => Task.FromResult(File.Exists(journal) && File.ReadAllText(journal).Contains("\nmapping ", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the first files to be mapped", ct);
            var mapping = File.ReadAllLines(journal).Where(l => l.StartsWith("mapping ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList();
            deletedLate = new FileId("group1", mapping[0]);
            changedLate = new FileId("group1", mapping[1]);
            var source = client.GetStorage(new StorageEndpoint("127.0.0.2", cluster.Storages[0].EndPoint.Port));
            await source.DeleteAsync(deletedLate, ct);
            await source.SetMetadataAsync(changedLate, [new MetadataItem("v", "2")], MetadataOp.Overwrite, ct);
            Assert.False(mover.HasExited);
            mover.Kill();
            await mover.WaitForExitAsync(ct);
        }

        Assert.DoesNotContain("\nchecked ", File.ReadAllText(journal));
        (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--grace", "1", "--journal", journal, "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 0, output);

        foreach (var id in new[] { deletedLate, new FileId("group2", deletedLate.LogicName) })
        {
            Assert.Equal(Errno.ENOENT, (await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct))).ErrorCode);
        }

        Assert.Equal("2", (await client.GetMetadataAsync(changedLate, ct)).Single().Value);
        files.Remove(deletedLate);
        foreach (var (id, content) in files)
        {
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
            Assert.Equal(content, await client.DownloadBytesAsync(new FileId("group2", id.LogicName), ct: ct));
        }

        // A journal cut mid-line by a crash: the cut line is dropped and the plan resumed (here: nothing left to move).
        await File.WriteAllTextAsync(journal, $"fdfs-rebalance 2 group1 group2\nfile {changedLate.LogicName} 0\nplanned 1\ndone {changedLate.LogicName}\nmapp", ct);
        (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--journal", journal, "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 0, output);
        Assert.Contains("resuming", output);
        Assert.Contains("0 of 1 files left", output);
    }

    [Fact]
    public async Task A_tracker_that_cannot_be_reached_stops_the_move_before_any_source_copy_is_deleted_and_the_move_resumes()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TwoGroupsAsync(group1Members: 1, ct);
        await using var client = cluster.CreateClient();
        var files = new Dictionary<FileId, byte[]>();
        for (int i = 0; i < 20; i++)
        {
            byte[] content = Content(i);
            files[await client.UploadAsync(content, "bin", group: "group1", ct: ct)] = content;
        }

        // The configuration lists a second tracker that is down: the map entries cannot reach it.
        string journal = Path.Combine(cluster.Root, "down.journal");
        string down = $"127.0.0.1:{FreePorts.On()}";
        var (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--share", "100%", "--grace", "0", "--journal", journal,
            "--tracker", cluster.TrackerAddress, "--tracker", down], ct);
        Assert.True(exit != 0, output);
        Assert.True(File.Exists(journal));
        Assert.DoesNotContain("\ndone ", File.ReadAllText(journal));
        var source = client.GetStorage(new StorageEndpoint("127.0.0.2", cluster.Storages[0].EndPoint.Port));
        foreach (var (id, content) in files)
        {
            Assert.Equal(content, await ReadAsync(source, id, ct)); // every source copy is still there
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        }

        // Meanwhile the tracker that took the entries sends changes of the old IDs to the target copies: a delete and a
        // metadata change there must hold after the move resumes (the copies are not imported again over them).
        var deleted = files.Keys.First();
        var changed = files.Keys.Last();
        await client.DeleteAsync(deleted, ct);
        await client.SetMetadataAsync(changed, [new MetadataItem("during", "outage")], MetadataOp.Overwrite, ct);
        files.Remove(deleted);

        // Without it in the configuration (taken out of the cluster), the same command resumes and finishes.
        (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--journal", journal, "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 0, output);
        Assert.Contains("moved 20 files", output);
        foreach (var (id, content) in files)
        {
            Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
            Assert.Equal(Errno.ENOENT, (await Assert.ThrowsAsync<FastDfsException>(() => ReadAsync(source, id, ct))).ErrorCode);
        }

        foreach (var id in new[] { deleted, new FileId("group2", deleted.LogicName) })
        {
            Assert.Equal(Errno.ENOENT, (await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct))).ErrorCode);
        }

        Assert.Equal("outage", (await client.GetMetadataAsync(changed, ct)).Single().Value);
    }

    [Fact]
    public async Task Bytes_and_files_selections_plan_what_they_name()
    {
        var ct = Timeouts.Test(120);
        await using var cluster = await TwoGroupsAsync(group1Members: 1, ct);
        await using var client = cluster.CreateClient();
        var ids = new List<FileId>();
        for (int i = 0; i < 40; i++)
        {
            ids.Add(await client.UploadAsync(new byte[1000], "bin", group: "group1", ct: ct));
        }

        await using var appenderContent = new MemoryStream("log"u8.ToArray());
        var appender = await client.UploadAppenderAsync(appenderContent, 3, "log", group: "group1", ct: ct);
        string journal = Path.Combine(cluster.Root, "select.journal");

        // About 10,000 bytes of 40,000: ten files of 1,000 bytes, spread over the group; the appender is not planned.
        var (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--bytes", "10000", "--grace", "0", "--journal", journal,
            "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 0, output);
        Assert.Contains("planned 10 files", output);
        Assert.Contains("not moved: 1 appender files", output);
        var moved = new List<string>();
        await foreach (var file in client.ListFilesAsync("group2", ct: ct))
        {
            moved.Add(file.LogicName);
        }

        Assert.Equal(10, moved.Count);
        Assert.True(ids.IndexOf(ids.First(id => moved.Contains(id.LogicName))) < 8, "spread over the group, not its end");

        // A list: three files not moved yet, one twice, a comment, and the appender (skipped, said so).
        var listed = ids.Where(id => !moved.Contains(id.LogicName)).Take(3).ToList();
        string list = Path.Combine(cluster.Root, "ids.txt");
        await File.WriteAllLinesAsync(list, ["# to move", .. listed.Select(id => id.ToString()), listed[0].ToString(), appender.ToString()], ct);
        (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--files", list, "--grace", "0", "--journal", journal,
            "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 0, output);
        Assert.Contains("planned 3 files", output);
        Assert.Contains("moved 3 files", output);
        foreach (var id in listed)
        {
            Assert.Equal(1000, (await client.GetStorage(new StorageEndpoint("127.0.0.3", cluster.Storages[1].EndPoint.Port))
                .QueryFileInfoAsync(new FileId("group2", id.LogicName), skipCrc: true, ct)).FileSize);
        }

        // A list naming another group's file is a usage error, and nothing is planned.
        await File.WriteAllLinesAsync(list, [new FileId("group2", moved[0]).ToString()], ct);
        (exit, output) = await InvokeAsync(["rebalance", "group1", "group2", "--files", list, "--journal", journal, "--tracker", cluster.TrackerAddress], ct);
        Assert.True(exit == 2, output);
        Assert.Contains("is not a file of group1", output);
    }

    private static async Task<byte[]> ReadAsync(StorageClient storage, FileId id, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await storage.DownloadAsync(id, buffer, ct: ct);
        return buffer.ToArray();
    }

    private static async Task<(int Exit, string Output)> InvokeAsync(string[] args, CancellationToken ct)
    {
        var output = new StringWriter();
        int exit = await Cli.CliApp.InvokeAsync(args, output, output, ct);
        return (exit, output.ToString());
    }

    /// <summary>group1's members, then one storage of group2, each on an address of its own from 127.0.0.2 (a file's name
    /// says which storage created it).</summary>
    private static Task<TestCluster> TwoGroupsAsync(int group1Members, CancellationToken ct, bool http = false) =>
        TestCluster.StartAsync(group1Members + 1, configureStorage: (i, c) => c with
        {
            BindAddr = $"127.0.0.{i + 2}",
            GroupName = i < group1Members ? "group1" : "group2",
        }, ct: ct, http: http);

    /// <summary>Distinct, verifiable content of a few hundred bytes to 20 KB.</summary>
    private static byte[] Content(int key)
    {
        var content = new byte[key % 7 == 0 ? 20_000 : 200 + key % 997];
        new Random(key).NextBytes(content);
        return content;
    }

    private static Process StartFdfs(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "fdfs"), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static async Task<JsonElement> NodeDownloadAsync(string tracker, FileId id, CancellationToken ct)
    {
        Assert.True(Directory.Exists(Path.Combine(RepoPaths.NodeCompatDir, "node_modules")), "run `npm ci` in tests/compat/node first (./test.sh does it)");
        var (exit, stdout, stderr) = await ProcessRunner.RunSplitAsync("node",
            [Path.Combine(RepoPaths.NodeCompatDir, "fdfs-compat.mjs"), "--tracker", tracker, "--scenario", "download", "--file-id", id.ToString()],
            TimeSpan.FromSeconds(60));
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement.Clone();
        Assert.True(exit == 0 && root.GetProperty("ok").GetBoolean(), stdout + stderr);
        return root.GetProperty("steps").GetProperty("download").GetProperty("result");
    }
}
