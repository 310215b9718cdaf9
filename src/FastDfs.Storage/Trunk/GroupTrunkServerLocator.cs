using FastDfs.Protocol;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Trunk server rule of this slice, from what the tracker told us (spec 6.10):
/// the trunk server announced with flag 2 is authoritative (ourselves or another member); with none announced
/// (our tracker does not elect one yet), a storage that is the only member of its group's list is its own
/// trunk server; otherwise, or before the first group list arrives, the role is unknown and trunk-eligible
/// uploads are stored as normal files, so two storages never allocate in the same trunk files.
/// </summary>
internal sealed class GroupTrunkServerLocator(StorageContext ctx) : ITrunkServerLocator
{
    public TrunkServerRole Resolve()
    {
        var group = ctx.Group;
        if (group.TrunkServer is { } trunkServer)
        {
            bool self = (trunkServer.IpAddr == ctx.SourceIp || trunkServer.Id == ctx.SourceIp) &&
                        (trunkServer.Port == ctx.Port || trunkServer.Port == 0);
            return self ? TrunkServerRole.Self : TrunkServerRole.Remote;
        }

        var servers = group.Servers;
        if (servers.Count == 0)
        {
            return TrunkServerRole.Unknown;
        }

        foreach (var brief in servers)
        {
            bool self = (brief.IpAddr == ctx.SourceIp || brief.Id == ctx.SourceIp) && (brief.Port == ctx.Port || brief.Port == 0);
            if (!self && brief.Status is not (StorageStatus.Deleted or StorageStatus.IpChanged))
            {
                return TrunkServerRole.Remote;
            }
        }

        return TrunkServerRole.Self;
    }
}
