using System.Collections.Concurrent;
using System.Diagnostics;
using FastDfs.Client;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Bench;

/// <summary>Live figures of a run, readable from another thread while it goes (for a progress display).</summary>
public sealed class BenchProgress
{
    internal long OpsCount;
    internal long ErrorCount;
    internal long ByteCount;
    internal long StartTimestamp;

    /// <summary><c>preparing</c> while a working set is uploaded, <c>running</c> while measuring, then <c>done</c>.</summary>
    public string Phase { get; internal set; } = "starting";

    /// <summary>Files uploaded so far while preparing.</summary>
    public long Prepared { get; internal set; }

    public long Ops => Interlocked.Read(ref OpsCount);

    public long Errors => Interlocked.Read(ref ErrorCount);

    public long Bytes => Interlocked.Read(ref ByteCount);

    public TimeSpan Elapsed => StartTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(StartTimestamp);
}

/// <summary>
/// Drives a FastDFS-protocol cluster through a <see cref="FastDfsClient"/> (any tracker: ours or stock):
/// N workers, each with its own pooled tracker and storage connection, run uploads and/or downloads
/// until the count or the duration is reached. Every upload is checked against the size and CRC-32 in
/// the returned name, every downloaded byte against the known content (or the name's CRC-32).
/// </summary>
public sealed class BenchRunner(FastDfsClient client, BenchOptions options)
{
    private readonly FastDfsClient _client = client;
    private readonly BenchOptions _options = options;
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FileId> _uploaded = new();
    private (FileId Id, long Key)[] _workingSet = [];
    private long _issued;
    private long _deadline;
    private long _verifiedBytes;

    public BenchProgress Progress { get; } = new();

    /// <summary>File IDs uploaded by the measured phase (for reuse with <c>--file-ids</c>), when <see cref="KeepUploadedIds"/> is set.</summary>
    public IReadOnlyCollection<FileId> UploadedIds => _uploaded;

    public bool KeepUploadedIds { get; init; }

    public async Task<BenchResult> RunAsync(CancellationToken ct)
    {
        _options.Validate();
        if (_options.Workload != BenchWorkload.Upload)
        {
            await PrepareWorkingSetAsync(ct).ConfigureAwait(false);
        }

        var workers = new Worker[_options.Concurrency];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(this);
        }

        var pids = _options.ServerPids;
        long[] cpuBefore = pids.Select(p => ServerProcessProbe.CpuMicros(p) ?? 0).ToArray();
        var clientCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var sampling = new CancellationTokenSource();
        var rssSampler = pids.Count > 0 ? Task.Run(() => SamplePeakRssAsync(pids, sampling.Token), CancellationToken.None) : Task.FromResult(0L);

        Progress.Phase = "running";
        long start = Stopwatch.GetTimestamp();
        _deadline = _options.Duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        Progress.StartTimestamp = start;
        await Task.WhenAll(workers.Select(w => StartWorker(() => w.RunAsync(ct)))).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Progress.Phase = "done";

        long[] cpuAfter = pids.Select(p => ServerProcessProbe.CpuMicros(p) ?? 0).ToArray();
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuBefore;
        await sampling.CancelAsync().ConfigureAwait(false);
        long peakRss = await rssSampler.ConfigureAwait(false);

        var all = new LatencyHistogram();
        var uploads = new LatencyHistogram();
        var downloads = new LatencyHistogram();
        long bytes = 0;
        foreach (var w in workers)
        {
            uploads.Add(w.Uploads);
            downloads.Add(w.Downloads);
            bytes += w.Bytes;
        }

