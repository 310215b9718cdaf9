using FastDfs.Protocol;
using FastDfs.Storage.Binlog;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>
/// DELETE_FILE (12), spec 5.4: the file, a symlinked slave's target, then the metadata file. A file moved here from another
/// group may be named with that group (<see cref="CheckGroupOfStoredFile"/>): it is deleted and logged as any other, and
/// the record replicates by logic name alone.
/// </summary>
internal sealed partial class StorageSession
{
    private async ValueTask<byte> DeleteAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 1).ConfigureAwait(false);
        string name = FixedString.ReadCString(body.Span[ProtocolConstants.GroupNameMaxLen..]);
        CheckGroupOfStoredFile(body.Span[..ProtocolConstants.GroupNameMaxLen], name);
        var target = Resolve(name);
        if (_ctx.Trunk.IsTrunkName(target.LogicName, out _))
        {
            return await DeleteTrunkAsync(target.LogicName, target.FullPath).ConfigureAwait(false);
        }

        Count(C.TotalDeleteCount);
        if (!EntryExists(target.FullPath, out bool isDirectory, out bool isLink))
        {
            return Errno.ENOENT;
        }

        if (Protocol.FileIds.FileNameCodec.TryDecode(target.LogicName, out var nameInfo))
        {
            // Deletes too happen on the source while it is in the group: a delete made elsewhere while the source is down
            // could be undone by the source's anti-entropy before the delete's record reached it.
            EnsureSingleWriter(target.LogicName, nameInfo);
        }

        if (isDirectory)
        {
            throw new ProtocolException("delete target is not a regular file");
        }

        long now = _ctx.Now;
        // A file being changed (appender) or repaired right now, or its metadata, is deleted after that, not in its middle.
        using (await _ctx.FileLocks.AcquireAsync(target.LogicName, Token).ConfigureAwait(false))
        using (await _ctx.FileLocks.AcquireAsync(target.LogicName + MetadataSuffix, Token).ConfigureAwait(false))
        {
            // Each record before its delete: a crash in between leaves a file the binlog says is deleted, which
            // anti-entropy deletes (the other way round, the peers would keep the file for good).
            if (isLink && new FileInfo(target.FullPath).ResolveLinkTarget(returnFinalTarget: false) is { } linked)
            {
                string? linkedName = LogicNameOf(linked.FullName);
                if (linked.Exists)
                {
                    if (linkedName is not null)
                    {
                        LogSource(now, BinlogOp.Delete, linkedName);
                    }

                    File.Delete(linked.FullName);
                }
            }

            LogSource(now, BinlogOp.Delete, target.LogicName);
            File.Delete(target.FullPath);
            string metaPath = target.FullPath + MetadataSuffix;
            if (File.Exists(metaPath))
            {
                LogSource(now, BinlogOp.Delete, target.LogicName + MetadataSuffix);
                File.Delete(metaPath);
            }
        }

        Count(C.SuccessDeleteCount);
        _ctx.Counters[C.LastSourceUpdate] = now;
        if (await AwaitReplicasAsync().ConfigureAwait(false) is var ack && ack != Errno.Ok)
        {
            return ack;
        }

        return ReplyEmpty();
    }

    /// <summary>Maps a full path under one of our store paths back to its logic name, or null.</summary>
    private string? LogicNameOf(string fullPath)
    {
        foreach (var path in _ctx.Paths.All)
        {
            string prefix = path.DataDirectory + Path.DirectorySeparatorChar;
            if (fullPath.StartsWith(prefix, StringComparison.Ordinal))
            {
                return $"M{path.Index:X2}/" + fullPath[prefix.Length..].Replace(Path.DirectorySeparatorChar, '/');
            }
        }

        return null;
    }
}
