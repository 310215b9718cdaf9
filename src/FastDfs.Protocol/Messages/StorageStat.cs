namespace FastDfs.Protocol.Messages;

/// <summary>One storage record of LIST_STORAGE (487 bytes in IPv4 mode, 517 in IPv6 mode; spec 2.2).</summary>
public sealed record StorageStat
{
    public required StorageStatus Status { get; init; }
    public byte RwMode { get; init; } = 6;
    public required string Id { get; init; }
    public required string IpAddr { get; init; }
    public string SrcId { get; init; } = string.Empty;
    public string Version { get; init; } = ProtocolConstants.Version;
    public long JoinTime { get; init; }
    public long UpTime { get; init; }
    public long TotalMb { get; init; }
    public long FreeMb { get; init; }
    public long ReservedMb { get; init; }
    public long UploadPriority { get; init; }
    public long StorePathCount { get; init; }
    public long SubdirCountPerPath { get; init; }
    public long CurrentWritePath { get; init; }
    public long StoragePort { get; init; }
    public StorageStatCounters Counters { get; init; } = new();
    public bool IsTrunkServer { get; init; }

    public static int Size(int ipSize) => ProtocolConstants.StorageStatSize(ipSize);

    public void Write(Span<byte> destination, int ipSize)
    {
        destination[..Size(ipSize)].Clear();
        var w = new SpanWriter(destination);
        w.WriteByte((byte)Status);
        w.WriteByte(RwMode);
        w.WriteFixed(Id, ProtocolConstants.StorageIdMaxSize);
        w.WriteFixed(IpAddr, ipSize);
        w.WriteFixed(SrcId, ProtocolConstants.StorageIdMaxSize);
        w.WriteFixed(Version, ProtocolConstants.VersionSize);
        w.WriteInt64(JoinTime);
        w.WriteInt64(UpTime);
        w.WriteInt64(TotalMb);
        w.WriteInt64(FreeMb);
        w.WriteInt64(ReservedMb);
        w.WriteInt64(UploadPriority);
        w.WriteInt64(StorePathCount);
        w.WriteInt64(SubdirCountPerPath);
        w.WriteInt64(CurrentWritePath);
        w.WriteInt64(StoragePort);
        Counters.Write(destination.Slice(w.Position, StorageStatCounters.Size));
        destination[w.Position + StorageStatCounters.Size] = IsTrunkServer ? (byte)1 : (byte)0;
    }

    public static StorageStat Parse(ReadOnlySpan<byte> record, int ipSize)
    {
        var r = new SpanReader(record);
        var status = (StorageStatus)r.ReadByte();
        byte rw = r.ReadByte();
        string id = r.ReadFixed(ProtocolConstants.StorageIdMaxSize);
        string ip = r.ReadFixed(ipSize);
        string src = r.ReadFixed(ProtocolConstants.StorageIdMaxSize);
        string version = r.ReadFixed(ProtocolConstants.VersionSize);
        var stat = new StorageStat
        {
            Status = status,
            RwMode = rw,
            Id = id,
            IpAddr = ip,
            SrcId = src,
            Version = version,
            JoinTime = r.ReadInt64(),
            UpTime = r.ReadInt64(),
            TotalMb = r.ReadInt64(),
            FreeMb = r.ReadInt64(),
            ReservedMb = r.ReadInt64(),
            UploadPriority = r.ReadInt64(),
            StorePathCount = r.ReadInt64(),
            SubdirCountPerPath = r.ReadInt64(),
            CurrentWritePath = r.ReadInt64(),
            StoragePort = r.ReadInt64(),
            Counters = StorageStatCounters.Parse(r.ReadBytes(StorageStatCounters.Size)),
            IsTrunkServer = r.ReadByte() != 0,
        };
        return stat;
    }

    /// <summary>Parses a LIST_STORAGE body, detecting the IP field size from the record length.</summary>
    public static List<StorageStat> ParseList(ReadOnlySpan<byte> body)
    {
        var list = new List<StorageStat>();
        if (body.IsEmpty)
        {
            return list;
        }

        int ipSize = body.Length % Size(IpFieldSize.V4) == 0 ? IpFieldSize.V4
            : body.Length % Size(IpFieldSize.V6) == 0 ? IpFieldSize.V6
            : throw new ProtocolException($"storage list of {body.Length} bytes");
        int size = Size(ipSize);
        for (int o = 0; o < body.Length; o += size)
        {
            list.Add(Parse(body.Slice(o, size), ipSize));
        }

        return list;
    }
}
