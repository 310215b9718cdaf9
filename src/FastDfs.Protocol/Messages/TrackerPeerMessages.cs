using FastDfs.Protocol;

namespace FastDfs.Protocol.Messages;

/// <summary>GET_STATUS (64) reply, 17 bytes: if_leader, running_time, restart_interval (spec 8, 14.2).</summary>
public readonly record struct TrackerStatusReply(bool IsLeader, long RunningTime, long RestartInterval)
{
    public const int Size = 17;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteByte(IsLeader ? (byte)1 : (byte)0);
        w.WriteInt64(RunningTime);
        w.WriteInt64(RestartInterval);
    }

    public static TrackerStatusReply Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"GET_STATUS reply of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        return new TrackerStatusReply(r.ReadByte() != 0, r.ReadInt64(), r.ReadInt64());
    }
}

/// <summary>JOIN_LEADER (58) request, 24 bytes: up_time, version[8], server_port.</summary>
public readonly record struct JoinLeaderRequest(long UpTime, string Version, long ServerPort)
{
    public const int Size = 8 + ProtocolConstants.VersionSize + 8;

    public byte[] ToArray()
    {
        var body = new byte[Size];
        var w = new SpanWriter(body);
        w.WriteInt64(UpTime);
        w.WriteFixed(Version, ProtocolConstants.VersionSize);
        w.WriteInt64(ServerPort);
        return body;
    }

    public static JoinLeaderRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"JOIN_LEADER body of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        return new JoinLeaderRequest(r.ReadInt64(), r.ReadFixed(ProtocolConstants.VersionSize), r.ReadInt64());
    }
}

/// <summary>PING_LEADER (65) request, 12 bytes: the follower's connection counts (alloc, current, max).</summary>
public readonly record struct PingLeaderRequest(int AllocCount, int CurrentCount, int MaxCount)
{
    public const int Size = 12;

    public byte[] ToArray()
    {
        var body = new byte[Size];
        var w = new SpanWriter(body);
        w.WriteInt32(AllocCount);
        w.WriteInt32(CurrentCount);
        w.WriteInt32(MaxCount);
        return body;
    }

    public static PingLeaderRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"PING_LEADER body of {body.Length} bytes");
        }

        var r = new SpanReader(body);
        return new PingLeaderRequest(r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
    }
}

/// <summary>One entry of a PING_LEADER reply: group[16] + trunk_server_id[16] (empty id = no trunk server).</summary>
public readonly record struct GroupTrunkServer(string Group, string TrunkServerId)
{
    public const int Size = ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize;

    public static byte[] Encode(IReadOnlyList<GroupTrunkServer> entries)
    {
        var body = new byte[entries.Count * Size];
        var w = new SpanWriter(body);
        foreach (var e in entries)
        {
            w.WriteFixed(e.Group, ProtocolConstants.GroupNameMaxLen);
            w.WriteFixed(e.TrunkServerId, ProtocolConstants.StorageIdMaxSize);
        }

        return body;
    }

    public static List<GroupTrunkServer> Decode(ReadOnlySpan<byte> body)
    {
        if (body.Length % Size != 0)
        {
            throw new ProtocolException($"PING_LEADER reply of {body.Length} bytes");
        }

        var list = new List<GroupTrunkServer>();
        var r = new SpanReader(body);
        while (r.Remaining > 0)
        {
            list.Add(new GroupTrunkServer(r.ReadFixed(ProtocolConstants.GroupNameMaxLen), r.ReadFixed(ProtocolConstants.StorageIdMaxSize)));
        }

        return list;
    }
}
