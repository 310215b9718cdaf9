using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Session;

/// <summary>
/// FastDFS.NET's integrity commands: INTEGRITY_STATUS (242, <see cref="IntegrityQuery"/>), SCRUB_START (243,
/// <see cref="ScrubStart"/>) and LIST_FILES (244, <see cref="ListFiles"/>).
/// </summary>
internal sealed partial class StorageSession
{
    /// <summary>A page is kept under about 200 KB.</summary>
    private const int ListPageLimit = 2000;

    private async ValueTask<byte> ListFilesAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 5).ConfigureAwait(false);
        var (group, options, max, prefix, cursor) = ListFiles.ParseRequest(body.Span);
        if (group != _ctx.GroupName)
        {
            throw new ProtocolException("group name is not ours");
        }

        if (!_ctx.Lister.TryParseScope(prefix, out var scope))
        {
            throw new ProtocolException($"LIST_FILES prefix '{prefix}' names no store path or sub-directory here");
        }

        var (files, next) = await _ctx.Lister.PageAsync(scope, cursor, Math.Min(max, ListPageLimit), options, null, Token).ConfigureAwait(false);
        _output.WriteResponse(ListFiles.Response(files, next));
        return Errno.Ok;
    }

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
