using System.Globalization;
using System.Net;
using FastDfs.Protocol.Config;

namespace FastDfs.Tracker.Peers;

/// <summary>
/// A tracker of the cluster as the storages list it (<c>ip:port</c>). Trackers identify each other by this
/// pair, so several trackers may share one host on different ports. Ordered as stock's election tie-break:
/// IP compared as a string (strcmp), then the port.
/// </summary>
internal sealed record TrackerPeer(string Ip, int Port) : IComparable<TrackerPeer>
{
    /// <summary><c>ip:port</c> (<c>[ipv6]:port</c>): the text of NOTIFY/COMMIT_NEXT_LEADER and GET_LEADER.</summary>
    public string HostPort => Ip.Contains(':')
        ? $"[{Ip}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Ip}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => HostPort;

    public int CompareTo(TrackerPeer? other)
    {
        if (other is null)
        {
            return 1;
        }

        int byIp = string.CompareOrdinal(Ip, other.Ip);
        return byIp != 0 ? Math.Sign(byIp) : Port.CompareTo(other.Port);
    }

    /// <summary>Parses a tracker list line or an <c>ip:port</c> text (the first address of a dual-IP tracker).</summary>
    public static bool TryParse(string text, out TrackerPeer peer)
    {
        peer = null!;
        try
        {
            var address = TrackerAddress.Parse(text);
            string ip = IPAddress.TryParse(address.Host, out var parsed) && parsed.IsIPv4MappedToIPv6
                ? parsed.MapToIPv4().ToString()
                : address.Host;
            peer = new TrackerPeer(ip, address.Port);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
