using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Session;

/// <summary>FastDFS.NET's TRUNK_SPACE query (<see cref="TrunkSpaceQuery"/>): this storage's trunk figures, for the monitor.</summary>
internal sealed partial class StorageSession
{
    private byte ReplyTrunkSpace(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            return Errno.EINVAL;
        }

        if (!_ctx.Trunk.Settings.UseTrunkFile)
        {
            return Errno.ENOENT;
        }

        var stats = _ctx.TrunkStats;
        Span<byte> body = stackalloc byte[TrunkSpaceQuery.ResponseSize];
        TrunkSpaceQuery.WriteResponse(body, new TrunkSpace(
            stats.TrunkFileCount, stats.TotalBytes, stats.UsedBytes, stats.FreeBytes, stats.ReclaimableBytes, stats.ReclaimedBytes));
        _output.WriteResponse(body);
        return Errno.Ok;
    }
}
