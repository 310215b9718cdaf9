using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Session;

/// <summary>FastDFS.NET's integrity commands: INTEGRITY_STATUS (242, <see cref="IntegrityQuery"/>) and SCRUB_START (243, <see cref="ScrubStart"/>).</summary>
internal sealed partial class StorageSession
{
    private byte ReplyIntegrityStatus(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            return Errno.EINVAL;
        }

        _output.WriteResponse(_ctx.DescribeIntegrity().ToArray());
        return Errno.Ok;
    }

    private async ValueTask<byte> StartScrubAsync(PacketHeader request)
    {
        if (request.BodyLength != ScrubStart.RequestSize)
        {
            return Errno.EINVAL;
        }

        var body = await ReadBodyAsync(ScrubStart.RequestSize).ConfigureAwait(false);
        long rate = BinaryPrimitives.ReadInt64BigEndian(body.Span);
        long pass = _ctx.Scrubber.RequestPass(rate);
        Span<byte> reply = stackalloc byte[ScrubStart.ResponseSize];
        BinaryPrimitives.WriteInt64BigEndian(reply, pass);
        _output.WriteResponse(reply);
        return Errno.Ok;
    }
}
