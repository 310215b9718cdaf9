using System.Diagnostics;
using System.Globalization;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Peers;
using FastDfs.Storage.Tracking;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// Recovers a store path whose data was lost (a replaced disk), the way stock does and interoperable with it: asks the
/// trackers for our status (GET_STATUS 71) and the group's members, reports RECOVERY (REPORT_STATUS 76), fetches the
/// path's file list from an ACTIVE peer (FETCH_ONE_PATH_BINLOG 26), splits it among <c>disk_recovery_threads</c>
/// workers that download every file (DOWNLOAD_FILE 14) to a temporary name, rename it into place and give it the
/// record's time. Progress is kept in stock's <see cref="RecoveryFiles"/>, so a crash resumes. Runs before the storage
/// opens its port and joins the trackers: it becomes ONLINE, then ACTIVE, only once the path is whole.
/// </summary>
internal sealed class DiskRecovery(StorageState state, ILogger logger)
{
    private readonly Integrity.ReadThrottle _throttle = new(state.Config.DiskRecoveryRate);

    /// <summary>Records between two progress marks (a crash fetches at most these again).</summary>
    private const int MarkEvery = 1000;

    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(2);

    private TimeSpan ConnectTimeout => TimeSpan.FromSeconds(state.Config.ConnectTimeout > 0 ? state.Config.ConnectTimeout : 10);

    private TimeSpan NetworkTimeout => TimeSpan.FromSeconds(state.Config.NetworkTimeout > 0 ? state.Config.NetworkTimeout : 30);

    /// <summary>The address the trackers know us by: the last one recorded (the current one may not be learnt yet).</summary>
    private string OwnIp => state.InitFlag.LastIpAddr is { Length: > 0 } last ? last : state.SourceIp;

    /// <summary>What a recovery did, for the log and the tests.</summary>
    /// <param name="Batched">of <paramref name="Files"/>, those that came many per request (FETCH_FILES from FastDFS.NET peers)</param>
    public sealed record Result(int StorePathIndex, long Files, long Links, long Bytes, long Missing, TimeSpan Elapsed, string? Source, long Batched = 0);

