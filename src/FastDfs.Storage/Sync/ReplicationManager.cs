using System.Collections.Concurrent;
using System.Net;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Sync;

/// <summary>
/// Replication inside the group: one <see cref="SyncPeerWorker"/> per peer of the leader's group list
/// (started and stopped as the list changes), the per-source timestamps that SYNC_REPORT carries, and the
/// wait behind <c>sync_ack_replicas</c>.
/// </summary>
internal sealed partial class ReplicationManager
{
    private readonly StorageState _ctx;
    private readonly Trunk.TrunkStore _trunk;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Dictionary<string, SyncPeerWorker> _workers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _sourceTimestamps = new(StringComparer.Ordinal);
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromMilliseconds(250);
    private readonly object _signalGate = new();
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Callers inside <see cref="WaitForChangeAsync"/> (guarded by <see cref="_signalGate"/>).</summary>
    private int _waiting;
    private long _timestampsVersion;

    public ReplicationManager(StorageState ctx, Trunk.TrunkStore trunk, ILoggerFactory loggerFactory)
    {
        _ctx = ctx;
        _trunk = trunk;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ReplicationManager>();
        Notifier = new TrackerNotifier(ctx, _logger);
    }

    public TrackerNotifier Notifier { get; }

    /// <summary>Our storage id: the configured/assigned storage id, else as the leader's group list names us
    /// (ip, or ip:port beside a same-host storage).</summary>
    public string MyId => _ctx.IdInGroup;

    /// <summary>Changes whenever a source timestamp rises (the reporter sends SYNC_REPORT then).</summary>
    public long TimestampsVersion => Interlocked.Read(ref _timestampsVersion);

    /// <summary>A record from <paramref name="sourceId"/> with <paramref name="timestamp"/> was applied here.</summary>
    public void RecordApplied(string sourceId, long timestamp)
    {
        while (true)
        {
            long current = _sourceTimestamps.GetOrAdd(sourceId, 0);
            if (timestamp <= current)
            {
                return;
            }

            if (_sourceTimestamps.TryUpdate(sourceId, timestamp, current))
            {
                Interlocked.Increment(ref _timestampsVersion);
                return;
            }
        }
    }

    public long LastTimestampFrom(string sourceId) => _sourceTimestamps.TryGetValue(sourceId, out long ts) ? ts : 0;

    /// <summary>The SYNC_REPORT body (spec 6.4): every storage of the group, ourselves included, with its timestamp.</summary>
    public byte[] BuildSyncReport()
    {
        var ids = new List<string> { MyId };
        foreach (var brief in _ctx.Group.Servers)
        {
            if (!ids.Contains(brief.Id) && brief.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.None))
            {
                ids.Add(brief.Id);
            }
        }

