namespace FastDfs.Protocol.Messages;

/// <summary>A storage server address as trackers hand it to clients.</summary>
public readonly record struct StorageEndpoint(string Ip, int Port)
{
    public override string ToString() => Ip.Contains(':') ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";
}

/// <summary>Response IP field width: 16 (IPv4 mode) or 46 (IPv6 mode), spec 4.0.</summary>
public static class IpFieldSize
{
    public const int V4 = ProtocolConstants.Ipv4AddressSize;
    public const int V6 = ProtocolConstants.IpAddressSize;
}
