using System.IO.Hashing;
using System.Threading.Channels;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.Rebalance;

/// <summary>How a move runs (<c>fdfs rebalance</c>'s options).</summary>
/// <param name="Parallel">files copied at once</param>
/// <param name="Grace">how long after a batch's map entries its source copies are checked and deleted: a client that
/// asked a tracker where to change a file just before the entry may still send its change to the source group</param>
/// <param name="ReplicaTimeout">how long a copy may take to reach every ACTIVE member of the target group</param>
internal sealed record MoveSettings(string SourceGroup, string TargetGroup, int Parallel, TimeSpan Grace, TimeSpan ReplicaTimeout);

/// <summary>What a move did.</summary>
internal sealed record MoveSummary(int Moved, long Bytes, int Vanished, IReadOnlyList<(string Name, string Reason)> Failed, TimeSpan Elapsed);

/// <summary>
/// Moves the files of a journal's plan from one group to another under their logic names (docs/rebalancing.md), in the
/// crash-safe order: (1) IMPORT_FILE into a target member, and wait until every ACTIVE target member has it; (2) the
/// moved-files entry on every tracker (from then on the old ID reads and changes the target copy); (3) after a grace
/// period, bring over what changed in the source copy meanwhile (a delete, metadata), then delete the source copy.
/// Copies run in parallel; steps 1-3 run per batch of copied files. Killed at any point, every file stays readable under
/// its old ID, and the journal says where to resume.
/// </summary>
internal sealed class FileMover
{
    private const int BatchSize = 500;
    private const int BatchesInFlight = 8;
    private static readonly TimeSpan ReplicaPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MembersRefresh = TimeSpan.FromSeconds(2);

    private readonly FastDfsClient _client;
    private readonly MoveSettings _settings;
    private readonly RebalanceJournal _journal;
    private readonly TimeProvider _time;
    private readonly List<(string Name, string Reason)> _failed = [];
    private IReadOnlyList<StorageStat> _sourceMembers = [];
    private (List<StorageEndpoint> Members, long Asked) _targetMembers = ([], 0);
    private int _moved, _vanished, _nextTarget;
    private long _bytes;

    /// <summary>Where a file is in steps 1-3 when it reaches a batch.</summary>
    private enum Step
    {
        /// <summary>Just imported: to be awaited on every target member, then mapped.</summary>
        Copied,

        /// <summary>Its map entries were (being) sent before a restart: to be sent again, then checked.</summary>
        Mapping,

        /// <summary>Checked before a restart: only its source copy is left to delete.</summary>
        Checked,
    }

    /// <summary>A file in the target group on the way through steps 1-3.</summary>
    /// <param name="MetadataCrc32">the CRC32 of the metadata it was copied with (stock's packed form; 0: none)</param>
    private sealed record CopiedFile(string Name, long Size, Step Step, uint MetadataCrc32, StorageEndpoint Source);

    public FileMover(FastDfsClient client, MoveSettings settings, RebalanceJournal journal, TimeProvider time)
    {
        _client = client;
        _settings = settings;
        _journal = journal;
        _time = time;
    }

    /// <summary>Files moved so far (for progress reports, read from another thread).</summary>
    public int Moved => Volatile.Read(ref _moved);

    public long Bytes => Interlocked.Read(ref _bytes);

