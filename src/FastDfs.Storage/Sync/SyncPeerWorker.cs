using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Sync;

/// <summary>
/// Pushes this storage's binlog to one peer of the group (spec 12.4): waits until the peer can receive,
/// loads or creates its mark (asking SYNC_SRC_REQ whether we owe it the old data), connects, sends
/// REPORT_SERVER_ID and then every record the rules of 12.2 select, tailing the binlog. Progress is
/// persisted in the mark file every <c>write_mark_file_freq</c> records, when idle and on stop.
/// </summary>
internal sealed partial class SyncPeerWorker
{
    private const int BatchSize = 64;

    private readonly StorageState _ctx;
    private readonly Trunk.TrunkStore _trunk;
    private readonly ReplicationManager _manager;
    private readonly ILogger _logger;
    private readonly BinlogReader _reader;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private StorageBrief _peer;
    private SyncMark? _mark;
    private bool _markDirty;
    private int _sinceMarkSave;
    private BinlogPosition _acked;

    /// <summary>Ends of recent records passed without the peer taking them (guarded by <see cref="_gate"/>).</summary>
    private readonly List<BinlogPosition> _unconfirmed = [];
    private bool _failing;
    private bool _abandoned;
    private bool _markDamageReported;

    /// <summary>Whether the peer refuses damaged replicas (knows CHECKED_REPLICATION); null until asked.</summary>
    private bool? _peerChecksReplicas;

    /// <summary>When we last reported the peer OFFLINE for the current mark's finished copy (0 = not yet).</summary>
    private long _doneReportedAt;
    private Task _running = Task.CompletedTask;

    public SyncPeerWorker(StorageState ctx, Trunk.TrunkStore trunk, ReplicationManager manager, StorageBrief peer, ILogger logger)
    {
        _ctx = ctx;
        _trunk = trunk;
        _manager = manager;
        _peer = peer;
        _logger = logger;
        _reader = new BinlogReader(ctx.Binlog, logger);
        MarkPath = Path.Combine(ctx.Binlog.SyncDirectory, SyncMark.FileName(peer.IpAddr, peer.Port));
    }

    public string PeerId => Peer.Id;

    public string MarkPath { get; }

    /// <summary>The peer as the latest group list describes it (updated by the manager).</summary>
    public StorageBrief Peer
    {
        get
        {
            lock (_gate)
            {
                return _peer;
            }
        }
        set
        {
            lock (_gate)
            {
                _peer = value;
            }
        }
    }

    /// <summary>Binlog position up to which the peer has confirmed every record (or the record was skipped).</summary>
    public BinlogPosition Acknowledged
    {
        get
        {
            lock (_gate)
            {
                return _acked;
            }
        }
    }

