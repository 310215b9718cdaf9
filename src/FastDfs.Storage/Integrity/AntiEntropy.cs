using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Binlog;
using FastDfs.Storage.Sync;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// Anti-entropy: every <c>anti_entropy_interval</c> seconds this storage compares the files it is the source of (the
/// source in their names) with each peer's copy, from both listings merged in name order (LIST_FILES on the peer,
/// CRC32 of appender and metadata files on both sides), and repairs by the binlog's truth, the last record of each
/// name: a copy missing or different on the peer is sent again; a file the binlog says is deleted is deleted (on the
/// peer, and here when a crash interrupted the delete); a file this storage lost (no delete recorded) is fetched back
/// from the peer. A file deleted on purpose is never brought back, a good copy never overwritten by a bad one (checked
/// replication and <see cref="PeerRepair"/> verify what they take). A peer is compared only once this storage's sync
/// to it has caught up, and files changed since the round started are left to the next round.
/// </summary>
internal sealed class AntiEntropy(StorageContext ctx, ILogger logger)
{
    private const int MaxCandidates = 100_000;
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromSeconds(30);

    private readonly PeerRepair _repair = new(ctx, logger);
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _requested;
    private long _rounds;
    private long _lastEnd;
    private long _resent;
    private long _deletesResent;
    private long _restored;

    public IntegrityStatus Describe(IntegrityStatus status) => status with
    {
        AntiEntropyRounds = Interlocked.Read(ref _rounds),
        AntiEntropyFinished = Interlocked.Read(ref _lastEnd),
        AntiEntropyResent = Interlocked.Read(ref _resent),
        AntiEntropyDeletesResent = Interlocked.Read(ref _deletesResent),
        AntiEntropyRestored = Interlocked.Read(ref _restored),
    };