    public async Task<MoveSummary> RunAsync(CancellationToken ct)
    {
        long started = _time.GetTimestamp();
        _sourceMembers = await _client.Tracker.ListStoragesAsync(_settings.SourceGroup, ct: ct).ConfigureAwait(false);
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var copied = Channel.CreateBounded<CopiedFile>(new BoundedChannelOptions(BatchSize * BatchesInFlight) { SingleReader = true });
        var toCopy = Channel.CreateUnbounded<(string Name, long Size)>(new UnboundedChannelOptions { SingleWriter = true });
        foreach (var (name, size) in _journal.Planned)
        {
            if (!_journal.Done.Contains(name))
            {
                toCopy.Writer.TryWrite((name, size));
            }
        }

        toCopy.Writer.Complete();
        var copiers = Enumerable.Range(0, Math.Max(1, _settings.Parallel))
            .Select(_ => Task.Run(() => CopyAllAsync(toCopy.Reader, copied.Writer, failure.Token), failure.Token))
            .ToArray();
        var completeCopies = Task.WhenAll(copiers).ContinueWith(t => copied.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await FinishAllAsync(copied.Reader, failure.Token).ConfigureAwait(false);
            await Task.WhenAll(copiers).ConfigureAwait(false);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(copiers.Append(completeCopies)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        return new MoveSummary(_moved, _bytes, _vanished, _failed, _time.GetElapsedTime(started));
    }

    private async Task CopyAllAsync(ChannelReader<(string Name, long Size)> names, ChannelWriter<CopiedFile> copied, CancellationToken ct)
    {
        await foreach (var (name, size) in names.ReadAllAsync(ct).ConfigureAwait(false))
        {
            // Past step 1 before a restart: every target member has it (the map may name it); no copy again.
            var file = _journal.Checked.Contains(name) ? new CopiedFile(name, size, Step.Checked, 0, ResumedSourceMemberOf(name))
                : _journal.Mapping.TryGetValue(name, out uint metadataCrc) ? new CopiedFile(name, size, Step.Mapping, metadataCrc, ResumedSourceMemberOf(name))
                : await CopyAsync(name, ct).ConfigureAwait(false);
            if (file is not null)
            {
                await copied.WriteAsync(file, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Step 1's copy: the source member's file, with its metadata, imported into a target member; null when the
    /// file is gone from the source group (deleted since the plan) or cannot be moved (recorded).</summary>
    private async Task<CopiedFile?> CopyAsync(string name, CancellationToken ct)
    {
        var oldId = new FileId(_settings.SourceGroup, name);
        if (SourceMemberOf(name) is not { } sourceMember)
        {
            // Only the storage that created a file may delete it while it is a member (the others refuse): it must be up.
            Fail(name, $"the storage that created it ({FastDfsClient.DecodeName(oldId).Source}) is not ACTIVE in {_settings.SourceGroup}: left there");
            return null;
        }

        var source = _client.GetStorage(sourceMember);
        FileInfoResponse info;
        try
        {
            info = await source.QueryFileInfoAsync(oldId, ct: ct).ConfigureAwait(false);
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
        {
            Vanished(name);
            return null;
        }

        byte[] metadata = await MetadataOfAsync(source, oldId, ct).ConfigureAwait(false);
        var target = _client.GetStorage(await NextTargetMemberAsync(ct).ConfigureAwait(false));
        try
        {
            await using var content = await source.OpenReadAsync(oldId, ct: ct).ConfigureAwait(false);
            await target.ImportFileAsync(_settings.TargetGroup, _settings.SourceGroup, name, metadata, content, info.FileSize, info.Crc32, ct).ConfigureAwait(false);
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
        {
            Vanished(name);
            return null;
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode is Errno.EEXIST or Errno.EIO)
        {
            Fail(name, e.ErrorCode == Errno.EEXIST
                ? $"{_settings.TargetGroup} holds another file under this name: left in {_settings.SourceGroup}"
                : $"the copy did not match its CRC32 ({e.Message}): left in {_settings.SourceGroup}");
            return null;
        }

        return new CopiedFile(name, info.FileSize, Step.Copied, Crc32.HashToUInt32(metadata), sourceMember);
    }

    /// <summary>Groups copied files into batches and runs steps 1-3 for up to <see cref="BatchesInFlight"/> batches at once.</summary>
    private async Task FinishAllAsync(ChannelReader<CopiedFile> copied, CancellationToken ct)
    {
        // A failed batch stops the others (they are cancelled and awaited: none writes to the journal afterwards).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var running = new List<Task>();
        try
        {
            while (await copied.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                var batch = new List<CopiedFile>(BatchSize);
                while (batch.Count < BatchSize)
                {
                    if (copied.TryRead(out var file))
                    {
                        batch.Add(file);
                        continue;
                    }

                    // Let a few more copies finish into this batch rather than sending a map request per file.
                    if (copied.Completion.IsCompleted || !await WaitBrieflyAsync(copied, stop.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                if (running.Count >= BatchesInFlight)
                {
                    await Task.WhenAny(running).ConfigureAwait(false);
                }

                // Rethrows the failure of a finished batch, if any.
                await Task.WhenAll(running.Where(t => t.IsCompleted)).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(FinishBatchAsync(batch, stop.Token));
            }

            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<bool> WaitBrieflyAsync(ChannelReader<CopiedFile> copied, CancellationToken ct)
    {
        using var brief = CancellationTokenSource.CreateLinkedTokenSource(ct);
        brief.CancelAfter(TimeSpan.FromMilliseconds(50));
        try
        {
            return await copied.WaitToReadAsync(brief.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Steps 1 (the wait), 2 and 3 for a batch of copied files.</summary>
    private async Task FinishBatchAsync(List<CopiedFile> batch, CancellationToken ct)
    {
        var copied = batch.Where(f => f.Step == Step.Copied).ToList();
        var toMap = batch.Where(f => f.Step != Step.Checked).ToList();
        if (toMap.Count > 0)
        {
            await WaitOnEveryTargetMemberAsync(copied, ct).ConfigureAwait(false);
            _journal.MarkMapping(copied.Select(f => (f.Name, f.MetadataCrc32)));
            // On every tracker of the configuration, stopping at the first that refuses them (resumed files: again).
            await _client.Tracker.AddMovedFilesAsync(toMap.Select(f => new MovedFile(_settings.SourceGroup, f.Name, _settings.TargetGroup)).ToList(), ct)
                .ConfigureAwait(false);
            await Task.Delay(_settings.Grace, _time, ct).ConfigureAwait(false);
        }

        var present = new List<CopiedFile>(batch.Count);
        foreach (var file in batch)
        {
            if (file.Step == Step.Checked || await CarryOverAsync(file, ct).ConfigureAwait(false))
            {
                present.Add(file);
            }
        }

        _journal.MarkChecked(toMap.Select(f => f.Name));
        foreach (var file in present)
        {
            await DeleteIgnoringAbsentAsync(_client.GetStorage(file.Source), new FileId(_settings.SourceGroup, file.Name), ct).ConfigureAwait(false);
            Interlocked.Increment(ref _moved);
            Interlocked.Add(ref _bytes, file.Size);
        }

        _journal.MarkDone(batch.Select(f => f.Name));
    }

    /// <summary>
    /// Step 3's check for one file: what reached the source copy since it was copied goes to the target copy (a delete, a
    /// metadata change; normal and slave files change no other way). Only the mover deletes a source copy, after this
    /// check is on the journal, so a missing one was deleted by a client. false: deleted (the target copy too).
    /// </summary>
    private async Task<bool> CarryOverAsync(CopiedFile file, CancellationToken ct)
    {
        var oldId = new FileId(_settings.SourceGroup, file.Name);
        var source = _client.GetStorage(file.Source);
        try
        {
            await source.QueryFileInfoAsync(oldId, skipCrc: true, ct).ConfigureAwait(false);
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
        {
            // Deleted through the old ID before every tracker had the entry: delete the copy too, or the file would come back.
            var target = await _client.Tracker.QueryUpdateAsync(oldId, ct).ConfigureAwait(false);
            await DeleteIgnoringAbsentAsync(_client.GetStorage(target), oldId, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _vanished);
            return false;
        }

        byte[] metadata = await MetadataOfAsync(source, oldId, ct).ConfigureAwait(false);
        if (Crc32.HashToUInt32(metadata) != file.MetadataCrc32)
        {
            var target = await _client.Tracker.QueryUpdateAsync(oldId, ct).ConfigureAwait(false);
            await _client.GetStorage(target).SetMetadataAsync(oldId, MetadataCodec.Parse(metadata), MetadataOp.Overwrite, ct).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Polls every ACTIVE member of the target group until each holds each file with its size and metadata.</summary>
    private async Task WaitOnEveryTargetMemberAsync(List<CopiedFile> files, CancellationToken ct)
    {
        if (files.Count == 0)
        {
            return;
        }

        long deadline = _time.GetTimestamp() + (long)(_settings.ReplicaTimeout.TotalSeconds * _time.TimestampFrequency);
        var members = await ActiveTargetMembersAsync(ct).ConfigureAwait(false);
        if (members.Count == 0)
        {
            throw new FastDfsException(Errno.ENOENT, $"no ACTIVE storage in {_settings.TargetGroup}");
        }

        foreach (var member in members)
        {
            var storage = _client.GetStorage(member);
            foreach (var file in files)
            {
                var newId = new FileId(_settings.TargetGroup, file.Name);
                while (true)
                {
                    try
                    {
                        var info = await storage.QueryFileInfoAsync(newId, skipCrc: true, ct).ConfigureAwait(false);
                        if (info.FileSize == file.Size && (file.MetadataCrc32 == 0 ||
                                                           Crc32.HashToUInt32(await MetadataOfAsync(storage, newId, ct).ConfigureAwait(false)) == file.MetadataCrc32))
                        {
                            break;
                        }
                    }
                    catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
                    {
                    }

                    if (_time.GetTimestamp() > deadline)
                    {
                        throw new FastDfsException(Errno.ETIMEDOUT,
                            $"{newId} did not reach {member.Ip}:{member.Port} within {_settings.ReplicaTimeout.TotalSeconds:0} s (is its replication stuck?)");
                    }

                    await Task.Delay(ReplicaPoll, _time, ct).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The source-group member to read and delete a file on: the one that created it (its address or id is in the
    /// name; the others refuse to change the file while it is a member); null when it is not ACTIVE.</summary>
    private StorageEndpoint? SourceMemberOf(string name)
    {
        var decoded = FastDfsClient.DecodeName(new FileId(_settings.SourceGroup, name));
        var member = _sourceMembers.FirstOrDefault(m => m.Status == StorageStatus.Active &&
                                                        (decoded.SourceIsStorageId ? m.Id == decoded.Source : m.IpAddr == decoded.Source));
        return member is null ? null : new StorageEndpoint(member.IpAddr, (int)member.StoragePort);
    }

    /// <summary>As <see cref="SourceMemberOf"/> for a file past its copy: without its creator the move cannot go on.</summary>
    private StorageEndpoint ResumedSourceMemberOf(string name) => SourceMemberOf(name)
        ?? throw new FastDfsException(Errno.EAGAIN,
            $"{_settings.SourceGroup}/{name}: the storage that created it is not ACTIVE; run the move again once it is");

    /// <summary>The target group's ACTIVE members in turn (asked of a tracker again after <see cref="MembersRefresh"/>).</summary>
    private async Task<StorageEndpoint> NextTargetMemberAsync(CancellationToken ct)
    {
        var (members, asked) = _targetMembers;
        if (members.Count == 0 || _time.GetElapsedTime(asked) > MembersRefresh)
        {
            members = await ActiveTargetMembersAsync(ct).ConfigureAwait(false);
            if (members.Count == 0)
            {
                throw new FastDfsException(Errno.ENOENT, $"no ACTIVE storage in {_settings.TargetGroup}");
            }

            _targetMembers = (members, _time.GetTimestamp());
        }

        return members[(int)((uint)Interlocked.Increment(ref _nextTarget) % members.Count)];
    }

    private async Task<List<StorageEndpoint>> ActiveTargetMembersAsync(CancellationToken ct) =>
        (await _client.Tracker.ListStoragesAsync(_settings.TargetGroup, ct: ct).ConfigureAwait(false))
        .Where(m => m.Status == StorageStatus.Active)
        .Select(m => new StorageEndpoint(m.IpAddr, (int)m.StoragePort))
        .ToList();

    /// <summary>The file's metadata in stock's packed form (empty: none).</summary>
    private static async Task<byte[]> MetadataOfAsync(StorageClient storage, FileId id, CancellationToken ct)
    {
        try
        {
            var items = await storage.GetMetadataAsync(id, ct).ConfigureAwait(false);
            return items.Count == 0 ? [] : MetadataCodec.Pack(items);
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
        {
            return [];
        }
    }

    private static async Task DeleteIgnoringAbsentAsync(StorageClient storage, FileId id, CancellationToken ct)
    {
        try
        {
            await storage.DeleteAsync(id, ct).ConfigureAwait(false);
        }
        catch (FastDfsException e) when (e.IsServerError && e.ErrorCode == Errno.ENOENT)
        {
        }
    }

    private void Vanished(string name)
    {
        Interlocked.Increment(ref _vanished);
        _journal.MarkDone([name]);
    }

    private void Fail(string name, string reason)
    {
        lock (_failed)
        {
            _failed.Add((name, reason));
        }
    }
}