    /// <summary>
    /// Whether the peer holds every change of this storage logged between <paramref name="start"/> and
    /// <paramref name="end"/>: the worker is past <paramref name="end"/> and passed none of those records without the
    /// peer taking it (a file gone before it could be sent, a record refused with EINVAL).
    /// </summary>
    public bool Holds(BinlogPosition start, BinlogPosition end)
    {
        lock (_gate)
        {
            if (_acked < end)
            {
                return false;
            }

            for (int i = _unconfirmed.Count - 1; i >= 0; i--)
            {
                var passed = _unconfirmed[i];
                if (passed <= start)
                {
                    break;
                }

                if (passed <= end)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>A record (ending at <paramref name="next"/>) passed without the peer taking the change.</summary>
    private void MarkUnconfirmed(BinlogPosition next)
    {
        lock (_gate)
        {
            // Ascending (records are pushed in order); only recent ones matter to a waiting request.
            if (_unconfirmed.Count >= 4096)
            {
                _unconfirmed.RemoveRange(0, 2048);
            }

            _unconfirmed.Add(next);
        }
    }

    /// <summary>True while connected to a peer that receives our new records (ACTIVE, or being filled by us).</summary>
    public bool IsStreaming { get; private set; }

    public void Start() => _running = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One line for diagnostics: the peer as we know it, our progress and whether the worker runs.</summary>
    public string Describe()
    {
        var peer = Peer;
        var mark = _mark;
        return $"{peer.Id} ({peer.IpAddr}:{peer.Port} {peer.Status}): acknowledged {Acknowledged.Index}:{Acknowledged.Offset}, " +
            $"streaming {IsStreaming}, failing {_failing}, worker {_running.Status}, " +
            (mark is null ? "no mark" : $"mark need_sync_old={mark.NeedSyncOld} sync_old_done={mark.SyncOldDone} until={mark.UntilTimestamp}");
    }

    /// <summary>Stops the worker; <paramref name="abandon"/> skips the final mark write (simulated crash).</summary>
    public async Task StopAsync(bool abandon)
    {
        _abandoned = abandon;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private int HeartBeatSeconds => _ctx.Config.HeartBeatInterval > 0 ? _ctx.Config.HeartBeatInterval : 30;

    private async Task RunAsync(CancellationToken stop)
    {
        int backoffMs = 500;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SyncOnceAsync(stop).ConfigureAwait(false);
                backoffMs = 500;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Any failure, expected (network, peer refusal) or not, only costs a reconnect: a worker that
                // ended here would leave its peer without this storage's records for good, and nothing would say so.
                IsStreaming = false;
                bool expected = e is IOException or SocketException or ProtocolException or OperationCanceledException or UnauthorizedAccessException;
                if (!expected)
                {
                    _logger.LogError(e, "sync to {Peer}: unexpected failure; retrying", PeerId);
                    _failing = true;
                }
                else if (!_failing)
                {
                    _logger.LogWarning("sync to {Peer}: {Message}; retrying", PeerId, e.Message);
                    _failing = true;
                }
                else
                {
                    _logger.LogDebug("sync to {Peer}: {Message}", PeerId, e.Message);
                }

                SaveMarkIfDirty();
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(backoffMs), _ctx.Clock, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoffMs = Math.Min(backoffMs * 2, 5000);
            }
        }

        IsStreaming = false;
        if (!_abandoned)
        {
            SaveMarkIfDirty();
        }
    }

    /// <summary>One connection's life: wait for the peer, load the mark, connect, push until an error.</summary>
    private async Task SyncOnceAsync(CancellationToken stop)
    {
        await WaitUntilAsync(() => _ctx.InitFlag.SyncOldDone && IsReceiving(Peer.Status), stop).ConfigureAwait(false);
        var mark = await EnsureMarkAsync(stop).ConfigureAwait(false);
        bool owesOldData = mark.NeedSyncOld && !mark.SyncOldDone;
        if (!owesOldData)
        {
            // Only the designated source fills a new storage; everyone else waits until it is ACTIVE. A source
            // whose copy is done keeps telling the trackers so meanwhile: if its report was lost, every worker
            // of the group would wait here for good.
            while (Peer.Status != StorageStatus.Active)
            {
                await ReportOldDataDoneAsync(stop).ConfigureAwait(false);
                await _manager.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), stop).ConfigureAwait(false);
            }
        }

        await using var connection = await ConnectAndIntroduceAsync(stop).ConfigureAwait(false);
        if (owesOldData && Peer.Status == StorageStatus.WaitSync)
        {
            await _manager.Notifier.ReportStatusAsync(Peer, StorageStatus.Syncing, stop).ConfigureAwait(false);
        }

        if (_failing)
        {
            _logger.LogInformation("sync to {Peer}: connected again", PeerId);
            _failing = false;
        }

        IsStreaming = true;
        await PushLoopAsync(connection, mark, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects, sends REPORT_SERVER_ID, then CHECKED_REPLICATION (we send a file the peer refuses as damaged again).
    /// A stock peer answers that with EINVAL and closes: we connect once more without it and remember.
    /// </summary>
    private async Task<PeerConnection> ConnectAndIntroduceAsync(CancellationToken stop)
    {
        var peer = Peer;
        var connectTimeout = TimeSpan.FromSeconds(_ctx.Config.ConnectTimeout > 0 ? _ctx.Config.ConnectTimeout : 10);
        var networkTimeout = TimeSpan.FromSeconds(_ctx.Config.NetworkTimeout > 0 ? _ctx.Config.NetworkTimeout : 30);
        var id = new byte[ProtocolConstants.StorageIdMaxSize];
        FixedString.Write(id, _manager.MyId);
        while (true)
        {
            var connection = await PeerConnection.ConnectAsync(
                peer.IpAddr, peer.Port, _ctx.ClientBindAddress, connectTimeout, networkTimeout, stop, _ctx.PeerKey).ConfigureAwait(false);
            try
            {
                Check(await connection.RequestAsync(FdfsCommand.ReportServerId, id, stop).ConfigureAwait(false), "REPORT_SERVER_ID");
                if (_peerChecksReplicas != false)
                {
                    byte status = await connection.RequestAsync(CheckedReplication.Command, ReadOnlyMemory<byte>.Empty, stop).ConfigureAwait(false);
                    if (status == Errno.EINVAL)
                    {
                        _logger.LogInformation("sync to {Peer}: the peer does not check replicas (a stock storage); reconnecting", PeerId);
                        _peerChecksReplicas = false;
                        await connection.DisposeAsync().ConfigureAwait(false);
                        continue;
                    }

                    Check(status, "CHECKED_REPLICATION");
                    _peerChecksReplicas = true;
                }

                return connection;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private static bool IsReceiving(StorageStatus status) =>
        status is StorageStatus.Active or StorageStatus.WaitSync or StorageStatus.Syncing;

    private async Task WaitUntilAsync(Func<bool> condition, CancellationToken stop)
    {
        while (!condition())
        {
            await _manager.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), stop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Loads the mark, or asks SYNC_SRC_REQ when it is missing or the peer is being filled (WAIT_SYNC/SYNCING,
    /// spec 12.3). A mark made for the assignment the tracker still names is kept: our group list lags the
    /// tracker by a beat, so right after a copy (or when the connection drops during one) the peer still looks
    /// WAIT_SYNC here, and starting over would push everything again and report the peer SYNCING again,
    /// after it may already be ACTIVE.
    /// </summary>
    private async Task<SyncMark> EnsureMarkAsync(CancellationToken stop)
    {
        bool peerBeingFilled = Peer.Status is StorageStatus.Init or StorageStatus.WaitSync or StorageStatus.Syncing;
        var current = _mark ?? LoadMark();
        if (current is not null && !peerBeingFilled)
        {
            if (_mark is null)
            {
                SetMark(current, dirty: false);
            }

            return current;
        }

        var source = await _manager.Notifier.SyncSourceRequestAsync(PeerId, stop).ConfigureAwait(false);
        if (current is not null && current.IsFor(source, _manager.MyId))
        {
            if (_mark is null)
            {
                SetMark(current, dirty: false);
            }

            return current;
        }

        var mark = new SyncMark();
        if (source is { } body)
        {
            mark.UntilTimestamp = body.UntilTimestamp;
            if (body.SrcId == _manager.MyId)
            {
                mark.NeedSyncOld = true;
            }
            else
            {
                // The peer's source sends it everything older than until; we start at the first newer record.
                mark.Position = SkipOlderThan(body.UntilTimestamp);
            }
        }

        _logger.LogInformation("sync to {Peer}: new mark, old-data source {Source}, until {Until}, from {Index}:{Offset}",
            PeerId, source?.SrcId ?? "(none)", mark.UntilTimestamp, mark.BinlogIndex, mark.BinlogOffset);
        SetMark(mark, dirty: true);
        SaveMarkIfDirty();
        return mark;
    }

    /// <summary>The mark file, or null when there is none. A damaged one stops this worker (retried) with an error that says what to do.</summary>
    private SyncMark? LoadMark()
    {
        try
        {
            var mark = SyncMark.TryLoad(MarkPath);
            _markDamageReported = false;
            return mark;
        }
        catch (InvalidDataException e)
        {
            if (!_markDamageReported)
            {
                _logger.LogError("sync to {Peer} stopped: {Message}", PeerId, e.Message);
                _markDamageReported = true;
            }

            throw new IOException(e.Message, e);
        }
    }

    private void SetMark(SyncMark mark, bool dirty)
    {
        if (!ReferenceEquals(_mark, mark))
        {
            _doneReportedAt = 0;
            // What we know of the peer's copies held for the previous mark (the peer may have been wiped since).
            _copiedAt.Clear();
            _staleOnPeer.Clear();
        }

        _mark = mark;
        _markDirty = dirty;
        lock (_gate)
        {
            _acked = mark.Position;
        }
    }

    private BinlogPosition SkipOlderThan(long until)
    {
        var position = default(BinlogPosition);
        while (true)
        {
            var entries = _reader.Read(position, 1024);
            if (entries.Count == 0)
            {
                return position;
            }

            foreach (var entry in entries)
            {
                if (entry.Record is { } record && record.Timestamp >= until)
                {
                    return position;
                }

                position = entry.Next;
            }
        }
    }

    /// <summary>
    /// Once our old-data push is done, a peer still WAIT_SYNC/SYNCING in our view is reported OFFLINE to every
    /// tracker (it turns ACTIVE on its next beat). Our view lags a beat, so a repeat waits a few beats, and is
    /// only sent after SYNC_SRC_REQ confirms the assignment is still the one we completed; a different one
    /// (the peer was wiped or given to us anew) drops the connection so the next one starts from a new mark.
    /// </summary>
    private async Task ReportOldDataDoneAsync(CancellationToken stop)
    {
        if (_mark is not { NeedSyncOld: true, SyncOldDone: true } mark || Peer.Status is not (StorageStatus.WaitSync or StorageStatus.Syncing))
        {
            return;
        }

        long now = _ctx.Now;
        if (_doneReportedAt != 0)
        {
            if (now - _doneReportedAt < 3 * HeartBeatSeconds)
            {
                return;
            }

            var source = await _manager.Notifier.SyncSourceRequestAsync(PeerId, stop).ConfigureAwait(false);
            if (!mark.IsFor(source, _manager.MyId))
            {
                throw new IOException($"the tracker changed the old-data assignment of {PeerId}; starting over");
            }
        }

        await _manager.Notifier.ReportStatusAsync(Peer, StorageStatus.Offline, stop).ConfigureAwait(false);
        _doneReportedAt = now;
    }

    private void Advance(BinlogPosition next)
    {
        _mark!.Position = next;
        _markDirty = true;
        lock (_gate)
        {
            _acked = next;
        }

        _manager.NotifyAcknowledged();
        if (++_sinceMarkSave >= Math.Max(1, _ctx.Config.WriteMarkFileFreq))
        {
            SaveMarkIfDirty();
        }
    }

    private void SaveMarkIfDirty()
    {
        if (_mark is null || !_markDirty || _abandoned)
        {
            return;
        }

        try
        {
            // The binlog first: after a power cut a mark must never point past the binlog's end (new records written
            // there would be skipped).
            _ctx.Binlog.Flush();
            _mark.Save(MarkPath);
            _markDirty = false;
            _sinceMarkSave = 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(e, "writing {Path} failed", MarkPath);
        }
    }

    /// <summary>The mark file of a deleted peer goes with it (spec 12.3).</summary>
    public void DeleteMark()
    {
        _abandoned = true;
        File.Delete(MarkPath);
    }

    private static void Check(byte status, string what)
    {
        if (status != Errno.Ok)
        {
            throw new ProtocolException($"{what} answered {Errno.Describe(status)}", status);
        }
    }
}