        return Protocol.Messages.SyncReport.Encode([.. ids.Select(id => new Protocol.Messages.SyncReportEntry(id, (int)LastTimestampFrom(id)))]);
    }

    /// <summary>Attributes a SYNC_* frame that came without REPORT_SERVER_ID: the one peer with that address.</summary>
    public string? PeerIdByAddress(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        string ip = (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        string? found = null;
        foreach (var brief in _ctx.Group.Servers)
        {
            if (brief.IpAddr == ip)
            {
                if (found is not null)
                {
                    return null;
                }

                found = brief.Id;
            }
        }

        return found;
    }

    /// <summary>sync_ack_timeout, or half of network_timeout when unset: the client's own network timeout (normally the same as ours) must not fire first.</summary>
    public int SyncAckTimeoutSeconds => _ctx.Config.SyncAckTimeout > 0 ? _ctx.Config.SyncAckTimeout : Math.Max(1, _ctx.Config.NetworkTimeout / 2);

    /// <summary>
    /// sync_ack_replicas: waits until <c>sync_ack_replicas - 1</c> peers hold every change logged between
    /// <paramref name="start"/> and <paramref name="end"/> (applied, or found already there; a record a worker passed
    /// without the peer taking it does not count); false after <see cref="SyncAckTimeoutSeconds"/>.
    /// </summary>
    public async Task<bool> AwaitReplicasAsync(BinlogPosition start, BinlogPosition end, CancellationToken ct)
    {
        int needed = _ctx.Config.SyncAckReplicas - 1;
        int seconds = SyncAckTimeoutSeconds;
        var deadline = _ctx.Clock.GetUtcNow().AddSeconds(seconds);
        while (true)
        {
            if (Workers.Count(w => w.Holds(start, end)) >= needed)
            {
                return true;
            }

            var left = deadline - _ctx.Clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                _logger.LogWarning("sync_ack_replicas={Replicas}: binlog records {Index}:{Offset} not confirmed by {Needed} peer(s) within {Seconds}s",
                    _ctx.Config.SyncAckReplicas, end.Index, end.Offset, needed, seconds);
                return false;
            }

            await WaitForChangeAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the workers in step with the group list until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop, CancellationToken abandon)
    {
        // Polls the group list on a timer: binlog records do not change it, so they must not wake this loop
        // (that cost a thread-pool hop and a reconcile per upload).
        using var tick = new PeriodicTimer(ReconcileInterval);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Reconcile();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Without this loop no worker would see its peer's status change again: retry next tick.
                    _logger.LogError(e, "updating the sync workers from the group list failed; retrying");
                }

                await tick.WaitForNextTickAsync(stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        SyncPeerWorker[] workers;
        lock (_workers)
        {
            workers = [.. _workers.Values];
            _workers.Clear();
        }

        await Task.WhenAll(workers.Select(w => w.StopAsync(abandon.IsCancellationRequested))).ConfigureAwait(false);
    }

    private void Reconcile()
    {
        var servers = _ctx.Group.Servers;
        string myId = MyId;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<SyncPeerWorker> toStop = [];
        lock (_workers)
        {
            foreach (var brief in servers)
            {
                if (brief.Id == myId || (brief.IpAddr == _ctx.SourceIp && brief.Port == _ctx.Port))
                {
                    continue;
                }

                bool gone = brief.Status is StorageStatus.Deleted or StorageStatus.IpChanged or StorageStatus.None;
                if (_workers.TryGetValue(brief.Id, out var worker))
                {
                    if (gone)
                    {
                        _workers.Remove(brief.Id);
                        toStop.Add(worker);
                        worker.DeleteMark();
                        _logger.LogInformation("peer {Peer} left the group: sync stopped, mark removed", brief.Id);
                        continue;
                    }

                    worker.Peer = brief;
                    seen.Add(brief.Id);
                }
                else if (!gone)
                {
                    worker = new SyncPeerWorker(_ctx, _trunk, this, brief, _loggerFactory.CreateLogger<SyncPeerWorker>());
                    _workers[brief.Id] = worker;
                    seen.Add(brief.Id);
                    worker.Start();
                    _logger.LogInformation("sync to peer {Peer} ({Ip}:{Port}) started", brief.Id, brief.IpAddr, brief.Port);
                }
            }

            foreach (var (id, worker) in _workers.Where(w => !seen.Contains(w.Key)).ToList())
            {
                _workers.Remove(id);
                toStop.Add(worker);
            }
        }

        foreach (var worker in toStop)
        {
            _ = worker.StopAsync(abandon: false);
        }
    }

    public IReadOnlyList<SyncPeerWorker> Workers
    {
        get
        {
            lock (_workers)
            {
                return [.. _workers.Values];
            }
        }
    }

    /// <summary>
    /// Wakes the sync workers and acknowledgement waiters: a binlog record or an acknowledgement. With nobody
    /// waiting (a group of one, or every worker busy pushing) the current signal stays: no new one per record.
    /// </summary>
    public void Pulse()
    {
        TaskCompletionSource signal;
        lock (_signalGate)
        {
            if (_waiting == 0)
            {
                return;
            }

            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }

    public void NotifyAcknowledged() => Pulse();

    public async Task WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        Task signal;
        lock (_signalGate)
        {
            _waiting++;
            signal = _changed.Task;
        }

        try
        {
            await signal.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Periodic re-check.
        }
        finally
        {
            lock (_signalGate)
            {
                _waiting--;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
