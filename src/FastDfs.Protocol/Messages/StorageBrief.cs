namespace FastDfs.Protocol.Messages;

/// <summary>FDFSStorageBrief, 67 bytes (spec 2.3): status, port, id, ip.</summary>
public readonly record struct StorageBrief(StorageStatus Status, int Port, string Id, string IpAddr)
{
    public const int Size = ProtocolConstants.StorageBriefSize;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)Status);
        w.WriteInt32(Port);
        w.WriteFixed(Id, ProtocolConstants.StorageIdMaxSize);
        w.WriteFixed(IpAddr, ProtocolConstants.IpAddressSize);
    }

    public static StorageBrief Parse(ReadOnlySpan<byte> record)
    {
        var r = new SpanReader(record);
        var status = (StorageStatus)r.ReadByte();
        int port = r.ReadInt32();
        string id = r.ReadFixed(ProtocolConstants.StorageIdMaxSize);
        return new StorageBrief(status, port, id, r.ReadFixed(ProtocolConstants.IpAddressSize));
    }
}

/// <summary>Flags of the change-notification body (spec 6.10).</summary>
[Flags]
public enum ChangeFlags : byte
{
    None = 0,
    TrackerLeader = 1,
    TrunkServer = 2,
    GroupServers = 4,
}

/// <summary>Reply body of BEAT / DISK_USAGE / SYNC_REPORT: flags byte then briefs (spec 6.10).</summary>
public sealed record ChangeNotification(
    ChangeFlags Flags, StorageBrief? Leader, StorageBrief? TrunkServer, IReadOnlyList<StorageBrief> GroupServers)
{
    public static readonly ChangeNotification Empty = new(ChangeFlags.None, null, null, []);

    public int Size => 1 + StorageBrief.Size *
        ((Flags.HasFlag(ChangeFlags.TrackerLeader) ? 1 : 0) + (Flags.HasFlag(ChangeFlags.TrunkServer) ? 1 : 0) +
         (Flags.HasFlag(ChangeFlags.GroupServers) ? GroupServers.Count : 0));

    public int Write(Span<byte> destination)
    {
        destination[0] = (byte)Flags;
        int o = 1;
        if (Flags.HasFlag(ChangeFlags.TrackerLeader))
        {
            (Leader ?? default).Write(destination[o..]);
            o += StorageBrief.Size;
        }

        if (Flags.HasFlag(ChangeFlags.TrunkServer))
        {
            (TrunkServer ?? new StorageBrief(0, 0, "", "")).Write(destination[o..]);
            o += StorageBrief.Size;
        }

        if (Flags.HasFlag(ChangeFlags.GroupServers))
        {
            foreach (var brief in GroupServers)
            {
                brief.Write(destination[o..]);
                o += StorageBrief.Size;
            }
        }

        return o;
    }

    public static ChangeNotification Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Empty;
        }

        if ((body.Length - 1) % StorageBrief.Size != 0)
        {
            throw new ProtocolException($"change notification of {body.Length} bytes");
        }

        var flags = (ChangeFlags)body[0];
        int fixedRecords = (flags.HasFlag(ChangeFlags.TrackerLeader) ? 1 : 0) + (flags.HasFlag(ChangeFlags.TrunkServer) ? 1 : 0);
        if (body.Length - 1 < fixedRecords * StorageBrief.Size)
        {
            throw new ProtocolException($"change notification of {body.Length} bytes for flags {(byte)flags:x2}");
        }

        int o = 1;
        StorageBrief? leader = null, trunk = null;
        if (flags.HasFlag(ChangeFlags.TrackerLeader))
        {
            leader = StorageBrief.Parse(body.Slice(o, StorageBrief.Size));
            o += StorageBrief.Size;
        }

        if (flags.HasFlag(ChangeFlags.TrunkServer))
        {
            trunk = StorageBrief.Parse(body.Slice(o, StorageBrief.Size));
            o += StorageBrief.Size;
        }

        var servers = new List<StorageBrief>();
        if (flags.HasFlag(ChangeFlags.GroupServers))
        {
            for (; o < body.Length; o += StorageBrief.Size)
            {
                servers.Add(StorageBrief.Parse(body.Slice(o, StorageBrief.Size)));
            }
        }

        return new ChangeNotification(flags, leader, trunk, servers);
    }
}
