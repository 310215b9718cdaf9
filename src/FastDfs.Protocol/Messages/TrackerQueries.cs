namespace FastDfs.Protocol.Messages;

/// <summary>QUERY_STORE_*_ONE response (101/104): group, ip, port, store path index (40 bytes in IPv4 mode).</summary>
public sealed record QueryStoreResponse(string Group, StorageEndpoint Storage, byte StorePathIndex)
{
    public static int Size(int ipSize) => ProtocolConstants.GroupNameMaxLen + ipSize - 1 + 8 + 1;

    public int Write(Span<byte> destination, int ipSize)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteIp(Storage.Ip, ipSize);
        w.WriteInt64(Storage.Port);
        w.WriteByte(StorePathIndex);
        return w.Position;
    }

    public static QueryStoreResponse Parse(ReadOnlySpan<byte> body)
    {
        int ipSize = body.Length == Size(IpFieldSize.V4) ? IpFieldSize.V4
            : body.Length == Size(IpFieldSize.V6) ? IpFieldSize.V6
            : throw new ProtocolException($"QUERY_STORE response of {body.Length} bytes");
        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        string ip = r.ReadFixed(ipSize - 1);
        int port = (int)r.ReadInt64();
        return new QueryStoreResponse(group, new StorageEndpoint(ip, port), r.ReadByte());
    }
}

/// <summary>QUERY_STORE_*_ALL response (106/107): group, n x (ip, port), store path index.</summary>
public sealed record QueryStoreAllResponse(string Group, IReadOnlyList<StorageEndpoint> Storages, byte StorePathIndex)
{
    public int Size(int ipSize) => ProtocolConstants.GroupNameMaxLen + Storages.Count * (ipSize - 1 + 8) + 1;

    public int Write(Span<byte> destination, int ipSize)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        foreach (var s in Storages)
        {
            w.WriteIp(s.Ip, ipSize);
            w.WriteInt64(s.Port);
        }

        w.WriteByte(StorePathIndex);
        return w.Position;
    }

    public static QueryStoreAllResponse Parse(ReadOnlySpan<byte> body)
    {
        int ipSize = DetectIpSize(body.Length - ProtocolConstants.GroupNameMaxLen - 1);
        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        var list = new List<StorageEndpoint>();
        while (r.Remaining > 1)
        {
            string ip = r.ReadFixed(ipSize - 1);
            list.Add(new StorageEndpoint(ip, (int)r.ReadInt64()));
        }

        return new QueryStoreAllResponse(group, list, r.ReadByte());
    }

    internal static int DetectIpSize(int entriesLength) =>
        entriesLength > 0 && entriesLength % (IpFieldSize.V4 - 1 + 8) == 0 ? IpFieldSize.V4
        : entriesLength > 0 && entriesLength % (IpFieldSize.V6 - 1 + 8) == 0 ? IpFieldSize.V6
        : throw new ProtocolException($"storage list of {entriesLength} bytes");
}

/// <summary>Request body shared by QUERY_FETCH_ONE/ALL and QUERY_UPDATE: group[16] + logic name.</summary>
public sealed record GroupFileRequest(string Group, string LogicName)
{
    public int Size => ProtocolConstants.GroupNameMaxLen + FixedString.ByteCount(LogicName);

    public int Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        w.WriteAscii(LogicName);
        return w.Position;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    public static GroupFileRequest Parse(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        return new GroupFileRequest(group, r.ReadRestAsCString());
    }
}

/// <summary>QUERY_FETCH_ONE/QUERY_UPDATE (39 bytes in IPv4 mode) and QUERY_FETCH_ALL responses.</summary>
public sealed record QueryFetchResponse(string Group, IReadOnlyList<StorageEndpoint> Storages)
{
    public int Size(int ipSize) => ProtocolConstants.GroupNameMaxLen + Storages.Count * (ipSize - 1 + 8);

    public int Write(Span<byte> destination, int ipSize)
    {
        var w = new SpanWriter(destination);
        w.WriteFixed(Group, ProtocolConstants.GroupNameMaxLen);
        foreach (var s in Storages)
        {
            w.WriteIp(s.Ip, ipSize);
            w.WriteInt64(s.Port);
        }

        return w.Position;
    }

    public static QueryFetchResponse Parse(ReadOnlySpan<byte> body)
    {
        int ipSize = QueryStoreAllResponse.DetectIpSize(body.Length - ProtocolConstants.GroupNameMaxLen);
        var r = new SpanReader(body);
        string group = r.ReadFixed(ProtocolConstants.GroupNameMaxLen);
        var list = new List<StorageEndpoint>();
        while (r.Remaining > 0)
        {
            string ip = r.ReadFixed(ipSize - 1);
            list.Add(new StorageEndpoint(ip, (int)r.ReadInt64()));
        }

        return new QueryFetchResponse(group, list);
    }
}
