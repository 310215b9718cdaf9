using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The seed topology of docs/deployment.md, started from the repository's own confs (deploy/seed): two trackers and two
/// groups of two storages, each one `fdfs tracker tracker.conf` or `fdfs storage storage.conf` process, HTTP served by
/// the daemons themselves (no nginx), clients listing both trackers (no keepalived). One machine plays six hosts: only
/// what must differ per process here is rewritten (addresses, ports, paths, the tracker_server values), plus the keys
/// this repository's tests shorten for speed (sub-directories, heartbeats) and the reserved space of a shared disk.
/// </summary>
// Heavy (many processes or thousands of uploads): alone, so that timing-sensitive tests do not run starved beside it.
[Collection(SerialCollection.Name)]
public sealed partial class SeedTopologyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The storage hosts, one loopback address each, as on a network: a file name carries only its source's address, so
    /// two members of a group need two addresses for the trackers to tell which one a new file is on (docs/replication.md).
    /// The trackers share 127.0.0.1 on two ports (a tracker knows itself in a tracker list by its port on a local address).
    /// </summary>
    private static readonly Dictionary<string, string[]> Groups = new()
    {
        ["group1"] = ["127.0.0.31", "127.0.0.32"],
        ["group2"] = ["127.0.0.41", "127.0.0.42"],
    };

    private static readonly int[] Sizes = [0, 1, 1000, 65_537, 300_000, 1_500_000];

    [Fact]
    public async Task The_seed_confs_start_two_trackers_and_two_replicated_groups_that_serve_through_either_tracker_and_HTTP()
    {
        var ct = Timeouts.Test(150);
        var watch = Stopwatch.StartNew();
        string seed = Path.Combine(RepoPaths.Root, "deploy", "seed");
        string root = Directory.CreateTempSubdirectory("fdfs-seed-").FullName;
        var daemons = new List<Daemon>();
        try
        {
            // ---- the confs: the seed files with this machine's addresses, ports and paths -----------------------------
            string trackerSeed = await File.ReadAllTextAsync(Path.Combine(seed, "tracker.conf"), ct);
            string clientSeed = await File.ReadAllTextAsync(Path.Combine(seed, "client.conf"), ct);
            var storageSeeds = new Dictionary<string, string>();
            foreach (string group in Groups.Keys)
            {
                storageSeeds[group] = await File.ReadAllTextAsync(Path.Combine(seed, $"storage-{group}.conf"), ct);
            }

            // docs/deployment.md: the two storage confs differ in group_name only.
            Assert.Equal(NonComment(storageSeeds["group1"]).Replace("group_name = group1", "group_name = group2"),
                NonComment(storageSeeds["group2"]));

            // The cluster's trackers are tracker.conf's tracker_server lines; the other confs may name no other tracker.
            var seedTrackers = Values(trackerSeed, "tracker_server");
            Assert.Equal(2, seedTrackers.Count);
            Assert.Equal(2, seedTrackers.Distinct().Count());
            var ports = new UsedPorts();
            var trackers = seedTrackers.Select(t => (Seed: t, Port: ports.FreeOn("127.0.0.1"), HttpPort: ports.FreeOn("127.0.0.1"))).ToArray();
            var trackerMap = trackers.ToDictionary(t => t.Seed, t => $"127.0.0.1:{t.Port}");

            for (int i = 0; i < trackers.Length; i++)
            {
                string basePath = Path.Combine(root, $"tracker{i}");
                string conf = Path.Combine(root, $"tracker{i}.conf");
                await File.WriteAllTextAsync(conf, Rewrite(trackerSeed, "tracker.conf", trackerMap, new()
                {
                    ["bind_addr"] = "127.0.0.1",
                    ["port"] = $"{trackers[i].Port}",
                    ["http.server_port"] = $"{trackers[i].HttpPort}",
                    ["base_path"] = basePath,
                    // A shared test machine's disk is no dedicated data disk: its free share is whatever it is today.
                    ["reserved_storage_space"] = "1MB",
                }), ct);
                daemons.Add(Daemon.Start($"tracker{i}", "tracker", conf));
            }

            // Every member of a group on the group's port, as the conf says (one port free on both member addresses).
            var storages = new List<(string Group, string Address, int Port, int HttpPort)>();
            foreach (var (group, addresses) in Groups)
            {
                int port = ports.FreeOn(addresses), httpPort = ports.FreeOn(addresses);
                storages.AddRange(addresses.Select(a => (group, a, port, httpPort)));
            }

            foreach (var (group, address, port, httpPort) in storages)
            {
                string name = $"storage-{address}";
                string basePath = Path.Combine(root, name);
                string conf = Path.Combine(root, $"{name}.conf");
                await File.WriteAllTextAsync(conf, Rewrite(storageSeeds[group], $"storage-{group}.conf", trackerMap, new()
                {
                    ["bind_addr"] = address,
                    ["port"] = $"{port}",
                    ["http.server_port"] = $"{httpPort}",
                    ["base_path"] = basePath,
                    ["store_path0"] = Path.Combine(basePath, "disk0"),
                    // Speed only, as in the other tests: 16 sub-directories instead of 65536 per disk, beats every second.
                    ["subdir_count_per_path"] = "4",
                    ["heart_beat_interval"] = "1",
                    ["stat_report_interval"] = "1",
                }), ct);
                daemons.Add(Daemon.Start(name, "storage", conf));
            }

            string clientConf = Path.Combine(root, "client.conf");
            await File.WriteAllTextAsync(clientConf, Rewrite(clientSeed, "client.conf", trackerMap, new()
            {
                ["base_path"] = root,
                ["http.tracker_server_port"] = $"{trackers[0].HttpPort}",
            }), ct);
            var options = FastDfsClientOptions.FromFile(clientConf);
            Assert.Equal(trackerMap.Values.Order(), options.Trackers.Select(t => t.ToString()).Order());

            // ---- every storage ACTIVE on both trackers ----------------------------------------------------------------
            var trackerEndpoints = trackers.Select(t => FastDfsEndpoint.Parse($"127.0.0.1:{t.Port}")).ToArray();
            await using var client = new FastDfsClient(options);
            foreach (var tracker in trackerEndpoints)
            {
                await WaitForTopologyAsync(client, tracker, storages, daemons, ct);
            }

            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: 4 storages ACTIVE on both trackers");

            // `fdfs monitor` with the client.conf shows both groups, every member ACTIVE.
            var monitor = new StringWriter();
            var monitorError = new StringWriter();
            Assert.Equal(0, await Cli.CliApp.InvokeAsync(["monitor", "--config", clientConf], monitor, monitorError, ct));
            Assert.Contains("group count: 2", monitor.ToString());
            foreach (var s in storages)
            {
                Assert.Contains($"host = {s.Address}:{s.Port}  ACTIVE", monitor.ToString());
            }

            // ---- uploads through each tracker, to each group, several sizes; some to the group store_lookup picks --------
            var files = new Dictionary<FileId, byte[]>();
            int seedValue = 0;
            async Task UploadAsync(FastDfsClient via, string? group, int size)
            {
                var content = RandomBytes(size, ++seedValue);
                var id = await via.UploadAsync(content, "bin", group: group, ct: ct);
                Assert.Equal(group ?? id.Group, id.Group);
                Assert.Contains(FastDfsClient.DecodeName(id).Source, Groups[id.Group]); // stored on a member of its group
                files[id] = content;
            }

            foreach (var tracker in trackerEndpoints)
            {
                await using var via = new FastDfsClient(options with { Trackers = [tracker] });
                foreach (string group in Groups.Keys)
                {
                    foreach (int size in Sizes)
                    {
                        await UploadAsync(via, group, size);
                    }
                }

                for (int i = 0; i < 3; i++)
                {
                    await UploadAsync(via, null, 5000 + i);
                }
            }

            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: {files.Count} files uploaded");

            // ---- downloads: binary through each tracker, HTTP through each tracker's gateway and each storage -------------
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var noRedirect = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
            foreach (var tracker in trackerEndpoints)
            {
                await using var via = new FastDfsClient(options with { Trackers = [tracker] });
                foreach (var (id, content) in files)
                {
                    Assert.Equal(content, await via.DownloadBytesAsync(id, ct: ct));
                }
            }

            await AssertHttpAsync(http, noRedirect, trackers.Select(t => t.HttpPort), storages, files, ct);
            // The URL a client builds from client.conf (http.tracker_server_port) is the first tracker's gateway.
            var (firstId, firstContent) = files.First();
            Assert.Equal($"http://127.0.0.1:{trackers[0].HttpPort}/{firstId}", client.GetHttpUrl(firstId).ToString());
            Assert.Equal(firstContent, await http.GetByteArrayAsync(client.GetHttpUrl(firstId), ct));

            // ---- replication: every file on both members of its group ---------------------------------------------------
            await AssertOnEveryMemberAsync(client, storages, files, daemons, ct);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: downloads checked, every file on both members of its group");

            // ---- one tracker gone (the leader: the harder case); clients list both, so nothing changes for them ---------
            var leader = await client.Tracker.GetLeaderAsync(ct);
            int dead = Array.FindIndex(trackerEndpoints, t => t.Port == leader.Port);
            Assert.True(dead >= 0, $"the leader {leader} is none of the trackers");
            int alive = 1 - dead;
            await daemons[dead].KillAsync();
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: tracker{dead} (the leader) killed");

            // Through the client.conf's client (both trackers listed): right after the loss, and again once the survivor
            // has taken the lead.
            var before = files.Keys.ToHashSet();
            async Task UploadBatchAsync()
            {
                foreach (string group in Groups.Keys)
                {
                    foreach (int size in Sizes)
                    {
                        await UploadAsync(client, group, size);
                    }
                }

                await UploadAsync(client, null, 7777 + files.Count);
            }

            await UploadBatchAsync();
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    return (await client.Tracker.GetLeaderAsync(ct)).Port == trackerEndpoints[alive].Port;
                }
                catch (FastDfsException e) when (e.ErrorCode == Protocol.Errno.ENOENT)
                {
                    return false; // between the leader's loss and the election: no leader to name
                }
            }, TimeSpan.FromSeconds(30), $"tracker{alive} to lead", ct);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: tracker{alive} leads");
            await UploadBatchAsync();
            foreach (var (id, content) in files)
            {
                Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
            }

            await AssertHttpAsync(http, noRedirect, [trackers[alive].HttpPort], storages,
                files.Where(f => !before.Contains(f.Key)).ToDictionary(), ct);
            await WaitForTopologyAsync(client, trackerEndpoints[alive], storages, daemons, ct);
            monitor = new StringWriter();
            Assert.Equal(0, await Cli.CliApp.InvokeAsync(["monitor", "--config", clientConf], monitor, monitorError, ct));
            Assert.Contains($"tracker server is 127.0.0.1:{trackers[alive].Port}", monitor.ToString());

            // ---- the end: every acknowledged byte on every member of its group -------------------------------------------
            await AssertOnEveryMemberAsync(client, storages, files, daemons, ct);

            // The seed confs set nothing FastDFS.NET ignores (docs/configuration.md, "Stock keys not acted on").
            foreach (var daemon in daemons)
            {
                Assert.DoesNotContain("is not acted on", daemon.Log());
            }

            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: {files.Count} files on every member, tracker{alive} alone");
        }
        catch
        {
            foreach (var daemon in daemons)
            {
                output.WriteLine($"---- {daemon.Name} {daemon.State}\n{daemon.Log()}");
            }

            throw;
        }
        finally
        {
            foreach (var daemon in daemons)
            {
                await daemon.KillAsync();
                daemon.Dispose();
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp directory must not fail the test.
            }
        }
    }

    /// <summary>Polls <paramref name="tracker"/> until it lists exactly both groups, each with its two members ACTIVE.</summary>
    private static async Task WaitForTopologyAsync(FastDfsClient client, FastDfsEndpoint tracker,
        List<(string Group, string Address, int Port, int HttpPort)> storages, List<Daemon> daemons, CancellationToken ct)
    {
        var expected = storages.Select(s => $"{s.Group} {s.Address}:{s.Port} ACTIVE").Order().ToList();
        string seen = "nothing yet";
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                var listed = new List<string>();
                foreach (var group in await client.Tracker.ListGroupsOnAsync(tracker, ct))
                {
                    listed.AddRange((await client.Tracker.ListStoragesOnAsync(tracker, group.GroupName, ct: ct))
                        .Select(s => $"{group.GroupName} {s.IpAddr}:{s.StoragePort} {s.Status.ToString().ToUpperInvariant()}"));
                }

                listed.Sort(StringComparer.Ordinal);
                seen = string.Join(", ", listed);
                return listed.SequenceEqual(expected);
            }
            catch (FastDfsException e)
            {
                seen = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(40), () => $"tracker {tracker} to list [{string.Join(", ", expected)}] (last seen: {seen}; " +
            $"{string.Join(", ", daemons.Select(d => $"{d.Name} {d.State}"))})", ct);
    }

    /// <summary>
    /// Every file over HTTP: through each tracker gateway (302 to a member of the file's group, followed), and from each
    /// member's own HTTP port (a member that has no copy yet redirects to the one that has).
    /// </summary>
    private static async Task AssertHttpAsync(HttpClient http, HttpClient noRedirect, IEnumerable<int> trackerHttpPorts,
        List<(string Group, string Address, int Port, int HttpPort)> storages, IReadOnlyDictionary<FileId, byte[]> files, CancellationToken ct)
    {
        foreach (int trackerHttp in trackerHttpPorts)
        {
            foreach (var (id, content) in files)
            {
                var url = new Uri($"http://127.0.0.1:{trackerHttp}/{id}");
                using (var redirect = await noRedirect.GetAsync(url, ct))
                {
                    Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
                    var location = redirect.Headers.Location!;
                    Assert.Contains(storages, s => s.Group == id.Group && s.Address == location.Host && s.HttpPort == location.Port);
                }

                Assert.Equal(content, await http.GetByteArrayAsync(url, ct));
            }
        }

        foreach (var (id, content) in files)
        {
            foreach (var member in storages.Where(s => s.Group == id.Group))
            {
                Assert.Equal(content, await http.GetByteArrayAsync($"http://{member.Address}:{member.HttpPort}/{id}", ct));
            }
        }
    }

    /// <summary>Polls until each member of each file's group serves it directly (binary protocol); other bytes fail at once.</summary>
    private static async Task AssertOnEveryMemberAsync(FastDfsClient client, List<(string Group, string Address, int Port, int HttpPort)> storages,
        IReadOnlyDictionary<FileId, byte[]> files, List<Daemon> daemons, CancellationToken ct)
    {
        var pending = files.Keys.SelectMany(id => storages.Where(s => s.Group == id.Group).Select(s => (Storage: new StorageEndpoint(s.Address, s.Port), Id: id)))
            .ToHashSet();
        Assert.Equal(files.Count * 2, pending.Count);
        await Eventually.TrueAsync(async () =>
        {
            foreach (var (storage, id) in pending.ToList())
            {
                var copy = new MemoryStream();
                try
                {
                    await client.GetStorage(storage).DownloadAsync(id, copy, ct: ct);
                }
                catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
                {
                    continue; // not replicated yet
                }

                Assert.Equal(files[id], copy.ToArray());
                pending.Remove((storage, id));
            }

            return pending.Count == 0;
        }, TimeSpan.FromSeconds(30), () => $"every file on both members of its group; missing: " +
            $"{string.Join(", ", pending.GroupBy(p => p.Storage).Select(g => $"{g.Key}: {g.Count()}, e.g. {g.First().Id}"))}; " +
            $"{string.Join(", ", daemons.Select(d => $"{d.Name} {d.State}"))}", ct);
    }

    /// <summary>
    /// <paramref name="conf"/> with <paramref name="values"/> set (in place; a key the file leaves out goes first, in the
    /// global section) and each tracker_server value replaced through <paramref name="trackers"/>: a conf that names a
    /// tracker tracker.conf does not list fails here.
    /// </summary>
    private static string Rewrite(string conf, string name, Dictionary<string, string> trackers, Dictionary<string, string> values)
    {
        var lines = conf.Split('\n').ToList();
        for (int i = 0; i < lines.Count; i++)
        {
            var match = KeyValue().Match(lines[i]);
            if (!match.Success)
            {
                continue;
            }

            string key = match.Groups[1].Value, value = match.Groups[2].Value.Trim();
            if (key == "tracker_server")
            {
                Assert.True(trackers.TryGetValue(value, out var real), $"{name}: tracker_server = {value} is not one of tracker.conf's trackers");
                lines[i] = $"tracker_server = {real}";
            }
            else if (values.Remove(key, out var replacement))
            {
                lines[i] = $"{key} = {replacement}";
            }
        }

        lines.InsertRange(0, values.Select(v => $"{v.Key} = {v.Value}"));
        return string.Join('\n', lines);
    }

    private static List<string> Values(string conf, string key) =>
        [.. conf.Split('\n').Select(l => KeyValue().Match(l)).Where(m => m.Success && m.Groups[1].Value == key).Select(m => m.Groups[2].Value.Trim())];

    private static string NonComment(string conf) =>
        string.Join('\n', conf.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));

    [GeneratedRegex(@"^\s*([A-Za-z0-9_.]+)\s*=(.*)$")]
    private static partial Regex KeyValue();

    private static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Ports for the daemons: free on every given address, none handed out twice.</summary>
    private sealed class UsedPorts
    {
        private readonly HashSet<int> _used = [];

        public int FreeOn(params string[] addresses)
        {
            for (int attempt = 0; attempt < 100; attempt++)
            {
                int port = FreePorts.On(addresses[0]);
                if (!_used.Contains(port) && addresses.Skip(1).All(a => IsFree(a, port)))
                {
                    _used.Add(port);
                    return port;
                }
            }

            throw new InvalidOperationException($"no port free on {string.Join(", ", addresses)}");
        }

        private static bool IsFree(string address, int port)
        {
            try
            {
                using var listener = new TcpListener(IPAddress.Parse(address), port);
                listener.Start();
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }
    }

    /// <summary>One `fdfs tracker|storage conf` process, its output kept for the failure message.</summary>
    private sealed class Daemon : IDisposable
    {
        private readonly ConcurrentQueue<string> _log = new();
        private readonly Process _process;

        private Daemon(string name, Process process)
        {
            Name = name;
            _process = process;
        }

        public string Name { get; }

        public string State => _process.HasExited ? $"exited ({_process.ExitCode})" : "running";

        public static Daemon Start(string name, string role, string conf)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "fdfs.dll"), role, conf })
            {
                start.ArgumentList.Add(arg);
            }

            var daemon = new Daemon(name, Process.Start(start)!);
            // Drained so that a chatty daemon never blocks on a full pipe.
            daemon._process.OutputDataReceived += (_, e) => daemon.Keep(e.Data);
            daemon._process.ErrorDataReceived += (_, e) => daemon.Keep(e.Data);
            daemon._process.BeginOutputReadLine();
            daemon._process.BeginErrorReadLine();
            return daemon;
        }

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            _log.Enqueue(line);
            while (_log.Count > 300 && _log.TryDequeue(out _))
            {
            }
        }

        public string Log() => string.Join('\n', _log);

        /// <summary>SIGKILL: nothing written on the way out, as a host that dies.</summary>
        public async Task KillAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync(CancellationToken.None);
        }

        public void Dispose() => _process.Dispose();
    }
}