    /// <summary>Recovers store path <paramref name="pathIndex"/>, whose <see cref="RecoveryFiles"/> say a recovery is due or in progress.</summary>
    /// <param name="whileServing">a spare refilled while the storage runs (it stays ACTIVE for its other paths): no RECOVERY
    /// state and no progress reports to the trackers, which keep the path's readers away through STORE_PATH_HEALTH</param>
    public async Task<Result> RecoverAsync(int pathIndex, CancellationToken ct, bool whileServing = false)
    {
        var started = Stopwatch.StartNew();
        var files = new RecoveryFiles(state.Paths[pathIndex].DataDirectory);
        var flag = files.ReadFlag() ?? new RecoveryFiles.Flag(RecoveryFiles.UnknownStatus, false, -1);
        var me = await QueryOwnStatusAsync(ct).ConfigureAwait(false);
        if (me is null || me.Value.Status is StorageStatus.Init or StorageStatus.IpChanged or StorageStatus.Deleted)
        {
            logger.LogWarning("store path {Index} lost its data, but no tracker knows this storage as a member with data ({Status}): "
                + "nothing to recover from, the path starts empty", pathIndex, me?.Status.ToMonitorName() ?? "unknown");
            files.Finish();
            return new Result(pathIndex, 0, 0, 0, 0, started.Elapsed, null);
        }

        var self = me.Value;
        var sources = await ChooseSourcesAsync(self, ct).ConfigureAwait(false);
        if (sources.Count == 0)
        {
            logger.LogWarning("store path {Index} lost its data, but group {Group} has no other member: nothing to recover from", pathIndex,
                state.GroupName);
            files.Finish();
            return new Result(pathIndex, 0, 0, 0, 0, started.Elapsed, null);
        }

        if (!whileServing)
        {
            await ReportRecoveryAsync(self, ct).ConfigureAwait(false);
        }

        string from = string.Join(", ", sources.Select(Describe));
        logger.LogInformation("recovering store path {Index} ({Path}) from {Peers}", pathIndex, state.Paths[pathIndex].Root, from);
        if (flag.FetchDone && flag.Threads > 0 && Enumerable.Range(0, flag.Threads).Any(t => !File.Exists(files.BinlogPath(t))))
        {
            // A worker's list is gone (deleted by hand, or left by stock with another thread count): fetch the list again.
            logger.LogWarning("store path {Index}: a worker's recovery list is missing; the file list is fetched again", pathIndex);
            flag = flag with { FetchDone = false };
        }

        if (!flag.FetchDone || flag.Threads <= 0)
        {
            long records = await FetchRecordsAsync(sources, self, pathIndex, files, ct).ConfigureAwait(false);
            if (records < 0)
            {
                logger.LogWarning("store path {Index} lost its data, but no member of group {Group} has a store path {Index}: nothing to "
                    + "recover from, the path starts empty", pathIndex, state.GroupName, pathIndex);
                File.Delete(files.FetchedPath);
                files.Finish();
                return new Result(pathIndex, 0, 0, 0, 0, started.Elapsed, null);
            }

            int threads = Math.Max(1, state.Config.DiskRecoveryThreads);
            Split(files, threads);
            flag = new RecoveryFiles.Flag((int)self.Status, true, threads);
            files.WriteFlag(flag);
            logger.LogInformation("store path {Index}: {Records} files to fetch with {Threads} worker(s)", pathIndex, records, threads);
        }

        // Beyond stock, which takes every file from one peer: the workers share out the ACTIVE members.
        var (total, done) = CountRecords(files, flag.Threads);
        _filesDone = done;
        _bytesDone = 0;
        _batched = 0;
        _trunkContainers = 0;
        using var progressEnd = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // While the storage serves (a spare being refilled), the file writes leave the socket threads first.
        _offSocketThreads = whileServing;
        _throttleChunk = _throttle.BytesPerSecond > 0 ? bytes => _throttle.WaitAsync(bytes, ct) : null;
        var progress = ReportProgressAsync(pathIndex, self, total, toTrackers: !whileServing, progressEnd.Token);
        (long Files, long Links, long Bytes, long Missing)[] totals;
        try
        {
            totals = await Task.WhenAll(Enumerable.Range(0, flag.Threads)
                .Select(worker => RunWorkerAsync(pathIndex, worker, files, Rotate(sources, worker), self, ct))).ConfigureAwait(false);
        }
        finally
        {
            await progressEnd.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
        }

        files.Finish();
        var result = new Result(pathIndex, totals.Sum(t => t.Files), totals.Sum(t => t.Links), totals.Sum(t => t.Bytes), totals.Sum(t => t.Missing),
            started.Elapsed, from, Interlocked.Read(ref _batched));
        logger.LogInformation("store path {Index} recovered from {Peers}: {Files} files and {Links} links, {Bytes} bytes in {Seconds:F1} s "
            + "({Missing} not recovered: no longer on any peer)", pathIndex, result.Source, result.Files, result.Links, result.Bytes,
            result.Elapsed.TotalSeconds, result.Missing);
        if (Interlocked.Read(ref _trunkContainers) > 0)
        {
            logger.LogInformation("store path {Index}: {Count} trunk containers copied whole (with the trunk-stored files in them)", pathIndex,
                Interlocked.Read(ref _trunkContainers));
        }

        return result;
    }

    private long _filesDone;
    private long _bytesDone;
    private long _batched;
    private long _trunkContainers;
    private bool _offSocketThreads;

    /// <summary>Waits out <c>disk_recovery_rate</c> for a chunk just written (null without a limit).</summary>
    private Func<int, ValueTask>? _throttleChunk;

    /// <summary>Each member's store path count, as the trackers list it (0 when unknown).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _pathCounts = new(StringComparer.Ordinal);

    /// <summary>The records of all workers, and those before their marks (done by an earlier run).</summary>
    private static (long Total, long Done) CountRecords(RecoveryFiles files, int threads)
    {
        long total = 0, done = 0;
        for (int t = 0; t < threads; t++)
        {
            long mark = files.ReadMark(t), offset = 0;
            foreach (string line in File.ReadLines(files.BinlogPath(t)))
            {
                total++;
                if (offset < mark)
                {
                    done++;
                }

                offset += line.Length + 1;
            }
        }

        return (total, done);
    }

