using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Time;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// Spare storages (beyond stock): a storage started with <c>spare_storage = true</c> waits without a group. When a member
/// of a group has been OFFLINE for <c>spare_storage_takeover_time</c>, the leader gives its place to a fitting spare and
/// retires the member (DELETED, as <c>fdfs monitor delete</c> does); the spare then joins that group as a new storage and
/// gets a full copy from an ACTIVE peer. Followers take the leader's decision over when the spare brings it to them.
/// </summary>
internal sealed partial class ClusterState
{
    private readonly Dictionary<string, SpareStorage> _spares = new(StringComparer.Ordinal);

    /// <summary>Spares heard from at once at most: a flood of made-up addresses grows neither memory nor the log.</summary>
    private const int MaxSpares = 64;

    /// <summary>When this tracker started: a member is not counted missing for longer than this tracker has been watching.</summary>
    private readonly long _watchingSince = clock.UnixSeconds();

    private static string SpareKey(string ip, int port) => $"{ip}\t{port}";

    /// <summary>
    /// SPARE_STORAGE from the spare at <paramref name="ip"/>: records it and answers its place, if it has one.
    /// <paramref name="decides"/>: this tracker leads (or is alone), so it may choose a place; the others only take over
    /// the leader's choice the spare claims.
    /// </summary>
    public SpareAssignment ReportSpare(SpareStorageReport report, string ip, bool decides)
    {
        lock (_lock)
        {
            if (_groups.SelectMany(g => g.Storages).FirstOrDefault(s => s.Ip == ip && s.Port == report.Port && s.Status != StorageStatus.Deleted)
                is { } member)
            {
                throw new ProtocolException($"spare {ip}:{report.Port} is already storage {member.Id} of {member.Group.Name}", Errno.EEXIST);
            }

            string key = SpareKey(ip, report.Port);
            if (!_spares.TryGetValue(key, out var spare))
            {
                ForgetSilentSpares();
                if (_spares.Count >= MaxSpares)
                {
                    throw new ProtocolException($"already {_spares.Count} spare storages waiting; {ip}:{report.Port} refused", Errno.ENOSPC);
                }

                spare = new SpareStorage(ip, report.Port) { FirstSeen = Now };
                _spares[key] = spare;
                logger.LogInformation("spare storage {Spare} waits for a place ({Wanted}, {Paths} store paths, {Free} MB free)",
                    spare.Address, report.WantedGroup.Length > 0 ? "in " + report.WantedGroup : "any group", report.StorePathCount, report.FreeMb);
            }

            spare.WantedGroup = report.WantedGroup;
            spare.StorePathCount = report.StorePathCount;
            spare.SubdirCount = report.SubdirCount;
            spare.FreeMb = report.FreeMb;
            spare.TotalMb = report.TotalMb;
            spare.LastSeen = Now;
            // A place given before and not known here any more (this entry was forgotten): the member retired for it says so.
            spare.Assigned ??= _groups.SelectMany(g => g.Storages).FirstOrDefault(s => s.Status == StorageStatus.Deleted && s.RetiredFor == spare.Address)
                is { } retired ? new SpareAssignment(retired.Group.Name, retired.Id) : null;
            if (report.ClaimedGroup.Length > 0)
            {
                return TakeOverClaim(spare, new SpareAssignment(report.ClaimedGroup, report.ReplacedId));
            }

            if (spare.Assigned is null && decides)
            {
                AssignSpare(spare);
            }

            logger.LogDebug("spare storage {Spare} reported: {Place}", spare.Address, spare.Assigned?.ToString() ?? "waiting");

            return spare.Assigned ?? SpareAssignment.None;
        }
    }

    /// <summary>The spares this tracker heard from within the last check_active_interval (monitor, dashboard).</summary>
    public IReadOnlyList<SpareStorageEntry> Spares()
    {
        lock (_lock)
        {
            ForgetSilentSpares();
            return [.. _spares.Values.OrderBy(s => s.FirstSeen).Select(s => new SpareStorageEntry(
                s.Address, s.WantedGroup, s.StorePathCount, s.TotalMb, s.FreeMb, s.FirstSeen, s.LastSeen, s.Assigned?.Group ?? "", s.Assigned?.ReplacedId ?? ""))];
        }
    }

    private void ForgetSilentSpares()
    {
        long deadline = Now - Math.Max(Config.CheckActiveInterval, 10);
        // A spare with a place is kept until it joins: its place must not be given twice.
        foreach (var (key, spare) in _spares.Where(s => s.Value.LastSeen < deadline && s.Value.Assigned is null).ToList())
        {
            _spares.Remove(key);
            logger.LogInformation("spare storage {Spare} no longer reports: forgotten", spare.Address);
        }
    }

    /// <summary>A storage that joins a group is no spare any more.</summary>
    private void ForgetSpare(string ip, int port) => _spares.Remove(SpareKey(ip, port));

