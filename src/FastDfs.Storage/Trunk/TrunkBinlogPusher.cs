using System.Globalization;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The trunk server pushes its trunk binlog to every other member of the group (spec 7.9, 13), so that whoever is
/// named trunk server next rebuilds the same free space: per peer, TRUNK_TRUNCATE_BINLOG_FILE (33) the first time,
/// then TRUNK_SYNC_BINLOG (30) with the raw lines from the peer's offset, kept in <c>data/trunk/&lt;ip&gt;_&lt;port&gt;.mark</c>
/// (<c>binlog_offset=N</c>, stock's key). Runs only while this storage allocates as trunk server.
/// </summary>
internal sealed class TrunkBinlogPusher(StorageContext ctx, ILogger logger)
{
    private const int ChunkSize = 64 * 1024;
    private const string MarkSuffix = ".mark";

    private readonly Dictionary<string, TrunkPeerConnection> _connections = [];

    /// <summary>A new trunk server term starts from scratch for every peer (as stock's TRUNK_DELETE_BINLOG_MARKS).</summary>
    public static void ForgetMarks(string trunkDirectory)
    {
        if (!Directory.Exists(trunkDirectory))
        {
            return;
        }

        foreach (var mark in Directory.EnumerateFiles(trunkDirectory, "*" + MarkSuffix))
        {
            File.Delete(mark);
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                bool trunkServer = ctx.Parameters.Trunk.UseTrunkFile && ctx.Trunk.Locator.Resolve() == TrunkServerRole.Self;
                if (trunkServer)
                {
                    // Compaction runs here, between pushes: no push reads the binlog while it is replaced.
                    var now = ctx.Clock.GetLocalNow().DateTime;
                    ctx.Trunk.CompactIfDue(now);
                    ctx.Trunk.CreateAheadIfDue(now);
                    await PushAllAsync(stop).ConfigureAwait(false);
                }
                else
                {
                    await CloseAllAsync().ConfigureAwait(false);
                }

                // Only the trunk server pushes; the others look again once a second (no wake-up every
                // sync_wait_msec on a storage that has nothing to push).
                int waitMs = trunkServer ? Math.Clamp(ctx.Config.SyncWaitMsec, 20, 1000) : 1000;
                await Task.Delay(TimeSpan.FromMilliseconds(waitMs), ctx.Clock, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await CloseAllAsync().ConfigureAwait(false);
        }
    }

    private async Task PushAllAsync(CancellationToken stop)
    {
        var manager = ctx.Trunk.Manager; // a new term rewrites the marks before anything is pushed
        bool everyMemberCaughtUp = true;
        foreach (var peer in ctx.Group.Servers)
        {
            if (!IsSelf(peer) && peer.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged) &&
                !File.Exists(MarkPath(peer)))
            {
                everyMemberCaughtUp = false;
            }

            if (IsSelf(peer) || peer.Status is not (StorageStatus.Active or StorageStatus.Online or StorageStatus.Syncing or StorageStatus.WaitSync))
            {
                continue;
            }

            string key = string.Create(CultureInfo.InvariantCulture, $"{peer.IpAddr}_{peer.Port}");
            try
            {
                await PushToAsync(key, peer, stop).ConfigureAwait(false);
            }
            catch (ProtocolException e) when (e.Status == Errno.EAGAIN)
            {
                // The member still has files of the previous term to send us (TRUNK_TRUNCATE_BINLOG_FILE refused).
                logger.LogDebug("trunk binlog push to {Peer}: {Message}", key, e.Message);
            }
            catch (Exception e) when (e is IOException or SocketException or ProtocolException || (e is OperationCanceledException && !stop.IsCancellationRequested))
            {
                logger.LogDebug("trunk binlog push to {Peer}: {Message}", key, e.Message);
                if (_connections.Remove(key, out var broken))
                {
                    await broken.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        // Every member has accepted this term's TRUNK_TRUNCATE_BINLOG_FILE, which it does only once its file sync to us
        // has caught up: every file of the previous term has reached us and its slot is claimed here.
        if (everyMemberCaughtUp && manager.InQuarantine && ReferenceEquals(manager, ctx.Trunk.Manager))
        {
            manager.LiftQuarantine();
        }
    }

    private string MarkPath(StorageBrief peer) =>
        Path.Combine(ctx.Trunk.Binlog.Directory, string.Create(CultureInfo.InvariantCulture, $"{peer.IpAddr}_{peer.Port}") + MarkSuffix);

    private async Task PushToAsync(string key, StorageBrief peer, CancellationToken stop)
    {
        var binlog = ctx.Trunk.Binlog;
        string markPath = MarkPath(peer);
        long? offset = ReadMark(markPath);
        if (offset is { } known && known >= binlog.Length)
        {
            return;
        }

        if (!_connections.TryGetValue(key, out var connection))
        {
            connection = await TrunkPeerConnection.ConnectAsync(peer.IpAddr, peer.Port, ctx.ClientBindAddress,
                TimeSpan.FromSeconds(Math.Max(1, ctx.Config.ConnectTimeout)), TimeSpan.FromSeconds(Math.Max(1, ctx.Config.NetworkTimeout)), stop, ctx.PeerKey).ConfigureAwait(false);
            _connections[key] = connection;
        }

        if (offset is null)
        {
            Check(await connection.RequestAsync(FdfsCommand.TrunkTruncateBinlogFile, default, stop).ConfigureAwait(false), "TRUNK_TRUNCATE_BINLOG_FILE");
            offset = 0;
            WriteMark(markPath, 0);
        }

        while (true)
        {
            var chunk = binlog.ReadRaw(offset.Value, ChunkSize);
            if (chunk.Length == 0)
            {
                return;
            }

            Check(await connection.RequestAsync(FdfsCommand.TrunkSyncBinlog, chunk, stop).ConfigureAwait(false), "TRUNK_SYNC_BINLOG");
            offset += chunk.Length;
            WriteMark(markPath, offset.Value);
            if (ctx.Config.SyncInterval > 0)
            {
                // sync_interval paces the trunk binlog push as it paces the file sync (stock's trunk sync thread too).
                await Task.Delay(TimeSpan.FromMilliseconds(ctx.Config.SyncInterval), ctx.Clock, stop).ConfigureAwait(false);
            }
        }
    }

    private static void Check((byte Status, byte[] Body) reply, string what)
    {
        if (reply.Status != Errno.Ok)
        {
            throw new ProtocolException($"{what} answered {Errno.Describe(reply.Status)}", reply.Status);
        }
    }

    private static long? ReadMark(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            if (line.StartsWith("binlog_offset=", StringComparison.Ordinal) &&
                long.TryParse(line.AsSpan("binlog_offset=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                return value;
            }
        }

        return null;
    }

    private static void WriteMark(string path, long offset)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, string.Create(CultureInfo.InvariantCulture, $"binlog_offset={offset}\n"));
        File.Move(temp, path, overwrite: true);
    }

    private bool IsSelf(StorageBrief brief) =>
        (brief.IpAddr == ctx.SourceIp || brief.Id == ctx.MyId) && (brief.Port == ctx.Port || brief.Port == 0);

    private async Task CloseAllAsync()
    {
        foreach (var connection in _connections.Values)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _connections.Clear();
    }
}
