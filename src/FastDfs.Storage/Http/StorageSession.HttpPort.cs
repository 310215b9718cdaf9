using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Session;

/// <summary>FastDFS.NET's HTTP_PORT query (<see cref="HttpPortQuery"/>): our built-in HTTP port, 0 when off.</summary>
internal sealed partial class StorageSession
{
    private byte ReplyHttpPort(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            return Errno.EINVAL;
        }

        Span<byte> body = stackalloc byte[HttpPortQuery.ResponseSize];
        HttpPortQuery.WriteResponse(body, _ctx.HttpPort);
        _output.WriteResponse(body);
        return Errno.Ok;
    }
}
