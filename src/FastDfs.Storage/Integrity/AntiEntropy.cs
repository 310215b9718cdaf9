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
internal sealed class AntiEntropy(StorageState ctx, Sync.ReplicationManager replication, Trunk.TrunkStore trunk, ILogger logger)
{
    private const int MaxCandidates = 100_000;
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromSeconds(30);

    private readonly PeerRepair _repair = new(ctx, trunk, logger);
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
        long next = interval > 0 ? ctx.Now + interval : long.MaxValue;
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

                if (!_requested && ctx.Now < next)
                {
                    var wait = TimeSpan.FromSeconds(Math.Clamp(next - ctx.Now, 1, 60));
                    await Task.WhenAny(wake, Task.Delay(wait, ctx.Clock, stop)).ConfigureAwait(false);
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
                    Interlocked.Exchange(ref _lastEnd, ctx.Now);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    logger.LogError(e, "anti-entropy round failed; the next one starts on schedule");
                }

                next = interval > 0 ? ctx.Now + interval : long.MaxValue;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task RoundAsync(CancellationToken stop)
    {
        long roundStart = ctx.Now;
        string myId = ctx.IdInGroup;
        foreach (var peer in ctx.Group.Servers)
        {
            if (peer.Id == myId || (peer.IpAddr == ctx.SourceIp && peer.Port == ctx.Port) || peer.Status != StorageStatus.Active)
            {
                continue;
            }

            var worker = replication.Workers.FirstOrDefault(w => w.PeerId == peer.Id);
            var end = ctx.Binlog.End;
            var deadline = ctx.Clock.GetUtcNow() + CatchUpWait;
            while (worker is null || worker.Acknowledged < end)
            {
                if (ctx.Clock.GetUtcNow() > deadline)
                {
                    logger.LogInformation("anti-entropy: sync to {Peer} has not caught up; compared next round", peer.Id);
                    worker = null;
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), ctx.Clock, stop).ConfigureAwait(false);
                worker ??= replication.Workers.FirstOrDefault(w => w.PeerId == peer.Id);
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

    /// <summary>What the binlog says of a name: its last record.</summary>
    private enum Truth
    {
        /// <summary>No record of the name (a binlog rebuilt or trimmed, a file placed by hand): nothing is done but a report.</summary>
        Unknown,

        /// <summary>The last record creates or updates it (or renames a file to it).</summary>
        Exists,

        /// <summary>The last record deletes it (or renames it away).</summary>
        Deleted,
    }

    private async Task ComparePeerAsync(StorageBrief peer, long roundStart, CancellationToken stop)
    {
        // Both sides read at scrub_rate (the peer is asked to throttle its checksums too).
        var options = ListFilesOptions.Crc32OfMutable | ListFilesOptions.Throttled;
        var throttle = new ReadThrottle(ctx.Config.ScrubRate);
        await using var client = _repair.NewClient();
        var remote = client.GetStorage(new StorageEndpoint(peer.IpAddr, peer.Port)).ListAllFilesAsync(ctx.GroupName, "", options, stop).GetAsyncEnumerator(stop);
        var local = ctx.Lister.ListAsync(new FileLister.Scope(0, ctx.Paths.Count - 1, -1, -1), options, throttle.WaitAsync, stop).GetAsyncEnumerator(stop);
        var differing = new Dictionary<string, (ListedFile? Here, ListedFile? There)>(StringComparer.Ordinal);
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
                bool link = ((here?.Kind ?? 0) | (there?.Kind ?? 0)).HasFlag(ListedFileKind.Link);
                if (!recent && !link && IsMine(name) && differing.Count < MaxCandidates &&
                    (here is null || there is null || Differ(here.Value, there.Value)))
                {
                    differing[name] = (here, there);
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

        if (differing.Count == 0)
        {
            return;
        }

        var truths = ReadTruth(differing.Keys);
        await using var pushes = await PeerPush.OpenAsync(ctx, peer, stop).ConfigureAwait(false);
        foreach (var (name, (here, there)) in differing)
        {
            var (truth, recordTime) = truths.TryGetValue(name, out var t) ? t : (Truth.Unknown, 0L);
            string? path = ctx.Lister.FullPathOf(name);
            if (path is null)
            {
                continue;
            }

            if (truth == Truth.Deleted)
            {
                if (here is not null)
                {
                    // A delete a crash interrupted here (deletes are logged first): complete it.
                    using (await ctx.FileLocks.AcquireAsync(name, stop).ConfigureAwait(false))
                    {
                        File.Delete(path);
                    }

                    logger.LogWarning("anti-entropy: {Name} is deleted by the binlog but was still here: deleted", name);
                }

                if (there is not null)
                {
                    await pushes.DeleteAsync(name, recordTime, stop).ConfigureAwait(false);
                    logger.LogWarning("anti-entropy: {Name} was deleted here but is still on {Peer}: delete sent again", name, peer.Id);
                    Record(IntegrityFindingKind.DeleteResent, name, ref _deletesResent);
                }

                continue;
            }

            if (here is { } mineCopy)
            {
                await SendIfItIsTheGoodCopyAsync(pushes, peer, name, path, mineCopy, there, stop).ConfigureAwait(false);
            }
            else if (there is { } theirCopy)
            {
                if (truth != Truth.Exists)
                {
                    // No record of the name here: it may be a file deleted before this binlog began. Never brought back on a guess.
                    logger.LogWarning("anti-entropy: {Name} is on {Peer} but not here, and the binlog has no record of it: left as it is", name, peer.Id);
                    continue;
                }

                var outcome = await _repair.RepairFileAsync(name, path, theirCopy.Mtime, replace: false, stop).ConfigureAwait(false);
                if (outcome == PeerRepair.Outcome.Repaired)
                {
                    logger.LogWarning("anti-entropy: {Name} was lost here (the binlog says it exists): fetched back from a peer", name);
                    ctx.Integrity.RepairedOne();
                    Record(IntegrityFindingKind.Restored, name, ref _restored);
                }
            }
        }
    }

    /// <summary>
    /// Sends our copy to a peer that lacks it or holds another one, but only a copy that can be trusted: a file whose
    /// name promises its size and CRC32 goes only if it keeps the promise (if it does not, and the peer's copy has the
    /// promised size, ours is repaired from the peer instead); a file that changes in place goes only if ours changed
    /// after theirs (a newer mtime), so a copy that rotted or lost its tail here never replaces a good one.
    /// </summary>
    private async Task SendIfItIsTheGoodCopyAsync(PeerPush pushes, StorageBrief peer, string name, string path, ListedFile mine, ListedFile? there,
        CancellationToken stop)
    {
        if (NameChecksum.TryGetExpected(name, out long promisedSize, out _))
        {
            if (await ContentChecksum.FileMatchesNameAsync(name, path, stop).ConfigureAwait(false) != true)
            {
                if (there is { } theirs && theirs.Size == promisedSize)
                {
                    var outcome = await _repair.RepairFileAsync(name, path, FileNameCodec.Decode(name).Timestamp, replace: true, stop).ConfigureAwait(false);
                    if (outcome == PeerRepair.Outcome.Repaired)
                    {
                        logger.LogWarning("anti-entropy: our copy of {Name} did not match its name: repaired from {Peer}", name, peer.Id);
                        ctx.Integrity.FoundCorrupt();
                        ctx.Integrity.RepairedOne();
                        ctx.Integrity.Record(IntegrityFindingKind.Repaired, name);
                    }
                }
                else
                {
                    logger.LogWarning("anti-entropy: our copy of {Name} does not match its name: not sent", name);
                }

                return;
            }
        }
        else if (there is { } theirs)
        {
            // A file that changes in place promises nothing: the members vote. A copy most members hold is the right one;
            // without a majority ours goes only if it changed after theirs (a change the peer missed), never a copy that is
            // just different (a rotted byte, a tail lost in a power cut: which side cannot be told).
            switch (await VoteAsync(name, path, stop).ConfigureAwait(false))
            {
                case Vote.OursWins:
                    break;
                case Vote.OursLoses:
                    var outcome = await _repair.RepairMutableAsync(name, path, theirs, stop).ConfigureAwait(false);
                    if (outcome == PeerRepair.Outcome.Repaired)
                    {
                        logger.LogWarning("anti-entropy: most members hold another copy of {Name}: ours replaced with it", name);
                        ctx.Integrity.RepairedOne();
                        ctx.Integrity.Record(IntegrityFindingKind.Repaired, name);
                    }

                    return;
                default:
                    if (mine.Mtime <= theirs.Mtime)
                    {
                        logger.LogWarning("anti-entropy: {Name} differs on {Peer}, no majority, and our copy is not newer: left for an operator (fdfs check)",
                            name, peer.Id);
                        return;
                    }

                    break;
            }
        }

        if (await pushes.SendAsync(name, path, stop).ConfigureAwait(false))
        {
            logger.LogWarning("anti-entropy: {Name} was missing or different on {Peer}: sent again", name, peer.Id);
            Record(IntegrityFindingKind.Resent, name, ref _resent);
            if (!File.Exists(path))
            {
                // Deleted while it was being sent: the delete's own push may have come first.
                // (With timestamp 0: the peer must not take it as how far it has synced from us.)
                await pushes.DeleteAsync(name, 0, stop).ConfigureAwait(false);
            }
        }
    }

    private enum Vote
    {
        NoMajority,
        OursWins,
        OursLoses,
    }

    /// <summary>Every ACTIVE member's copy of <paramref name="name"/> (size and CRC32), ours included: is ours the majority's?</summary>
    private async Task<Vote> VoteAsync(string name, string path, CancellationToken stop)
    {
        var ours = await FileLister.DescribeAsync(name, path, ListFilesOptions.Crc32, null, stop).ConfigureAwait(false);
        if (ours is not { HasCrc32: true } mineNow)
        {
            return Vote.NoMajority;
        }

        var votes = new List<(long Size, uint Crc)> { (mineNow.Size, mineNow.Crc32) };
        string myId = ctx.IdInGroup;
        await using var client = _repair.NewClient();
        foreach (var member in ctx.Group.Servers.Where(m => m.Status == StorageStatus.Active && m.Id != myId &&
                     !(m.IpAddr == ctx.SourceIp && m.Port == ctx.Port)))
        {
            try
            {
                // The page after the name without its last character holds the name (a few -m and slave names may come first).
                var (files, _) = await client.GetStorage(new StorageEndpoint(member.IpAddr, member.Port))
                    .ListFilesAsync(ctx.GroupName, name[..9], name[..^1], ListFilesOptions.Crc32OfMutable, 100, stop).ConfigureAwait(false);
                if (files.FirstOrDefault(f => f.LogicName == name) is { HasCrc32: true } theirs)
                {
                    votes.Add((theirs.Size, theirs.Crc32));
                }
            }
            catch (Exception e) when (e is Client.FastDfsException or IOException)
            {
                logger.LogDebug("anti-entropy: {Member} did not vote on {Name}: {Message}", member.Id, name, e.Message);
            }
        }

        var winner = votes.GroupBy(v => v).OrderByDescending(g => g.Count()).First();
        if (winner.Count() * 2 <= votes.Count)
        {
            return Vote.NoMajority;
        }

        return winner.Key == votes[0] ? Vote.OursWins : Vote.OursLoses;
    }

    private static bool Differ(in ListedFile mine, in ListedFile theirs) =>
        mine.Size != theirs.Size || mine.Kind != theirs.Kind || (mine.HasCrc32 && theirs.HasCrc32 && mine.Crc32 != theirs.Crc32);

    private void Record(IntegrityFindingKind kind, string name, ref long counter)
    {
        Interlocked.Increment(ref counter);
        ctx.Integrity.Record(kind, name);
    }

    /// <summary>The last binlog record of each of <paramref name="names"/> (a delete, a create or update, a rename to or away), with its time; one pass over the binlog.</summary>
    private Dictionary<string, (Truth Truth, long Time)> ReadTruth(IEnumerable<string> names)
    {
        var wanted = new HashSet<string>(names, StringComparer.Ordinal);
        var truths = new Dictionary<string, (Truth, long)>(StringComparer.Ordinal);
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
                    truths[record.FileName] = (record.UpperOp == BinlogOp.Delete ? Truth.Deleted : Truth.Exists, record.Timestamp);
                }

                if (record.UpperOp == BinlogOp.Rename && record.OtherName is { } old && wanted.Contains(old))
                {
                    truths[old] = (Truth.Deleted, record.Timestamp);
                }
            }
        }

        return truths;
    }

