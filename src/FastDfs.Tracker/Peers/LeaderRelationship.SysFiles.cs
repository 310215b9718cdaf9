using FastDfs.Protocol;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Peers;

/// <summary>An empty tracker copies the state files from a peer before its first storage join (spec 8, 14.3).</summary>
internal sealed partial class LeaderRelationship
{
    private readonly SemaphoreSlim _stateGate = new(1, 1);
    private volatile bool _stateSettled;

    /// <summary>Marks the state as known (loaded from disk at start): nothing to copy.</summary>
    public void StateLoaded() => _stateSettled = true;

    /// <summary>
    /// Before the first JOIN of an empty tracker: ask the other trackers for their status and copy the sys files
    /// (GET_SYS_FILES_START, GET_ONE_SYS_FILE per file and offset, GET_SYS_FILES_END) from one that has data.
    /// false when a listed tracker cannot be reached and none has data (the JOIN is answered EAGAIN).
    /// </summary>
    public async Task<bool> EnsureStateAsync(CancellationToken ct)
    {
        if (_stateSettled)
        {
            return true;
        }

        await _stateGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_stateSettled)
            {
                return true;
            }

            if (_cluster.HasGroups)
            {
                _stateSettled = true;
                return true;
            }

            bool anyUnreachable = false;
            foreach (var peer in _peers.Others)
            {
                try
                {
                    await using var connection = await PeerConnection.ConnectAsync(peer, ConnectTimeout, NetworkTimeout, ct, _bindAddress, _peerKey).ConfigureAwait(false);
                    var (status, _) = await connection.RequestAsync(FdfsCommand.TrackerGetStatus, default, ct).ConfigureAwait(false);
                    if (status != Errno.Ok)
                    {
                        continue; // ENOENT: that tracker has no data either.
                    }

                    var files = await CopySysFilesAsync(connection, ct).ConfigureAwait(false);
                    // Both copied before either is installed: a tracker that settled without the map would send the
                    // reads of moved files to groups that no longer hold them, for good.
                    byte[] movedFiles = await CopyMovedFilesAsync(peer, ct).ConfigureAwait(false);
                    dataStore.InstallFromPeer(files, _cluster);
                    dataStore.MovedFiles.InstallFromPeer(movedFiles, _cluster.MovedFiles);
                    logger.LogInformation("copied the tracker state files and {Count} moved files from {Peer}", _cluster.MovedFiles.Count, peer);
                    _stateSettled = true;
                    return true;
                }
                catch (Exception e) when (e is IOException or ProtocolException && !ct.IsCancellationRequested)
                {
                    logger.LogInformation("cannot get the state of tracker {Peer}: {Message}", peer, e.Message);
                    anyUnreachable = true;
                }
            }

            if (anyUnreachable)
            {
                return false;
            }

            _stateSettled = true;
            return true;
        }
        finally
        {
            _stateGate.Release();
        }
    }

    /// <summary>
    /// The peer's moved-files map (moved_files.dat), on a connection of its own; empty from a stock tracker, which answers
    /// EINVAL for the index. Any other failure throws, and the copy is tried again (the state is not settled without it).
    /// </summary>
    private async Task<byte[]> CopyMovedFilesAsync(TrackerPeer peer, CancellationToken ct)
    {
        await using var connection = await PeerConnection.ConnectAsync(peer, ConnectTimeout, NetworkTimeout, ct, _bindAddress, _peerKey).ConfigureAwait(false);
        try
        {
            return await CopyOneSysFileAsync(connection, Persistence.TrackerStateFormat.MovedFilesIndex, ct).ConfigureAwait(false);
        }
        catch (ProtocolException e) when (e.Status == Errno.EINVAL)
        {
            logger.LogInformation("tracker {Peer} keeps no moved-files map (a stock tracker)", peer);
            return [];
        }
    }

    /// <summary>GET_ONE_SYS_FILE from offset 0 until the file's size is reached.</summary>
    private static async Task<byte[]> CopyOneSysFileAsync(PeerConnection connection, int index, CancellationToken ct)
    {
        var request = new byte[9];
        using var content = new MemoryStream();
        long size;
        do
        {
            var w = new SpanWriter(request);
            w.WriteByte((byte)index);
            w.WriteInt64(content.Length);
            var (status, body) = await connection.RequestAsync(FdfsCommand.TrackerGetOneSysFile, request, ct).ConfigureAwait(false);
            if (status != Errno.Ok || body.Length < 8)
            {
                throw new ProtocolException($"GET_ONE_SYS_FILE {index}: {Errno.Describe(status)}", status);
            }

            size = new SpanReader(body).ReadInt64();
            if (body.Length == 8 && content.Length < size)
            {
                throw new ProtocolException($"GET_ONE_SYS_FILE {index}: empty chunk before the end");
            }

            content.Write(body, 8, body.Length - 8);
        }
        while (content.Length < size);

        return content.ToArray();
    }

    private static async Task<List<byte[]>> CopySysFilesAsync(PeerConnection connection, CancellationToken ct)
    {
        var (startStatus, _) = await connection.RequestAsync(FdfsCommand.TrackerGetSysFilesStart, default, ct).ConfigureAwait(false);
        if (startStatus != Errno.Ok)
        {
            throw new ProtocolException($"GET_SYS_FILES_START: {Errno.Describe(startStatus)}", startStatus);
        }

        try
        {
            var files = new List<byte[]>();
            for (int index = 0; index < Persistence.TrackerStateFormat.SysFiles.Length; index++)
            {
                files.Add(await CopyOneSysFileAsync(connection, index, ct).ConfigureAwait(false));
            }

            return files;
        }
        finally
        {
            await connection.RequestAsync(FdfsCommand.TrackerGetSysFilesEnd, default, ct).ConfigureAwait(false);
        }
    }
}
