namespace FastDfs.Protocol.Messages;

/// <summary>
/// FastDFS.NET's SPARE_STORAGE (251), a spare storage (storage.conf <c>spare_storage = true</c>) to every tracker, every
/// heartbeat until it has a group. Request: <c>wanted_group[16]</c> (empty = any group) + <c>claimed_group[16]</c> +
/// <c>replaced_id[46]</c> (the leader's assignment, once the spare has one: the other trackers take it over) +
/// <c>announce_ip[46]</c> (empty = the connection's address) + <c>port</c>, <c>store_path_count</c>,
/// <c>subdir_count_per_path</c>, <c>total_mb</c>, <c>free_mb</c> (i64be each, the sums over its store paths). Reply: <see cref="SpareAssignment"/>. Stock trackers answer
/// EINVAL: a spare needs FastDFS.NET trackers.
/// </summary>
public readonly record struct SpareStorageReport(
    string WantedGroup, string ClaimedGroup, string ReplacedId, string AnnounceIp, int Port, int StorePathCount, int SubdirCount, long TotalMb, long FreeMb)
{
    public const FdfsCommand Command = (FdfsCommand)251;

    public const int Size = 2 * ProtocolConstants.GroupNameMaxLen + 2 * ProtocolConstants.IpAddressSize + 5 * 8;

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        var w = new SpanWriter(bytes);
        w.WriteFixed(WantedGroup, ProtocolConstants.GroupNameMaxLen);
        w.WriteFixed(ClaimedGroup, ProtocolConstants.GroupNameMaxLen);
        w.WriteFixed(ReplacedId, SpareAssignment.ReplacedIdSize);
        w.WriteFixed(AnnounceIp, ProtocolConstants.IpAddressSize);
        w.WriteInt64(Port);
        w.WriteInt64(StorePathCount);
        w.WriteInt64(SubdirCount);
        w.WriteInt64(TotalMb);
        w.WriteInt64(FreeMb);
        return bytes;
    }

    public static SpareStorageReport Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"SPARE_STORAGE body of {body.Length} bytes, expected {Size}");
        }

        var r = new SpanReader(body);
        string wanted = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        string claimed = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        string replaced = r.ReadFixed(SpareAssignment.ReplacedIdSize);
        string ip = r.ReadFixed(ProtocolConstants.IpAddressSize);
        long port = r.ReadInt64(), paths = r.ReadInt64(), subdirs = r.ReadInt64(), total = r.ReadInt64(), free = r.ReadInt64();
        if (port is <= 0 or > 65535 || paths is < 1 or > 256 || subdirs is < 1 or > 256 || free < 0 || total < 0)
        {
            throw new ProtocolException($"SPARE_STORAGE with port {port}, {paths} store paths, {subdirs} subdirs, {free} MB free");
        }

        if (!SpareAssignment.IsGroupName(wanted, allowEmpty: true) || !SpareAssignment.IsGroupName(claimed, allowEmpty: true) ||
            replaced.Any(c => c <= ' ' || c > '~'))
        {
            throw new ProtocolException("SPARE_STORAGE with an invalid group name or storage id");
        }

        if (claimed.Length == 0 != (replaced.Length == 0))
        {
            throw new ProtocolException("SPARE_STORAGE claims a group without the member it replaces, or the reverse");
        }

        return new SpareStorageReport(wanted, claimed, replaced, ip, (int)port, (int)paths, (int)subdirs, total, free);
    }
}

/// <summary>The reply to <see cref="SpareStorageReport"/>: <c>group[16]</c> + <c>replaced_id[46]</c>; both empty = keep waiting.</summary>
public readonly record struct SpareAssignment(string Group, string ReplacedId)
{
    /// <summary>A member's id: its storage id, or without storage ids its address (an IPv6 one is longer than 16 bytes).</summary>
    public const int ReplacedIdSize = ProtocolConstants.IpAddressSize;

    public const int Size = ProtocolConstants.GroupNameMaxLen + ReplacedIdSize;

    /// <summary>ASCII letters and digits, at most 16 (a stock group name); empty when <paramref name="allowEmpty"/>.</summary>
    public static bool IsGroupName(string name, bool allowEmpty) =>
        name.Length == 0 ? allowEmpty : name.Length <= ProtocolConstants.GroupNameMaxLen && name.All(char.IsAsciiLetterOrDigit);

    public static SpareAssignment None => new("", "");

    public bool IsAssigned => Group.Length > 0;

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        var w = new SpanWriter(bytes);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteFixed(ReplacedId, ReplacedIdSize);
        return bytes;
    }

    public static SpareAssignment Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"SPARE_STORAGE reply of {body.Length} bytes, expected {Size}");
        }

        var r = new SpanReader(body);
        var place = new SpareAssignment(r.ReadFixed(ProtocolConstants.GroupNameMaxLen), r.ReadFixed(ReplacedIdSize));
        if (!IsGroupName(place.Group, allowEmpty: true))
        {
            throw new ProtocolException("SPARE_STORAGE reply with an invalid group name");
        }

        return place;
    }
}

/// <summary>
/// A spare storage a tracker heard from: its address, the group its conf limits it to (empty = any), its store paths,
/// their size and free space, when it was first and last heard (Unix seconds), and the place it was given (empty while it waits).
/// </summary>
public sealed record SpareStorageEntry(string Address, string WantedGroup, int StorePathCount, long TotalMb, long FreeMb, long FirstSeen, long LastSeen,
    string AssignedGroup, string ReplacedId);
