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

    /// <summary>
    /// The administration commands reveal every file id (a listing) or load the disk (a scrub): group members, the
    /// trackers and <c>admin_hosts</c> only.
    /// </summary>
    private bool CallerMayAdminister()
    {
        if (RemoteAddress is not { } remote)
        {
            return false;
        }

        var address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return CallerIsGroupMember() || _ctx.TrackerAddresses.Contains(address) || _ctx.AdminHosts.Allows(address);
    }

    private async ValueTask<byte> ListFilesAsync(PacketHeader request)
    {
        if (!CallerMayAdminister())
        {
            return Errno.EPERM;
        }

        var body = await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 5).ConfigureAwait(false);
        var (group, options, max, prefix, cursor) = ListFiles.ParseRequest(body.Span);
        if (group != _ctx.GroupName)
        {
            throw new ProtocolException("group name is not ours");
        }

        if (options.HasFlag(ListFilesOptions.TrunkStored))
        {
            if (prefix.Length > 0 && !_ctx.Lister.TryParseScope(prefix, out _))
            {
                throw new ProtocolException($"LIST_FILES prefix '{prefix}' names no store path or sub-directory here");
            }

            var (stored, after) = new Integrity.TrunkFileLister(_ctx.State, _ctx.Trunk, _logger).Page(prefix, cursor, Math.Min(max, ListPageLimit), Token);
            _output.WriteResponse(ListFiles.Response(stored, after));
            return Errno.Ok;
        }

        if (!_ctx.Lister.TryParseScope(prefix, out var scope))
        {
            throw new ProtocolException($"LIST_FILES prefix '{prefix}' names no store path or sub-directory here");
        }

        var throttle = options.HasFlag(ListFilesOptions.Throttled) ? new Integrity.ReadThrottle(_ctx.Config.ScrubRate) : null;
        var (files, next) = await _ctx.Lister.PageAsync(scope, cursor, Math.Min(max, ListPageLimit), options, throttle is null ? null : throttle.WaitAsync, Token)
            .ConfigureAwait(false);
        _output.WriteResponse(ListFiles.Response(files, next));
        return Errno.Ok;
    }

    private byte ReplyIntegrityStatus(PacketHeader request)
    {
        if (request.BodyLength != 0)
        {
            return Errno.EINVAL;
        }

        if (!CallerMayAdminister())
        {
            return Errno.EPERM;
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
        if (!CallerMayAdminister())
        {
            return Errno.EPERM;
        }

        long rate = BinaryPrimitives.ReadInt64BigEndian(body.Span);
        long pass = _ctx.Scrubber.RequestPass(rate);
        Span<byte> reply = stackalloc byte[ScrubStart.ResponseSize];
        BinaryPrimitives.WriteInt64BigEndian(reply, pass);
        _output.WriteResponse(reply);
        return Errno.Ok;
    }
}