    /// <summary>Runs a round now (tests; the interval otherwise).</summary>
    public void RequestRound()
    {
        lock (_gate)
        {
            _requested = true;
            _wake.TrySetResult();
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        long interval = ctx.Config.AntiEntropyInterval;
        long next = interval > 0 ? StorageContext.Now + interval : long.MaxValue;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Task wake;
                lock (_gate)
                {
                    if (_wake.Task.IsCompleted && !_requested)
                    {
                        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    wake = _wake.Task;
                }

                if (!_requested && StorageContext.Now < next)
                {
                    var wait = TimeSpan.FromSeconds(Math.Clamp(next - StorageContext.Now, 1, 60));
                    await Task.WhenAny(wake, Task.Delay(wait, stop)).ConfigureAwait(false);
                    continue;
                }

                lock (_gate)
                {
                    _requested = false;
                }

                try
                {
                    await RoundAsync(stop).ConfigureAwait(false);
                    Interlocked.Increment(ref _rounds);
                    Interlocked.Exchange(ref _lastEnd, StorageContext.Now);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    logger.LogError(e, "anti-entropy round failed; the next one starts on schedule");
                }

                next = interval > 0 ? StorageContext.Now + interval : long.MaxValue;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task RoundAsync(CancellationToken stop)
    {
        long roundStart = StorageContext.Now;
        string myId = ctx.Replication.MyId;
        foreach (var peer in ctx.Group.Servers)
        {
            if (peer.Id == myId || (peer.IpAddr == ctx.SourceIp && peer.Port == ctx.Port) || peer.Status != StorageStatus.Active)
            {
                continue;
            }

            var worker = ctx.Replication.Workers.FirstOrDefault(w => w.PeerId == peer.Id);
            var end = ctx.Binlog.End;
            var deadline = DateTime.UtcNow + CatchUpWait;
            while (worker is null || worker.Acknowledged < end)
            {
                if (DateTime.UtcNow > deadline)
                {
                    logger.LogInformation("anti-entropy: sync to {Peer} has not caught up; compared next round", peer.Id);
                    worker = null;
                    break;
                }

                await Task.Delay(200, stop).ConfigureAwait(false);
                worker ??= ctx.Replication.Workers.FirstOrDefault(w => w.PeerId == peer.Id);
            }

            if (worker is null)
            {
                continue;
            }

            try
            {
                await ComparePeerAsync(peer, roundStart, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolException or Client.FastDfsException ||
                                      (e is OperationCanceledException && !stop.IsCancellationRequested))
            {
                logger.LogWarning("anti-entropy with {Peer} stopped: {Message}; compared again next round", peer.Id, e.Message);
            }
        }
    }

    /// <summary>Whether this storage is the source of <paramref name="logicName"/> (of the file a metadata name belongs to).</summary>
    private bool IsMine(string logicName)
    {
        string fileName = logicName.EndsWith("-m", StringComparison.Ordinal) ? logicName[..^2] : logicName;
        return FileNameCodec.TryDecode(fileName, out var info) &&
               (info.SourceRaw == ctx.SourceRaw || (info.SourceIsStorageId && info.Source == ctx.StorageId));
    }

    private static bool Differ(in ListedFile mine, in ListedFile theirs) =>
        mine.Size != theirs.Size || mine.Kind != theirs.Kind || (mine.HasCrc32 && theirs.HasCrc32 && mine.Crc32 != theirs.Crc32);

    private async Task ComparePeerAsync(StorageBrief peer, long roundStart, CancellationToken stop)
    {
        var options = ListFilesOptions.Crc32OfMutable;
        var throttle = new ReadThrottle(ctx.Config.ScrubRate);
        await using var client = _repair.NewClient();
        var remote = client.GetStorage(new StorageEndpoint(peer.IpAddr, peer.Port)).ListAllFilesAsync(ctx.GroupName, "", options, stop).GetAsyncEnumerator(stop);
        var local = ctx.Lister.ListAsync(new FileLister.Scope(0, ctx.Paths.Count - 1, -1, -1), options, throttle.WaitAsync, stop).GetAsyncEnumerator(stop);
        var toSend = new List<string>();
        var missingHere = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            ListedFile? mine = await local.MoveNextAsync().ConfigureAwait(false) ? local.Current : null;
            ListedFile? theirs = await remote.MoveNextAsync().ConfigureAwait(false) ? remote.Current : null;
            while (mine is not null || theirs is not null)
            {
                int order = mine is null ? 1 : theirs is null ? -1 : string.CompareOrdinal(mine.Value.LogicName, theirs.Value.LogicName);
                var here = order <= 0 ? mine : null;
                var there = order >= 0 ? theirs : null;
                string name = (here ?? there)!.Value.LogicName;
                bool recent = (here?.Mtime ?? 0) >= roundStart - 1 || (there?.Mtime ?? 0) >= roundStart - 1;
                if (!recent && IsMine(name) && toSend.Count + missingHere.Count < MaxCandidates)
                {
                    if (here is { } h && (there is not { } t || Differ(h, t)))
                    {
                        toSend.Add(name);
                    }
                    else if (here is null && there is { } t2)
                    {
                        missingHere[name] = t2.Mtime;
                    }
                }

                if (order <= 0)
                {
                    mine = await local.MoveNextAsync().ConfigureAwait(false) ? local.Current : null;
                }

                if (order >= 0)
                {
                    theirs = await remote.MoveNextAsync().ConfigureAwait(false) ? remote.Current : null;
                }
            }
        }
        finally
        {
            await local.DisposeAsync().ConfigureAwait(false);
            await remote.DisposeAsync().ConfigureAwait(false);
        }

        if (toSend.Count == 0 && missingHere.Count == 0)
        {
            return;
        }

        var deleted = DeletedByTheBinlog(toSend.Concat(missingHere.Keys));
        await using var pushes = await PeerPush.OpenAsync(ctx, peer, stop).ConfigureAwait(false);
        foreach (string name in toSend)
        {
            string? path = ctx.Lister.FullPathOf(name);
            if (path is null)
            {
                continue;
            }

            if (deleted.Contains(name))
            {
                // A delete a crash interrupted here: complete it, and on the peer.
                using (await ctx.FileLocks.AcquireAsync(name, stop).ConfigureAwait(false))
                {
                    File.Delete(path);
                }

                logger.LogWarning("anti-entropy: {Name} is deleted by the binlog but was still here: deleted", name);
                await pushes.DeleteAsync(name, stop).ConfigureAwait(false);
                Record(IntegrityFindingKind.DeleteResent, name, ref _deletesResent);
                continue;
            }

            if (await pushes.SendAsync(name, path, stop).ConfigureAwait(false))
            {
                logger.LogWarning("anti-entropy: {Name} was missing or different on {Peer}: sent again", name, peer.Id);
                Record(IntegrityFindingKind.Resent, name, ref _resent);
                if (!File.Exists(path))
                {
                    // Deleted while it was being sent: the delete's own push may have come first.
                    await pushes.DeleteAsync(name, stop).ConfigureAwait(false);
                }
            }
        }

        foreach (var (name, theirMtime) in missingHere)
        {
            if (deleted.Contains(name))
            {
                logger.LogWarning("anti-entropy: {Name} was deleted here but is still on {Peer}: delete sent again", name, peer.Id);
                await pushes.DeleteAsync(name, stop).ConfigureAwait(false);
                Record(IntegrityFindingKind.DeleteResent, name, ref _deletesResent);
                continue;
            }

            string? path = ctx.Lister.FullPathOf(name);
            if (path is null || name.Length > 128)
            {
                continue;
            }

            var outcome = await _repair.RepairFileAsync(name, path, theirMtime, replace: false, stop).ConfigureAwait(false);
            if (outcome == PeerRepair.Outcome.Repaired)
            {
                logger.LogWarning("anti-entropy: {Name} was lost here (no delete recorded): fetched back from a peer", name);
                ctx.Integrity.RepairedOne();
                Record(IntegrityFindingKind.Restored, name, ref _restored);
            }
        }
    }

    private void Record(IntegrityFindingKind kind, string name, ref long counter)
    {
        Interlocked.Increment(ref counter);
        ctx.Integrity.Record(kind, name);
    }

    /// <summary>
    /// The names among <paramref name="names"/> whose last binlog record deletes them (a delete, from here or a peer, or
    /// a rename away from them); one pass over the binlog.
    /// </summary>
    private HashSet<string> DeletedByTheBinlog(IEnumerable<string> names)
    {
        var wanted = new HashSet<string>(names, StringComparer.Ordinal);
        var lastIsDelete = new Dictionary<string, bool>(StringComparer.Ordinal);
        var reader = new BinlogReader(ctx.Binlog, logger);
        var position = default(BinlogPosition);
        var end = ctx.Binlog.End;
        while (position < end)
        {
            var entries = reader.Read(position, 4096);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                position = entry.Next;
                if (entry.Record is not { } record)
                {
                    continue;
                }

                if (wanted.Contains(record.FileName))
                {
                    lastIsDelete[record.FileName] = record.UpperOp == BinlogOp.Delete;
                }

                if (record.UpperOp == BinlogOp.Rename && record.OtherName is { } old && wanted.Contains(old))
                {
                    lastIsDelete[old] = true;
                }
            }
        }

        return [.. lastIsDelete.Where(p => p.Value).Select(p => p.Key)];
    }

    /// <summary>A connection for anti-entropy's pushes: introduced as the sync worker's are (REPORT_SERVER_ID, CHECKED_REPLICATION).</summary>
    private sealed class PeerPush : IAsyncDisposable
    {
        private readonly StorageContext _ctx;
        private readonly PeerConnection _connection;

        private PeerPush(StorageContext ctx, PeerConnection connection)
        {
            _ctx = ctx;
            _connection = connection;
        }

        public static async Task<PeerPush> OpenAsync(StorageContext ctx, StorageBrief peer, CancellationToken stop)
        {
            var connectTimeout = TimeSpan.FromSeconds(ctx.Config.ConnectTimeout > 0 ? ctx.Config.ConnectTimeout : 10);
            var networkTimeout = TimeSpan.FromSeconds(ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30);
            var id = new byte[ProtocolConstants.StorageIdMaxSize];
            FixedString.Write(id, ctx.Replication.MyId);
            for (int attempt = 0; ; attempt++)
            {
                var connection = await PeerConnection.ConnectAsync(peer.IpAddr, peer.Port, ctx.ClientBindAddress, connectTimeout, networkTimeout, stop)
                    .ConfigureAwait(false);
                try
                {
                    Expect(await connection.RequestAsync(FdfsCommand.ReportServerId, id, stop).ConfigureAwait(false), "REPORT_SERVER_ID");
                    if (attempt == 0 && await connection.RequestAsync(CheckedReplication.Command, ReadOnlyMemory<byte>.Empty, stop).ConfigureAwait(false) == Errno.EINVAL)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        continue; // a stock peer: it closed the connection
                    }

                    return new PeerPush(ctx, connection);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }

        /// <summary>The whole file as it is now (an update: it overwrites); false when it is gone or our copy does not keep its name's promise.</summary>
        public async Task<bool> SendAsync(string logicName, string path, CancellationToken stop)
        {
            bool mutable = SyncPeerWorker.IsMutable(logicName);
            SafeFileHandleSource? file;
            using (mutable ? await _ctx.FileLocks.AcquireAsync(logicName, stop).ConfigureAwait(false) : default)
            {
                file = SafeFileHandleSource.TryOpen(path);
            }

            using (file)
            {
                if (file is null)
                {
                    return false;
                }

                long size = file.Length;
                long timestamp = FileNameCodec.TryDecode(mutable && logicName.EndsWith("-m", StringComparison.Ordinal) ? logicName[..^2] : logicName, out var info)
                    ? info.Timestamp : StorageContext.Now;
                int nameLength = FixedString.ByteCount(logicName);
                var fixedPart = new byte[8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen + nameLength];
                BinaryPrimitives.WriteInt64BigEndian(fixedPart, nameLength);
                BinaryPrimitives.WriteInt64BigEndian(fixedPart.AsSpan(8), size);
                BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(16), (uint)timestamp);
                FixedString.Write(fixedPart.AsSpan(20, ProtocolConstants.GroupNameMaxLen), _ctx.GroupName);
                FixedString.Write(fixedPart.AsSpan(20 + ProtocolConstants.GroupNameMaxLen), logicName);
                byte status = await _connection.RequestAsync(FdfsCommand.SyncUpdateFile, fixedPart, stop, file, 0, size).ConfigureAwait(false);
                if (status == Errno.EBADMSG)
                {
                    _ctx.Integrity.PushRefused();
                    return false; // our copy does not keep its promise: the scrub's business
                }

                Expect(status, "SYNC_UPDATE_FILE");
                return true;
            }
        }

        public async Task DeleteAsync(string logicName, CancellationToken stop)
        {
            int nameLength = FixedString.ByteCount(logicName);
            var body = new byte[4 + ProtocolConstants.GroupNameMaxLen + nameLength];
            BinaryPrimitives.WriteUInt32BigEndian(body, (uint)StorageContext.Now);
            FixedString.Write(body.AsSpan(4, ProtocolConstants.GroupNameMaxLen), _ctx.GroupName);
            FixedString.Write(body.AsSpan(4 + ProtocolConstants.GroupNameMaxLen), logicName);
            byte status = await _connection.RequestAsync(FdfsCommand.SyncDeleteFile, body, stop).ConfigureAwait(false);
            if (status != Errno.ENOENT)
            {
                Expect(status, "SYNC_DELETE_FILE");
            }
        }

        private static void Expect(byte status, string what)
        {
            if (status != Errno.Ok)
            {
                throw new ProtocolException($"{what} answered {Errno.Describe(status)}", status);
            }
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
