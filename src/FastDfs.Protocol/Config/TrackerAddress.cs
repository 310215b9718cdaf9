using System.Globalization;

namespace FastDfs.Protocol.Config;

/// <summary>
/// A <c>tracker_server</c> value: <c>host:port</c>, <c>[ipv6]:port</c>, or a tracker with two
/// addresses <c>host1,host2:port</c> (stock's dual-IP form; both share the port). Host names are
/// kept as written (not resolved). Loopback addresses are allowed, unlike the stock storage.
/// </summary>
public sealed record TrackerAddress(string Host, int Port)
{
    public const int DefaultPort = 22122;

    /// <summary>The second address of a dual-IP tracker, or null.</summary>
    public string? SecondHost { get; init; }

    /// <summary>One or two hosts, in the order written.</summary>
    public IReadOnlyList<string> Hosts => SecondHost is null ? [Host] : [Host, SecondHost];

    /// <summary>
    /// Parses a tracker address. Without a port, <paramref name="defaultPort"/> is used (as stock does).
    /// A bare IPv6 address needs brackets or a port: like stock, the last <c>:</c> starts the port.
    /// </summary>
    /// <exception cref="FormatException">Empty host, bad port, unclosed bracket or more than two hosts.</exception>
    public static TrackerAddress Parse(string text, int defaultPort = DefaultPort)
    {
        var s = text.Trim();
        string hostsPart;
        string? portPart;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']');
            if (close < 0)
            {
                throw new FormatException($"tracker address \"{text}\": missing ']'");
            }
            hostsPart = s[1..close];
            var rest = s[(close + 1)..];
            portPart = rest.Length == 0 ? null
                : rest[0] == ':' ? rest[1..]
                : throw new FormatException($"tracker address \"{text}\": expected ':port' after ']'");
            if (hostsPart.Contains(','))
            {
                throw new FormatException($"tracker address \"{text}\": a bracketed IPv6 address must be alone");
            }
        }
        else
        {
            var colon = s.LastIndexOf(':');
            hostsPart = colon < 0 ? s : s[..colon];
            portPart = colon < 0 ? null : s[(colon + 1)..];
        }

        var port = defaultPort;
        if (portPart is not null
            && (!int.TryParse(portPart.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out port)
                || port is < 1 or > 65535))
        {
            throw new FormatException($"tracker address \"{text}\": invalid port \"{portPart}\"");
        }

        var hosts = hostsPart.Split(',').Select(h => StripBrackets(h.Trim())).ToArray();
        if (hosts.Length > 2)
        {
            throw new FormatException($"tracker address \"{text}\": at most two hosts are allowed");
        }
        if (hosts.Any(h => h.Length == 0))
        {
            throw new FormatException($"tracker address \"{text}\": empty host");
        }
        return new TrackerAddress(hosts[0], port) { SecondHost = hosts.Length == 2 ? hosts[1] : null };
    }

    /// <summary><c>host:port</c>, <c>[ipv6]:port</c>, or <c>host1,host2:port</c> (parses back to an equal value).</summary>
    public override string ToString()
    {
        var port = Port.ToString(CultureInfo.InvariantCulture);
        if (SecondHost is not null)
        {
            return $"{Host},{SecondHost}:{port}";
        }
        return Host.Contains(':') ? $"[{Host}]:{port}" : $"{Host}:{port}";
    }

    private static string StripBrackets(string host) =>
        host.Length >= 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
}