    /// <summary>
    /// Every two seconds, how far the recovery has come, to every tracker (RECOVERY_PROGRESS: `fdfs monitor`, the dashboard
    /// and the metrics show it) and every ten seconds to the log. Stock trackers refuse it and are not asked again.
    /// </summary>
    private async Task ReportProgressAsync(int pathIndex, StorageBrief self, long total, bool toTrackers, CancellationToken ct)
    {
        var started = state.Clock.GetTimestamp();
        var unsupported = new HashSet<TrackerAddress>();
        var failures = new Dictionary<TrackerAddress, int>();
        long lastLogged = 0;
        try
        {
            while (true)
            {
                var elapsed = state.Clock.GetElapsedTime(started);
                var progress = new RecoveryProgress(pathIndex, Interlocked.Read(ref _filesDone), total, Interlocked.Read(ref _bytesDone),
                    (long)elapsed.TotalMilliseconds);
                if (elapsed.TotalSeconds - lastLogged >= 10)
                {
                    lastLogged = (long)elapsed.TotalSeconds;
                    logger.LogInformation("disk recovery {Progress}", progress.Describe());
                }

                var body = new RecoveryProgressReport(state.GroupName, self.Id, progress).ToArray();
                foreach (var tracker in state.Config.TrackerServers.Where(t => toTrackers && !unsupported.Contains(t)))
                {
                    try
                    {
                        await using var connection = await TrackerConnection.ConnectAsync(tracker.Hosts, tracker.Port, ConnectTimeout, NetworkTimeout, ct,
                            state.ClientBindAddress, state.PeerKey).ConfigureAwait(false);
                        var (status, _) = await connection.RequestAsync(RecoveryProgressReport.Command, body, ct).ConfigureAwait(false);
                        if (status == Errno.EINVAL)
                        {
                            unsupported.Add(tracker);
                        }

                        failures.Remove(tracker);
                    }
                    catch (IOException e)
                    {
                        // A tracker that drops the connection on it three times in a row is not asked again (nor flooded).
                        logger.LogDebug("RECOVERY_PROGRESS to {Tracker}: {Message}", tracker, e.Message);
                        if ((failures[tracker] = failures.GetValueOrDefault(tracker) + 1) >= 3)
                        {
                            unsupported.Add(tracker);
                        }
                    }
                }

                await Task.Delay(TimeSpan.FromSeconds(2), state.Clock, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The recovery ended (or the storage stops).
        }
    }

    /// <summary><paramref name="sources"/> starting at the worker's own (each worker asks its own peer first).</summary>
    private static List<StorageBrief> Rotate(IReadOnlyList<StorageBrief> sources, int worker) =>
        [.. sources.Skip(worker % sources.Count), .. sources.Take(worker % sources.Count)];

    private static string Describe(StorageBrief peer) => $"{peer.Id} ({peer.IpAddr}:{peer.Port})";

    /// <summary>Our record on the trackers (GET_STATUS), asked until one answers; null when every tracker says it does not know us.</summary>
    private async Task<StorageBrief?> QueryOwnStatusAsync(CancellationToken ct)
    {
        var body = new StorageStatusQuery(state.GroupName, OwnIp, state.Port).ToArray();
        while (true)
        {
            bool anyUnknown = false, anyUnreachable = false;
            StorageBrief? best = null;
            foreach (var tracker in state.Config.TrackerServers)
            {
                try
                {
                    await using var connection = await TrackerConnection.ConnectAsync(tracker.Hosts, tracker.Port, ConnectTimeout, NetworkTimeout, ct,
                        state.ClientBindAddress, state.PeerKey).ConfigureAwait(false);
                    var (status, reply) = await connection.RequestAsync(StorageStatusQuery.Command, body, ct).ConfigureAwait(false);
                    if (status == Errno.ENOENT)
                    {
                        anyUnknown = true;
                    }
                    else if (status == Errno.Ok && reply.Length == StorageBrief.Size)
                    {
                        var brief = StorageBrief.Parse(reply);
                        if (best is null || brief.Status > best.Value.Status)
                        {
                            best = brief;
                        }
                    }
                }
                catch (IOException e)
                {
                    anyUnreachable = true;
                    logger.LogDebug("GET_STATUS from tracker {Tracker}: {Message}", tracker, e.Message);
                }
            }

            // Unlike stock, one tracker that is down does not stop the recovery while another answers.
            if (best is not null)
            {
                return best;
            }

            // "Not known here" counts only when every tracker said so: one that is down may be the one that knows us.
            if (anyUnknown && !anyUnreachable)
            {
                return null;
            }

            logger.LogWarning("disk recovery: no tracker answered GET_STATUS; trying again");
            await Task.Delay(RetryPause, state.Clock, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The ACTIVE members of the group other than us, asked until there is one; empty when we are alone in the group.</summary>
    private async Task<List<StorageBrief>> ChooseSourcesAsync(StorageBrief self, CancellationToken ct)
    {
        while (true)
        {
            var members = await ListMembersAsync(ct).ConfigureAwait(false);
            if (members is not null)
            {
                var others = members.Where(m => !IsSelf(m, self)).ToList();
                if (others.Count == 0)
                {
                    return [];
                }

                var active = others.Where(m => m.Status == StorageStatus.Active && m.IpAddr.Length > 0).ToList();
                if (active.Count > 0)
                {
                    return active;
                }

                logger.LogWarning("disk recovery: no ACTIVE member of group {Group} to recover from yet; waiting", state.GroupName);
            }

            await Task.Delay(RetryPause, state.Clock, ct).ConfigureAwait(false);
        }
    }

    private bool IsSelf(StorageBrief member, StorageBrief self) =>
        member.Id == self.Id || (member.IpAddr == OwnIp && member.Port == state.Port);

    private async Task<List<StorageBrief>?> ListMembersAsync(CancellationToken ct)
    {
        if (await GroupMembers.ListAsync(state.Config, ConnectTimeout, NetworkTimeout, logger, ct).ConfigureAwait(false) is not { } stats)
        {
            return null;
        }

        foreach (var stat in stats)
        {
            _pathCounts[stat.Id] = stat.StorePathCount;
        }

        return [.. stats.Select(s => new StorageBrief(s.Status, (int)s.StoragePort, s.Id, s.IpAddr))];
    }

    /// <summary>REPORT_STATUS RECOVERY to every tracker (port 0, as stock): none sends a reader or a writer here meanwhile.</summary>
    private async Task ReportRecoveryAsync(StorageBrief self, CancellationToken ct)
    {
        try
        {
            await new Sync.TrackerNotifier(state, logger).ReportStatusAsync(self with { Port = 0 }, StorageStatus.Recovery, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            logger.LogWarning("REPORT_STATUS RECOVERY: {Message}", e.Message);
        }
    }

    /// <summary>The path's file list from the first of <paramref name="sources"/> that answers, into the fetched-records file; returns
    /// how many lines, or -1 when every member refuses (none has that store path).</summary>
    private async Task<long> FetchRecordsAsync(List<StorageBrief> sources, StorageBrief self, int pathIndex, RecoveryFiles files, CancellationToken ct)
    {
        var request = new FetchPathBinlogRequest(state.GroupName, pathIndex).ToArray();
        while (true)
        {
            int refused = 0;
            foreach (var source in sources)
            {
                try
                {
                    await using var channel = await PeerChannel.ConnectAsync(source.IpAddr, source.Port,
                        new PeerChannelOptions(ConnectTimeout, NetworkTimeout, state.ClientBindAddress, state.PeerKey), "storage", ct).ConfigureAwait(false);
                    await using (var output = new FileStream(files.FetchedPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024))
                    {
                        // The peer builds the whole list before it answers: as stock, up to ten minutes for that.
                        var (status, _) = await channel.RequestToStreamAsync(FetchPathBinlogRequest.Command, request, output,
                            FetchPathBinlogRequest.StreamedReplyLength, ct, headerTimeout: TimeSpan.FromMinutes(10)).ConfigureAwait(false);
                        if (status == Errno.EINVAL)
                        {
                            if (_pathCounts.TryGetValue(source.Id, out long count) && count > 0 && count <= pathIndex)
                            {
                                refused++; // it has no such store path (fewer paths than us)
                            }
                            else
                            {
                                logger.LogWarning("disk recovery: {Peer} has store path {Index} but refuses FETCH_ONE_PATH_BINLOG (a FastDFS.NET "
                                    + "older than this feature?): upgrade it, or recover from another member", Describe(source), pathIndex);
                            }
                        }

                        if (status != Errno.Ok)
                        {
                            throw new IOException($"{Describe(source)} answered FETCH_ONE_PATH_BINLOG with {Errno.Describe(status)}");
                        }

                        output.Flush(flushToDisk: true);
                    }

                    return File.ReadLines(files.FetchedPath).LongCount(line => line.Length > 0);
                }
                catch (IOException e)
                {
                    logger.LogWarning("disk recovery: fetching the file list of store path {Index} from {Peer} failed: {Message}",
                        pathIndex, Describe(source), e.Message);
                }
            }

            if (refused == sources.Count)
            {
                return -1;
            }

            await Task.Delay(RetryPause, state.Clock, ct).ConfigureAwait(false);
            if (await ChooseSourcesAsync(self, ct).ConfigureAwait(false) is { Count: > 0 } now)
            {
                sources = now;
            }
        }
    }

    /// <summary>
    /// <c>Mxx/HH/LL/NNNNNN</c>, the trunk container of a trunk-stored file's name (its directories and its trunk id), or null
    /// for any other name.
    /// </summary>
    internal static string? TrunkContainerOf(string fileName) =>
        fileName.Length == ProtocolConstants.TrunkLogicFilenameLength && FileNameCodec.TryDecode(fileName, out var info) && info.Trunk is { } trunk
            ? string.Concat(fileName.AsSpan(0, ProtocolConstants.LogicFilePathLen), trunk.TrunkId.ToString("D6", CultureInfo.InvariantCulture))
            : null;

    /// <summary>Deals the fetched records to <paramref name="threads"/> worker files by a hash of the name (stock's Time33), marks at 0.</summary>
    private static void Split(RecoveryFiles files, int threads)
    {
        var writers = new StreamWriter[threads];
        try
        {
            for (int t = 0; t < threads; t++)
            {
                writers[t] = new StreamWriter(files.BinlogPath(t) + ".tmp", append: false) { NewLine = "\n" };
            }

            foreach (string line in File.ReadLines(files.FetchedPath))
            {
                if (RecoveryRecord.TryParse(line, out var record))
                {
                    // The files of one trunk container go to one worker, which copies the container once.
                    string key = TrunkContainerOf(record.FileName) ?? record.FileName;
                    writers[(int)(Time33(key) % (uint)threads)].Write(line + "\n");
                }
            }
        }
        finally
        {
            foreach (var writer in writers)
            {
                writer?.Dispose();
            }
        }

        // The worker lists must be on disk before the flag says the fetch is done (a power cut would leave empty lists).
        Store.DurableFiles.SyncFileSystemOf(files.DataDirectory);
        for (int t = 0; t < threads; t++)
        {
            File.Move(files.BinlogPath(t) + ".tmp", files.BinlogPath(t), overwrite: true);
            files.WriteMark(t, 0);
        }

        File.Delete(files.FetchedPath);
    }

    private static uint Time33(string text)
    {
        uint hash = 0;
        foreach (char c in text)
        {
            hash = unchecked((hash << 5) + hash + c);
        }

        return hash;
    }

    private FastDfsClient NewClient() => new(new FastDfsClientOptions
    {
        Trackers = state.Config.TrackerServers.Select(t => new FastDfsEndpoint(t.Host, t.Port)).ToList(),
        ConnectTimeout = ConnectTimeout,
        NetworkTimeout = NetworkTimeout,
    });

    /// <summary>Files per FETCH_FILES request: enough to make small files cheap, few enough that a retry costs little.</summary>
    private const int BatchFiles = 64;

    /// <summary>Peers that answered FETCH_FILES with EINVAL (stock storages): asked file by file.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _noBatch = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _batchWorked = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _batchFailures = new(StringComparer.Ordinal);

    /// <summary>What one worker placed.</summary>
    private sealed class WorkerTotals
    {
        public long Files, Links, Bytes, Missing;

        /// <summary>The trunk containers this worker copied in this run (each holds many files' records).</summary>
        public readonly HashSet<string> Containers = new(StringComparer.Ordinal);

        /// <summary>Files no member had when asked: asked again at the end (a peer may have been down or behind).</summary>
        public readonly List<RecoveryRecord> Deferred = [];
    }

    /// <summary>Rounds in which the deferred files are asked again before they count as gone.</summary>
    private const int DeferredRounds = 3;

    /// <summary>Fetches the records of worker <paramref name="worker"/> from its mark on, many files per request from a FastDFS.NET
    /// peer (FETCH_FILES), file by file from a stock one, each from the first of <paramref name="sources"/> that has it.</summary>
    private async Task<(long Files, long Links, long Bytes, long Missing)> RunWorkerAsync(int pathIndex, int worker, RecoveryFiles files,
        List<StorageBrief> sources, StorageBrief self, CancellationToken ct)
    {
        long offset = files.ReadMark(worker);
        long sinceMark = 0;
        var totals = new WorkerTotals();
        await using var client = NewClient();
        var buffer = new byte[256 * 1024];
        using var reader = new StreamReader(new FileStream(files.BinlogPath(worker), FileMode.Open, FileAccess.Read, FileShare.Read));
        reader.BaseStream.Seek(offset, SeekOrigin.Begin);
        var batch = new List<RecoveryRecord>(BatchFiles);
        long batchEnd = offset;
        bool more = true;
        int failures = 0;
        while (more)
        {
            string? line = await reader.ReadLineAsync(ct).ConfigureAwait(false);
            more = line is not null;
            if (line is not null)
            {
                batchEnd += line.Length + 1;
                if (RecoveryRecord.TryParse(line, out var record))
                {
                    batch.Add(record);
                }

                if (batch.Count < BatchFiles)
                {
                    continue;
                }
            }

            while (true)
            {
                try
                {
                    await PlaceBatchAsync(client, sources, batch, buffer, totals, ct).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (e is FastDfsException or IOException && !ct.IsCancellationRequested)
                {
                    Store.DurableFiles.SyncFileSystemOf(files.DataDirectory);
                    files.WriteMark(worker, offset);
                    logger.LogWarning("disk recovery of store path {Index}: fetching {Count} files failed: {Message}; trying again",
                        pathIndex, batch.Count, e.Message);
                    await Task.Delay(RetryPause, state.Clock, ct).ConfigureAwait(false);
                    // The members that are ACTIVE now (stock keeps trying the same one), another one first each time.
                    if (await ChooseSourcesAsync(self, ct).ConfigureAwait(false) is { Count: > 0 } now)
                    {
                        sources = Rotate(now, worker + ++failures);
                    }
                }
            }

            Interlocked.Add(ref _filesDone, batch.Count);
            sinceMark += batch.Count;
            batch.Clear();
            offset = batchEnd;
            if (sinceMark >= MarkEvery)
            {
                // The files are written without fsync (as stock): one syncfs makes them durable before the mark says so.
                Store.DurableFiles.SyncFileSystemOf(files.DataDirectory);
                files.WriteMark(worker, offset);
                sinceMark = 0;
            }
        }

        await RetryDeferredAsync(client, self, worker, totals, ct).ConfigureAwait(false);
        Store.DurableFiles.SyncFileSystemOf(files.DataDirectory);
        files.WriteMark(worker, offset);
        return (totals.Files, totals.Links, totals.Bytes, totals.Missing);
    }

    /// <summary>Places one batch: its links, then its files in one FETCH_FILES from the first source (file by file from a stock
    /// peer), and what that source lacked from the others.</summary>
    private async Task PlaceBatchAsync(FastDfsClient client, List<StorageBrief> sources, List<RecoveryRecord> batch, byte[] buffer,
        WorkerTotals totals, CancellationToken ct)
    {
        var wanted = new List<RecoveryRecord>(batch.Count);
        var containers = new List<string>();
        foreach (var record in batch)
        {
            if (record.LinkTarget is { } target)
            {
                totals.Links += PlaceLink(record.FileName, target) ? 1 : 0;
            }
            else if (TrunkContainerOf(record.FileName) is { } container)
            {
                // A file inside a trunk container: the container is copied whole (as stock does), once per worker and run.
                if (!totals.Containers.Contains(container) && !containers.Contains(container))
                {
                    containers.Add(container);
                    wanted.Add(record with { FileName = container });
                }
            }
            else if (StoredFilePath.TryParse(record.FileName, state.Paths.Count, out _))
            {
                wanted.Add(record);
            }
            else
            {
                logger.LogWarning("disk recovery: skipping the invalid name {Name}", record.FileName);
                totals.Missing++;
            }
        }

        if (wanted.Count == 0)
        {
            return;
        }

        var first = sources[0];
        string key = Describe(first);
        List<RecoveryRecord> lacking;
        if (_noBatch.ContainsKey(key))
        {
            lacking = wanted;
        }
        else
        {
            try
            {
                lacking = await FetchBatchAsync(first, wanted, buffer, totals, ct).ConfigureAwait(false);
                _batchWorked[key] = true;
            }
            catch (IOException e) when (!_batchWorked.ContainsKey(key) && _batchFailures.AddOrUpdate(key, 1, (_, n) => n + 1) >= 2)
            {
                // A peer that drops the connection on FETCH_FILES without ever having answered one: asked file by file.
                logger.LogInformation("{Peer} does not answer FETCH_FILES ({Message}): fetching from it file by file", key, e.Message);
                _noBatch[key] = true;
                lacking = wanted;
            }
        }

        foreach (var record in lacking)
        {
            if (await FetchFileAsync(client, sources, record, ct).ConfigureAwait(false) is { } size)
            {
                totals.Files++;
                totals.Bytes += size;
                Interlocked.Add(ref _bytesDone, size);
                await _throttle.WaitAsync((int)Math.Min(size, int.MaxValue), ct).ConfigureAwait(false);
            }
            else
            {
                totals.Deferred.Add(record);
            }
        }

        // Only now: a batch that failed half-way is fetched again whole, its containers with it.
        totals.Containers.UnionWith(containers);
        Interlocked.Add(ref _trunkContainers, containers.Count);
    }

    /// <summary>
    /// The files no member had when first asked, asked again a few times with the members ACTIVE then (the peer that listed
    /// them may have been restarting, another one behind); what still is nowhere counts as deleted since the list was made.
    /// </summary>
    private async Task RetryDeferredAsync(FastDfsClient client, StorageBrief self, int worker, WorkerTotals totals, CancellationToken ct)
    {
        for (int round = 0; round < DeferredRounds && totals.Deferred.Count > 0; round++)
        {
            await Task.Delay(RetryPause, state.Clock, ct).ConfigureAwait(false);
            var sources = Rotate(await ChooseSourcesAsync(self, ct).ConfigureAwait(false) is { Count: > 0 } now ? now : [self], worker);
            var still = new List<RecoveryRecord>();
            foreach (var record in totals.Deferred)
            {
                try
                {
                    if (await FetchFileAsync(client, sources, record, ct).ConfigureAwait(false) is { } size)
                    {
                        totals.Files++;
                        totals.Bytes += size;
                        Interlocked.Add(ref _bytesDone, size);
                        continue;
                    }
                }
                catch (Exception e) when (e is FastDfsException or IOException && !ct.IsCancellationRequested)
                {
                    logger.LogDebug("disk recovery: {Name} asked again: {Message}", record.FileName, e.Message);
                }

                still.Add(record);
            }

            totals.Deferred.Clear();
            totals.Deferred.AddRange(still);
        }

        if (totals.Deferred.Count > 0)
        {
            logger.LogWarning("disk recovery: {Count} files are on no member any more (deleted since the list was made?), e.g. {Names}",
                totals.Deferred.Count, string.Join(", ", totals.Deferred.Take(5).Select(r => r.FileName)));
            totals.Missing += totals.Deferred.Count;
            totals.Deferred.Clear();
        }
    }

    /// <summary>FETCH_FILES of <paramref name="records"/> from <paramref name="source"/>; returns the records it did not place (the
    /// source lacks them, or it is a stock storage and everything is asked file by file).</summary>
    private async Task<List<RecoveryRecord>> FetchBatchAsync(StorageBrief source, List<RecoveryRecord> records, byte[] buffer, WorkerTotals totals,
        CancellationToken ct)
    {
        var lacking = new List<RecoveryRecord>();
        var request = new FetchFilesRequest(state.GroupName, [.. records.Select(r => r.FileName)]).ToArray();
        await using var channel = await PeerChannel.ConnectAsync(source.IpAddr, source.Port,
            new PeerChannelOptions(ConnectTimeout, NetworkTimeout, state.ClientBindAddress, state.PeerKey), "storage", ct).ConfigureAwait(false);
        var entry = new byte[FetchFilesRequest.EntryHeaderSize];
        byte status = await channel.RequestWithReplyReaderAsync(FetchFilesRequest.Command, request, async reply =>
        {
            foreach (var record in records)
            {
                await reply.ReadExactlyAsync(entry).ConfigureAwait(false);
                long size = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(entry.AsSpan(1));
                if (entry[0] != Errno.Ok || size < 0)
                {
                    if (size > 0)
                    {
                        await reply.CopyToAsync(Stream.Null, size, buffer).ConfigureAwait(false);
                    }

                    lacking.Add(record);
                    continue;
                }

                // The rate limit is kept per chunk while the reply is read, so a large file never idles the connection past network_timeout.
                await PlaceAsync(record, file => reply.CopyToFileAsync(file, size, buffer, _offSocketThreads, _throttleChunk)).ConfigureAwait(false);

                totals.Files++;
                totals.Bytes += size;
                Interlocked.Add(ref _bytesDone, size);
                Interlocked.Increment(ref _batched);
            }
        }, ct).ConfigureAwait(false);
        if (status == Errno.EINVAL)
        {
            // A stock storage: it does not know FETCH_FILES (and closed the connection); asked file by file from now on.
            _noBatch[Describe(source)] = true;
            return records;
        }

        if (status != Errno.Ok)
        {
            throw new IOException($"{Describe(source)} answered FETCH_FILES with {Errno.Describe(status)}");
        }

        return lacking;
    }

    /// <summary>
    /// Downloads one file from the first of <paramref name="sources"/> that has it and places it; null when none has it
    /// (deleted since the list was made).
    /// </summary>
    private async Task<long?> FetchFileAsync(FastDfsClient client, List<StorageBrief> sources, RecoveryRecord record, CancellationToken ct)
    {
        foreach (var source in sources)
        {
            try
            {
                return await PlaceAsync(record, async file =>
                {
                    // Unbuffered and not disposed: the handle stays open for its time, and is closed by its owner.
                    var stream = new FileStream(file, FileAccess.Write, bufferSize: 0);
                    GC.SuppressFinalize(stream);
                    await client.GetStorage(new StorageEndpoint(source.IpAddr, source.Port))
                        .DownloadAsync(new FileId(state.GroupName, record.FileName), stream, ct: ct).ConfigureAwait(false);
                    return stream.Position;
                }).ConfigureAwait(false);
            }
            catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
            {
                // This peer lacks it (deleted, or not replicated there yet): ask the next one.
            }
        }

        return null;
    }

    /// <summary>
    /// Writes a recovered file under a temporary name beside its place (through <paramref name="write"/>), gives it the record's
    /// time and renames it into place; returns its size. A failed write leaves nothing behind.
    /// </summary>
    /// <remarks>
    /// Per file: one open, the writes straight from the caller's buffer (no stream buffer, no thread hop for the file),
    /// futimens on the open file, close, rename. Small-file recovery is bound by these calls on the recovering side. The
    /// temporary name stays even before the storage serves: an abandoned or re-listed recovery must not leave a half file.
    /// </remarks>
    private async Task<long> PlaceAsync(RecoveryRecord record, Func<Microsoft.Win32.SafeHandles.SafeFileHandle, Task<long>> write)
    {
        StoredFilePath.TryParse(record.FileName, state.Paths.Count, out var stored);
        string final = state.Paths.FullPath(stored);
        string temp = final + ".recovery.tmp";
        try
        {
            if (_offSocketThreads)
            {
                // The reply was read on a socket thread (inline completions): a disk write there would stall client connections.
                await Task.Yield();
            }

            long size;
            using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                size = await write(handle).ConfigureAwait(false);
                File.SetLastWriteTimeUtc(handle, DateTime.UnixEpoch.AddSeconds(record.Timestamp));
            }

            File.Move(temp, final, overwrite: true);
            return size;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Recreates a symbolic link (a slave's link to its master); false when it is there already.</summary>
    private bool PlaceLink(string name, string target)
    {
        if (!StoredFilePath.TryParse(name, state.Paths.Count, out var stored) || !StoredFilePath.TryParse(target, state.Paths.Count, out var targetPath))
        {
            logger.LogWarning("disk recovery: skipping the link {Name} -> {Target}", name, target);
            return false;
        }

        string linkPath = state.Paths.FullPath(stored);
        if (new FileInfo(linkPath).LinkTarget is not null || File.Exists(linkPath))
        {
            return false;
        }

        File.CreateSymbolicLink(linkPath, state.Paths.FullPath(targetPath));
        return true;
    }
}

/// <summary>One line of a recovery binlog: <c>ts op name[ target]</c> (C/c a file, L/l a link to <c>target</c>).</summary>
internal readonly record struct RecoveryRecord(long Timestamp, char Op, string FileName, string? LinkTarget)
{
    public static bool TryParse(string line, out RecoveryRecord record)
    {
        record = default;
        var parts = line.Split(' ');
        if (parts.Length < 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long timestamp) ||
            parts[1].Length != 1 || parts[2].Length == 0)
        {
            return false;
        }

        char op = parts[1][0];
        switch (op)
        {
            case 'C' or 'c' when parts.Length == 3:
                record = new RecoveryRecord(timestamp, op, parts[2], null);
                return true;
            case 'L' or 'l' when parts.Length == 4:
                record = new RecoveryRecord(timestamp, op, parts[2], parts[3]);
                return true;
            default:
                return false;
        }
    }
}
