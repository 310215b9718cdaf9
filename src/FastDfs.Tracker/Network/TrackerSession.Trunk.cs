using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>SERVER_SET_TRUNK_SERVER (94, spec 4.10): the admin's choice, or an election when no id is given.</summary>
internal sealed partial class TrackerSession
{
    private async ValueTask<byte> SetTrunkServerAsync(PacketHeader header)
    {
        long length = header.BodyLength;
        if (length is < SetTrunkServerRequest.MinSize or > SetTrunkServerRequest.MaxSize)
        {
            return Errno.EINVAL;
        }

        var bytes = await _frames.ReadBodyAsync((int)length).ConfigureAwait(false);
        var ct = _frames.Token;
        var (group, id) = SetTrunkServerRequest.Parse(bytes.Span);
        try
        {
            if (!_options.UseTrunkFile || !_runtime.Peers.IsLeader)
            {
                throw new ProtocolException("SET_TRUNK_SERVER: not the leader or trunk files are off", Errno.EOPNOTSUPP);
            }

            string chosen;
            if (id.Length > 0)
            {
                chosen = _cluster.SetTrunkServerById(group, id);
            }
            else
            {
                chosen = _cluster.ActiveTrunkServer(group) ?? "";
                if (chosen.Length == 0)
                {
                    await _runtime.TrunkElector.ElectMissingAsync(ct).ConfigureAwait(false);
                    chosen = _cluster.ActiveTrunkServer(group)
                        ?? throw new ProtocolException($"group {group} has no writable storage to be trunk server", Errno.ENOENT);
                }
            }

            Reply(new SetTrunkServerReply(chosen).ToArray());
            return Errno.Ok;
        }
        catch (ProtocolException e)
        {
            _logger.LogDebug("{Peer}: SET_TRUNK_SERVER {Group} '{Id}': {Message}", _peer, group, id, e.Message);
            return e.Status;
        }
    }
}