        all.Add(uploads);
        all.Add(downloads);
        long ops = all.Count;
        ServerUsage? server = null;
        if (pids.Count > 0)
        {
            long cpu = cpuAfter.Zip(cpuBefore, (a, b) => a - b).Sum();
            long endRss = pids.Sum(p => ServerProcessProbe.RssBytes(p) ?? 0);
            server = new ServerUsage(pids, cpu, ops > 0 ? cpu / (double)ops : 0, Math.Max(peakRss, endRss), endRss)
            {
                CpuMicrosPerOpByPid = [.. cpuAfter.Zip(cpuBefore, (a, b) => ops > 0 ? (a - b) / (double)ops : 0)],
            };
        }

        return new BenchResult
        {
            Options = _options,
            Ops = ops,
            Uploads = uploads.Count,
            Downloads = downloads.Count,
            Errors = _errors.Values.Sum(),
            ErrorsByKind = new Dictionary<string, long>(_errors, StringComparer.Ordinal),
            Seconds = seconds,
            Bytes = bytes,
            VerifiedBytes = Interlocked.Read(ref _verifiedBytes),
            Latency = LatencySummary.From(all),
            UploadLatency = LatencySummary.From(uploads),
            DownloadLatency = LatencySummary.From(downloads),
            ClientCpuMicrosPerOp = ops > 0 ? clientCpu.TotalMicroseconds / ops : 0,
            Server = server,
        };
    }

    /// <summary>
    /// Deletes every file this run uploaded: the working set it prepared (not given <c>--file-ids</c>) and, with
    /// <see cref="KeepUploadedIds"/>, the uploads it measured; with all workers, not measured. Returns how many went and
    /// how many could not be deleted (missing ones count as gone).
    /// </summary>
    public async Task<(long Deleted, long Failed)> DeleteUploadedAsync(CancellationToken ct)
    {
        var ids = _workingSet.Where(f => f.Key >= 0).Select(f => f.Id).Concat(_uploaded).ToArray();
        int next = -1;
        long deleted = 0, failed = 0;
        async Task DeleteSomeAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ids.Length)
            {
                try
                {
                    await _client.DeleteAsync(ids[i], ct).ConfigureAwait(false);
                    Interlocked.Increment(ref deleted);
                }
                catch (FastDfsException e) when (e.ErrorCode == Protocol.Errno.ENOENT)
                {
                    Interlocked.Increment(ref deleted);
                }
                catch (Exception e) when (e is FastDfsException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    Interlocked.Increment(ref failed); // this file; the others still
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(_options.Concurrency, Math.Max(1, ids.Length))).Select(_ => StartWorker(DeleteSomeAsync)))
            .ConfigureAwait(false);
        return (deleted, failed);
    }

    /// <summary>Takes the given file IDs, or uploads the working set with all workers (not measured).</summary>
    private async Task PrepareWorkingSetAsync(CancellationToken ct)
    {
        if (_options.FileIds is { } ids)
        {
            _workingSet = ids.Select(id => (id, -1L)).ToArray();
            return;
        }

        Progress.Phase = "preparing";
        int count = _options.EffectiveWorkingSet;
        var set = new (FileId, long)[count];
        int next = -1;
        long prepared = 0;
        async Task UploadSomeAsync()
        {
            var content = new PatternStream();
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                long key = _options.FirstKey + i;
                long size = BenchContent.SizeOf(key, _options.MinSize, _options.MaxSize);
                content.Reset(key, size);
                var id = await _client.UploadAsync(content, size, _options.Ext, group: _options.Group, ct: ct).ConfigureAwait(false);
                set[i] = (id, key);
                Progress.Prepared = Interlocked.Increment(ref prepared);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(_options.Concurrency, count)).Select(_ => StartWorker(UploadSomeAsync))).ConfigureAwait(false);
        _workingSet = set;
    }

    /// <summary>
    /// With blocking sockets a worker gets a thread of its own (its awaits complete synchronously, so it
    /// never leaves that thread); otherwise it runs on the thread pool.
    /// </summary>
    private Task StartWorker(Func<Task> work) => _options.BlockingSockets
        ? Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()
        : Task.Run(work, CancellationToken.None);

    private static async Task<long> SamplePeakRssAsync(IReadOnlyList<int> pids, CancellationToken ct)
    {
        long peak = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                peak = Math.Max(peak, pids.Sum(p => ServerProcessProbe.RssBytes(p) ?? 0));
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Sampling ends with the run.
        }

        return peak;
    }

    private void CountError(string kind)
    {
        _errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref Progress.ErrorCount);
    }

    /// <summary>One worker: its own content generator, verifier and histograms (no sharing on the hot path).</summary>
    private sealed class Worker(BenchRunner run)
    {
        private readonly PatternStream _content = new();
        private readonly VerifyingStream _sink = new();

        public LatencyHistogram Uploads { get; } = new();

        public LatencyHistogram Downloads { get; } = new();

        public long Bytes { get; private set; }

        public async Task RunAsync(CancellationToken ct)
        {
            var o = run._options;
            long limit = o.EffectiveCount;
            while (!ct.IsCancellationRequested)
            {
                long op = Interlocked.Increment(ref run._issued) - 1;
                if (op >= limit || Stopwatch.GetTimestamp() >= run._deadline)
                {
                    return;
                }

                ulong mixed = BenchContent.Mix((ulong)op ^ 0x5DEECE66DUL);
                bool download = o.Workload switch
                {
                    BenchWorkload.Download => true,
                    BenchWorkload.Upload => false,
                    _ => (int)(mixed % 100) < o.ReadPercent,
                };
                long started = Stopwatch.GetTimestamp();
                try
                {
                    long moved = download
                        ? await DownloadAsync(run._workingSet[(int)((mixed >> 8) % (ulong)run._workingSet.Length)], ct).ConfigureAwait(false)
                        : await UploadAsync(o.FirstKey + o.EffectiveWorkingSet + op, ct).ConfigureAwait(false);
                    long micros = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                    (download ? Downloads : Uploads).Record(micros);
                    Bytes += moved;
                    Interlocked.Increment(ref run.Progress.OpsCount);
                    Interlocked.Add(ref run.Progress.ByteCount, moved);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (VerificationException)
                {
                    run.CountError("verify");
                }
                catch (FastDfsException e)
                {
                    run.CountError(e.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    run.CountError("other");
                }
            }
        }

        private async Task<long> UploadAsync(long key, CancellationToken ct)
        {
            var o = run._options;
            long size = BenchContent.SizeOf(key, o.MinSize, o.MaxSize);
            _content.Reset(key, size);
            var id = await run._client.UploadAsync(_content, size, o.Ext, group: o.Group, ct: ct).ConfigureAwait(false);
            if (run.KeepUploadedIds)
            {
                run._uploaded.Enqueue(id); // before the check: a file that fails it is the run's to delete too
            }

            var name = FastDfsClient.DecodeName(id);
            if (name.FileSize != size || name.Crc32 != _content.Crc32)
            {
                throw new VerificationException();
            }

            return size;
        }

        private async Task<long> DownloadAsync((FileId Id, long Key) file, CancellationToken ct)
        {
            _sink.Reset(file.Key);
            long length = await run._client.DownloadAsync(file.Id, _sink, ct: ct).ConfigureAwait(false);
            bool ok = length == _sink.Written && !_sink.Mismatch;
            if (file.Key >= 0)
            {
                ok &= length == BenchContent.SizeOf(file.Key, run._options.MinSize, run._options.MaxSize);
            }
            else if (FileNameCodec.TryDecode(file.Id.LogicName, out var name) && !name.IsAppender && !name.IsTrunk && !name.IsSlave)
            {
                ok &= name.FileSize == length && name.Crc32 == _sink.Crc32;
            }

            if (!ok)
            {
                throw new VerificationException();
            }

            Interlocked.Add(ref run._verifiedBytes, length);
            return length;
        }
    }

    private sealed class VerificationException : Exception;
}