    /// <summary>Since when <paramref name="node"/> has been missing, as far as this tracker can tell.</summary>
    private long MissingSince(StorageNode node) => Math.Max(node.LastHeartbeat, _watchingSince);

    /// <param name="sinceLastHeartbeat">count from the member's last heartbeat alone (a decision the leader took), not from this
    /// tracker's start at the earliest (its own decision)</param>
    private bool MissingLongEnough(StorageNode node, bool sinceLastHeartbeat = false) =>
        node.Status == StorageStatus.Offline && Config.SpareStorageTakeoverTime > 0 &&
        Now - (sinceLastHeartbeat ? node.LastHeartbeat : MissingSince(node)) >= Config.SpareStorageTakeoverTime;

    /// <summary>Whether <paramref name="spare"/> can take <paramref name="node"/>'s place: same layout, room for its data, a
    /// peer to copy from, the group it asks for, and with storage ids an id of its own in that group.</summary>
    private bool Fits(SpareStorage spare, StorageGroup group, StorageNode node) =>
        (spare.WantedGroup.Length == 0 || spare.WantedGroup == group.Name) && spare.StorePathCount >= group.StorePathCount &&
        spare.SubdirCount == group.SubdirCount && group.Storages.Any(s => s.Status == StorageStatus.Active) &&
        (StorageIds is not { } ids || ids.Find(group.Name, spare.Ip, spare.Port) is not null) &&
        // It fits when its free space holds what the member's disks held, or its disks are as large as the member's.
        (spare.FreeMb >= node.TotalMb - node.FreeMb || spare.TotalMb >= node.TotalMb);

    /// <summary>The leader's choice: the member missing longest that the spare can replace.</summary>
    private void AssignSpare(SpareStorage spare)
    {
        StorageNode? chosen = null;
        foreach (var node in _groups.SelectMany(g => g.Storages))
        {
            if (MissingLongEnough(node) && Fits(spare, node.Group, node) && (chosen is null || MissingSince(node) < MissingSince(chosen)))
            {
                chosen = node;
            }
        }

        if (chosen is not null)
        {
            logger.LogWarning("storage {Group}/{Id} ({Ip}:{Port}) has been OFFLINE for {Seconds} s: spare storage {Spare} takes its place " +
                "(it joins the group and gets a full copy); the missing member is retired (DELETED)", chosen.Group.Name, chosen.Id, chosen.Ip,
                chosen.Port, Now - MissingSince(chosen), spare.Address);
            Retire(chosen, spare);
        }
    }

    /// <summary>
    /// The place the spare says the leader gave it: taken over once this tracker sees that member OFFLINE for the takeover
    /// time since its last heartbeat, and only if the spare fits it, as the leader would have checked. A claim is never more
    /// than what reporting as a spare gets.
    /// </summary>
    private SpareAssignment TakeOverClaim(SpareStorage spare, SpareAssignment claim)
    {
        if (spare.Assigned is { } given)
        {
            return given == claim
                ? claim
                : throw new ProtocolException($"spare {spare.Address} claims {claim.Group}/{claim.ReplacedId} but has the place of {given.Group}/{given.ReplacedId}",
                    Errno.EEXIST);
        }

        var group = FindGroup(claim.Group) ?? throw new ProtocolException($"spare {spare.Address} claims a place in unknown group {claim.Group}", Errno.ENOENT);
        var node = group.Find(claim.ReplacedId)
            ?? throw new ProtocolException($"spare {spare.Address} claims the place of unknown storage {claim.Group}/{claim.ReplacedId}", Errno.ENOENT);
        switch (node.Status)
        {
            case StorageStatus.Deleted when node.RetiredFor == spare.Address:
                spare.Assigned = claim;
                return claim;
            case StorageStatus.Deleted or StorageStatus.IpChanged:
                throw new ProtocolException($"spare {spare.Address} claims the place of {claim.Group}/{node.Id}, which was not retired for it", Errno.EEXIST);
            case not StorageStatus.Offline:
                throw new ProtocolException($"spare {spare.Address} claims the place of {claim.Group}/{node.Id}, which is {node.Status.ToMonitorName()} here",
                    Errno.EBUSY);
        }

        if (!Fits(spare, group, node))
        {
            throw new ProtocolException($"spare {spare.Address} does not fit the place of {claim.Group}/{node.Id}", Errno.EINVAL);
        }

        if (!MissingLongEnough(node, sinceLastHeartbeat: true))
        {
            // Not missing for long enough by this tracker's watch yet: the spare asks again at its next beat.
            return SpareAssignment.None;
        }

        logger.LogWarning("spare storage {Spare} takes the place of {Group}/{Id} (the leader's choice): that member is retired (DELETED)",
            spare.Address, group.Name, node.Id);
        Retire(node, spare);
        return claim;
    }

    private void Retire(StorageNode node, SpareStorage spare)
    {
        RemoveFromGroup(node.Group, node);
        node.RetiredFor = spare.Address;
        spare.Assigned = new SpareAssignment(node.Group.Name, node.Id);
    }
}