    /// <summary>A connection for anti-entropy's pushes: introduced as the sync worker's are (REPORT_SERVER_ID, CHECKED_REPLICATION).</summary>
    private sealed class PeerPush : IAsyncDisposable
    {
        private readonly StorageState _ctx;
        private readonly PeerConnection _connection;

        private PeerPush(StorageState ctx, PeerConnection connection)
        {
            _ctx = ctx;
            _connection = connection;
        }

        public static async Task<PeerPush> OpenAsync(StorageState ctx, StorageBrief peer, CancellationToken stop)
        {
            var connectTimeout = TimeSpan.FromSeconds(ctx.Config.ConnectTimeout > 0 ? ctx.Config.ConnectTimeout : 10);
            var networkTimeout = TimeSpan.FromSeconds(ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30);
            var id = new byte[ProtocolConstants.StorageIdMaxSize];
            FixedString.Write(id, ctx.IdInGroup);
            for (int attempt = 0; ; attempt++)
            {
                var connection = await PeerConnection.ConnectAsync(peer.IpAddr, peer.Port, ctx.ClientBindAddress, connectTimeout, networkTimeout, stop, ctx.PeerKey)
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

        /// <summary>
        /// The whole file as it is now (an update: it overwrites); false when it is gone or our copy does not keep its name's
        /// promise. A file that changes in place and changed while it was being sent (size or mtime) is sent again, so the
        /// peer does not keep a torn copy.
        /// </summary>
        public async Task<bool> SendAsync(string logicName, string path, CancellationToken stop)
        {
            bool mutable = SyncPeerWorker.IsMutable(logicName);
            for (int attempt = 0; attempt < 3; attempt++)
            {
                SafeFileHandleSource? file;
                (long, DateTime) before;
                using (mutable ? await _ctx.FileLocks.AcquireAsync(logicName, stop).ConfigureAwait(false) : default)
                {
                    file = SafeFileHandleSource.TryOpen(path);
                    before = file is null ? default : (file.Length, File.GetLastWriteTimeUtc(file.Handle));
                }

                using (file)
                {
                    if (file is null)
                    {
                        return false;
                    }

                    byte status = await PushAsync(logicName, file, before.Item1, stop).ConfigureAwait(false);
                    if (status == Errno.EBADMSG)
                    {
                        _ctx.Integrity.PushRefused();
                        return false; // our copy does not keep its promise: the scrub's business
                    }

                    Expect(status, "SYNC_UPDATE_FILE");
                    if (!mutable || (RandomAccess.GetLength(file.Handle), File.GetLastWriteTimeUtc(file.Handle)) == before)
                    {
                        return true;
                    }
                }
            }

            return true;
        }

        private async Task<byte> PushAsync(string logicName, SafeFileHandleSource file, long size, CancellationToken stop)
        {
            bool metadata = logicName.EndsWith("-m", StringComparison.Ordinal);
            long timestamp = FileNameCodec.TryDecode(metadata ? logicName[..^2] : logicName, out var info) ? info.Timestamp : 0;
            int nameLength = FixedString.ByteCount(logicName);
            var fixedPart = new byte[8 + 8 + 4 + ProtocolConstants.GroupNameMaxLen + nameLength];
            BinaryPrimitives.WriteInt64BigEndian(fixedPart, nameLength);
            BinaryPrimitives.WriteInt64BigEndian(fixedPart.AsSpan(8), size);
            BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(16), (uint)timestamp);
            FixedString.Write(fixedPart.AsSpan(20, ProtocolConstants.GroupNameMaxLen), _ctx.GroupName);
            FixedString.Write(fixedPart.AsSpan(20 + ProtocolConstants.GroupNameMaxLen), logicName);
            return await _connection.RequestAsync(FdfsCommand.SyncUpdateFile, fixedPart, stop, file, 0, size).ConfigureAwait(false);
        }

        /// <param name="timestamp">the delete's own time (its binlog record): the peer takes it as how far it has synced from us.</param>
        public async Task DeleteAsync(string logicName, long timestamp, CancellationToken stop)
        {
            int nameLength = FixedString.ByteCount(logicName);
            var body = new byte[4 + ProtocolConstants.GroupNameMaxLen + nameLength];
            BinaryPrimitives.WriteUInt32BigEndian(body, (uint)timestamp);
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
