using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>STORAGE_JOIN (81) request: 145-byte fixed part + tracker list lines (spec 6.1).</summary>
public sealed record StorageJoinRequest
{
    public const int FixedSize = 145;

    public required string GroupName { get; init; }
    public required long StoragePort { get; init; }
    public required long StorePathCount { get; init; }
    public required long SubdirCountPerPath { get; init; }
    public long UploadPriority { get; init; } = 10;
    public long JoinTime { get; init; }
    public long UpTime { get; init; }
    public string Version { get; init; } = ProtocolConstants.Version;
    public bool InitFlag { get; init; }

    /// <summary>The storage's own status as last known (-1 = unknown), signed byte on the wire.</summary>
    public sbyte Status { get; init; }
    public string StorageId { get; init; } = string.Empty;
    public string CurrentTrackerIp { get; init; } = string.Empty;

    /// <summary>Every tracker the storage knows, as <c>host:port</c>.</summary>
    public required IReadOnlyList<string> Trackers { get; init; }

    /// <summary>
    /// FastDFS.NET extension (storage.conf <c>announce_ip</c>): the address clients must use, sent as an
    /// <c>announce_ip=...</c> line after the tracker lines. A stock tracker reads only tracker_count lines
    /// and ignores it (the body stays within its 145 + tracker_count * 100 byte limit).
    /// </summary>
    public string? AnnounceIp { get; init; }

    private const string AnnounceKey = "announce_ip=";

    public byte[] ToArray()
    {
        string lines = string.Concat(Trackers.Select(t => t + "\n"));
        if (!string.IsNullOrEmpty(AnnounceIp))
        {
            lines += AnnounceKey + AnnounceIp + "\n";
        }

        var body = new byte[FixedSize + Encoding.ASCII.GetByteCount(lines)];
        var w = new SpanWriter(body);
        w.WriteFixed(GroupName, ProtocolConstants.GroupNameMaxLen + 1);
        w.WriteInt64(StoragePort);
        w.WriteInt64(StorePathCount);
        w.WriteInt64(SubdirCountPerPath);
        w.WriteInt64(UploadPriority);
        w.WriteInt64(JoinTime);
        w.WriteInt64(UpTime);
        w.WriteFixed(Version, ProtocolConstants.VersionSize);
        w.WriteByte(InitFlag ? (byte)1 : (byte)0);
        w.WriteByte((byte)Status);
        w.WriteFixed(StorageId, ProtocolConstants.StorageIdMaxSize);
        w.WriteFixed(CurrentTrackerIp, ProtocolConstants.IpAddressSize);
        w.WriteInt64(Trackers.Count);
        w.WriteAscii(lines);
        return body;
    }

    /// <summary>Parses and validates the body as the stock tracker does (EINVAL on any violation).</summary>
    public static StorageJoinRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < FixedSize)
        {
            throw new ProtocolException($"JOIN body of {body.Length} bytes, expected at least {FixedSize}");
        }

        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen + 1);
        long port = r.ReadInt64();
        long pathCount = r.ReadInt64();
        long subdirs = r.ReadInt64();
        long priority = r.ReadInt64();
        long joinTime = r.ReadInt64();
        long upTime = r.ReadInt64();
        string version = r.ReadFixed(ProtocolConstants.VersionSize);
        bool initFlag = r.ReadByte() != 0;
        sbyte status = (sbyte)r.ReadByte();
        string id = r.ReadFixed(ProtocolConstants.StorageIdMaxSize);
        string trackerIp = r.ReadFixed(ProtocolConstants.IpAddressSize);
        long trackerCount = r.ReadInt64();
        if (trackerCount < 1 || trackerCount > ProtocolConstants.MaxTrackers)
        {
            throw new ProtocolException($"JOIN tracker_count {trackerCount} out of 1..16");
        }

        if (body.Length > FixedSize + trackerCount * 100)
        {
            throw new ProtocolException("JOIN body too long for its tracker list");
        }

        string text = Encoding.ASCII.GetString(r.Rest);
        var lines = text.Split('\n');
        // One '\n'-terminated line per tracker: the split leaves an empty last element. Extension lines
        // (announce_ip=) may follow the tracker lines.
        if (lines.Length < trackerCount + 1 || lines[^1].Length != 0)
        {
            throw new ProtocolException("JOIN tracker list lines do not match tracker_count");
        }

        var trackers = lines[..(int)trackerCount];
        string? announceIp = null;
        foreach (string extra in lines[(int)trackerCount..^1])
        {
            if (extra.StartsWith(AnnounceKey, StringComparison.Ordinal) && extra.Length > AnnounceKey.Length)
            {
                announceIp = extra[AnnounceKey.Length..].Trim();
            }
            else
            {
                throw new ProtocolException("JOIN tracker list lines do not match tracker_count");
            }
        }

        return new StorageJoinRequest
        {
            GroupName = group,
            StoragePort = port,
            StorePathCount = pathCount,
            SubdirCountPerPath = subdirs,
            UploadPriority = priority,
            JoinTime = joinTime,
            UpTime = upTime,
            Version = version,
            InitFlag = initFlag,
            Status = status,
            StorageId = id,
            CurrentTrackerIp = trackerIp,
            Trackers = trackers,
            AnnounceIp = announceIp,
        };
    }
}

/// <summary>STORAGE_JOIN response: status + sync source id (17 bytes).</summary>
public readonly record struct StorageJoinResponse(StorageStatus Status, string SrcId)
{
    public const int Size = 1 + ProtocolConstants.StorageIdMaxSize;

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)Status;
        FixedString.Write(destination.Slice(1, ProtocolConstants.StorageIdMaxSize), SrcId);
    }

    public static StorageJoinResponse Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size)
        {
            throw new ProtocolException($"JOIN response of {body.Length} bytes");
        }

        return new StorageJoinResponse((StorageStatus)body[0], FixedString.Read(body[1..]));
    }
}

/// <summary>Body of SYNC_SRC_REQ/DEST_REQ/NOTIFY/DEST_QUERY (24 bytes): source id + until timestamp.</summary>
public readonly record struct SyncSourceBody(string SrcId, long UntilTimestamp)
{
    public const int Size = ProtocolConstants.StorageIdMaxSize + 8;

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(SrcId, ProtocolConstants.StorageIdMaxSize);
        w.WriteInt64(UntilTimestamp);
    }

    public static SyncSourceBody Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        return new SyncSourceBody(r.ReadFixed(ProtocolConstants.StorageIdMaxSize), r.ReadInt64());
    }
}

/// <summary>One store path's disk figures in REPORT_DISK_USAGE (16 bytes each).</summary>
public readonly record struct PathDiskUsage(long TotalMb, long FreeMb);
