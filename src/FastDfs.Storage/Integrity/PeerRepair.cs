using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// Replaces a damaged or missing copy with a peer's copy, but only with one that keeps its name's promise (size and
/// CRC32): a good copy is never overwritten by a bad one. The peer's bytes go to a temporary file, are verified, then
/// renamed over the damaged file (or written into the trunk slot).
/// </summary>
internal sealed class PeerRepair(StorageState ctx, Trunk.TrunkStore trunk, ILogger logger)
{
    /// <summary>The group's other members a copy can be fetched from: ACTIVE ones first, then any that is up.</summary>
    private IEnumerable<StorageBrief> Peers()
    {
        var servers = ctx.Group.Servers;
        string myId = ctx.IdInGroup;
        bool IsSelf(StorageBrief b) => b.Id == myId || (b.IpAddr == ctx.SourceIp && b.Port == ctx.Port);
        return servers.Where(b => !IsSelf(b) && b.Status == StorageStatus.Active)
            .Concat(servers.Where(b => !IsSelf(b) && b.Status is StorageStatus.Online or StorageStatus.Syncing));
    }

    /// <summary>A client for talking to peers directly (no pool: repairs and comparisons are rare).</summary>
    public FastDfsClient NewClient() => new(new FastDfsClientOptions
    {
        Trackers = ctx.Config.TrackerServers.Select(t => new FastDfsEndpoint(t.Host, t.Port)).ToList(),
        ConnectTimeout = TimeSpan.FromSeconds(ctx.Config.ConnectTimeout > 0 ? ctx.Config.ConnectTimeout : 10),
        NetworkTimeout = TimeSpan.FromSeconds(ctx.Config.NetworkTimeout > 0 ? ctx.Config.NetworkTimeout : 30),
        UseConnectionPool = false,
    });

    /// <summary>
    /// Fetches <paramref name="logicName"/> from the first peer whose copy verifies into a temporary file next to
    /// <paramref name="nearPath"/>; returns its path (the caller moves it into place or deletes it), or null when no
    /// peer has a good copy.
    /// </summary>
    public async Task<string?> FetchVerifiedAsync(string logicName, string nearPath, CancellationToken cancellationToken)
    {
        bool promised = NameChecksum.TryGetExpected(logicName, out _, out _);
        await using var client = NewClient();
        foreach (var peer in Peers())
        {
            string temp = Path.Combine(Path.GetDirectoryName(nearPath)!, $".repair-{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
                {
                    await client.GetStorage(new StorageEndpoint(peer.IpAddr, peer.Port))
                        .DownloadAsync(new FileId(ctx.GroupName, logicName), file, ct: cancellationToken).ConfigureAwait(false);
                }

                if (!promised || await ContentChecksum.FileMatchesNameAsync(logicName, temp, cancellationToken).ConfigureAwait(false) == true)
                {
                    return temp;
                }

                logger.LogWarning("repairing {Name}: the copy on {Peer} does not match its name either", logicName, peer.Id);
            }
            catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
            {
                logger.LogDebug("repairing {Name}: {Peer} does not have it", logicName, peer.Id);
            }
            catch (Exception e) when (e is FastDfsException or IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("repairing {Name}: fetching it from {Peer} failed: {Message}", logicName, peer.Id, e.Message);
            }

            TryDelete(temp);
        }

        return null;
    }

    /// <summary>What a repair of one file came to.</summary>
    public enum Outcome
    {
        Repaired,

        /// <summary>No peer has a copy that keeps the name's promise.</summary>
        NoGoodCopy,

        /// <summary>The file was deleted (or appeared) meanwhile: nothing to do.</summary>
        Changed,
    }

    /// <summary>
    /// Puts a verified peer copy of <paramref name="logicName"/> at <paramref name="fullPath"/>: over a damaged file
    /// (<paramref name="replace"/>), or where a file was lost. Under the file's lock, and only if the file is still
    /// damaged-and-present (or still absent): a file deleted meanwhile is not brought back.
    /// </summary>
    public async Task<Outcome> RepairFileAsync(string logicName, string fullPath, long mtime, bool replace, CancellationToken cancellationToken)
    {
        string? good = await FetchVerifiedAsync(logicName, fullPath, cancellationToken).ConfigureAwait(false);
        if (good is null)
        {
            return Outcome.NoGoodCopy;
        }

        try
        {
            using (await ctx.FileLocks.AcquireAsync(logicName, cancellationToken).ConfigureAwait(false))
            {
                if (File.Exists(fullPath) != replace)
                {
                    return Outcome.Changed;
                }

                File.SetLastWriteTimeUtc(good, DateTime.UnixEpoch.AddSeconds(mtime));
                File.Move(good, fullPath, overwrite: true);
                good = null;
                return Outcome.Repaired;
            }
        }
        finally
        {
            if (good is not null)
            {
                TryDelete(good);
            }
        }
    }

    /// <summary>
    /// Replaces our copy of a file that changes in place (appender, metadata) with the copy most members hold: fetched from
    /// a peer and taken only if it is still that copy (its size and CRC32), under the file's lock.
    /// </summary>
    public async Task<Outcome> RepairMutableAsync(string logicName, string fullPath, ListedFile majority, CancellationToken cancellationToken)
    {
        await using var client = NewClient();
        foreach (var peer in Peers())
        {
            string temp = Path.Combine(Path.GetDirectoryName(fullPath)!, $".repair-{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
                {
                    await client.GetStorage(new StorageEndpoint(peer.IpAddr, peer.Port))
                        .DownloadAsync(new FileId(ctx.GroupName, logicName), file, ct: cancellationToken).ConfigureAwait(false);
                }

                var fetched = await FileLister.DescribeAsync(logicName, temp, ListFilesOptions.Crc32, null, cancellationToken).ConfigureAwait(false);
                if (fetched is { HasCrc32: true } f && f.Size == majority.Size && f.Crc32 == majority.Crc32)
                {
                    using (await ctx.FileLocks.AcquireAsync(logicName, cancellationToken).ConfigureAwait(false))
                    {
                        if (!File.Exists(fullPath))
                        {
                            return Outcome.Changed;
                        }

                        File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(fullPath));
                        File.Move(temp, fullPath, overwrite: true);
                        return Outcome.Repaired;
                    }
                }
            }
            catch (Exception e) when (e is FastDfsException or IOException or UnauthorizedAccessException)
            {
                logger.LogDebug("repairing {Name} from {Peer}: {Message}", logicName, peer.Id, e.Message);
            }
            finally
            {
                TryDelete(temp);
            }
        }

        return Outcome.NoGoodCopy;
    }

    /// <summary>Rewrites the data of the trunk-stored <paramref name="logicName"/> with a verified peer copy.</summary>
    public async Task<bool> RepairTrunkSlotAsync(string logicName, CancellationToken cancellationToken)
    {
        // Next to the trunk file: a temporary file a crash leaves there is swept like an upload's.
        string near = trunk.Files.FullPath(Trunk.TrunkBlock.FromName(FileNameCodec.Decode(logicName)).File);
        string? good = await FetchVerifiedAsync(logicName, near, cancellationToken).ConfigureAwait(false);
        if (good is null)
        {
            return false;
        }

        try
        {
            return trunk.RewriteSlotData(logicName, good);
        }
        finally
        {
            TryDelete(good);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("removing {Path} failed: {Message}", path, e.Message);
        }
    }
}
