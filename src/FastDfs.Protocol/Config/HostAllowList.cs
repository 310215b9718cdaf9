using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastDfs.Protocol.Config;

/// <summary>
/// Stock's <c>allow_hosts</c> (tracker.conf and storage.conf, repeatable): <c>*</c> for everyone, an address
/// (<c>10.0.0.5</c>, IPv6 too), a CIDR block (<c>192.168.5.64/26</c>), a range in brackets
/// (<c>10.0.1.[1-15,20]</c>, <c>host[01-08,20-25].domain.com</c>: zero-padded like the range's first number) or a host
/// name (resolved when the server starts). A peer the list does not allow is disconnected at accept, as stock does.
/// </summary>
public sealed class HostAllowList
{
    private const int MaxExpansions = 65_536;

    private readonly HashSet<IPAddress> _addresses;
    private readonly List<(IPAddress Network, int PrefixLength)> _blocks;

    private HostAllowList(bool everyone, HashSet<IPAddress> addresses, List<(IPAddress, int)> blocks, IReadOnlyList<string> unresolved)
    {
        AllowsEveryone = everyone;
        _addresses = addresses;
        _blocks = blocks;
        Unresolved = unresolved;
    }

    public static HostAllowList Everyone { get; } = new(true, [], [], []);

    public bool AllowsEveryone { get; }

    /// <summary>Host names that did not resolve when the list was built (they allow nobody).</summary>
    public IReadOnlyList<string> Unresolved { get; }

    /// <summary>
    /// Builds the list from the <c>allow_hosts</c> values; <paramref name="resolve"/> looks up a host name (the server
    /// passes DNS; it returns no address for a name that does not resolve).
    /// </summary>
    /// <exception cref="FormatException">A value that is neither <c>*</c>, an address, a CIDR block, a range nor a host name.</exception>
    public static HostAllowList Parse(IEnumerable<string> patterns, Func<string, IReadOnlyList<IPAddress>> resolve)
    {
        var addresses = new HashSet<IPAddress>();
        var blocks = new List<(IPAddress, int)>();
        var unresolved = new List<string>();
        bool any = false;
        foreach (string raw in patterns)
        {
            string pattern = raw.Trim();
            if (pattern.Length == 0)
            {
                continue;
            }

            any = true;
            if (pattern == "*")
            {
                return Everyone;
            }

            int slash = pattern.IndexOf('/');
            if (slash > 0)
            {
                if (!IPAddress.TryParse(pattern[..slash], out var network) ||
                    !int.TryParse(pattern[(slash + 1)..], out int prefix) ||
                    prefix < 0 || prefix > (network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
                {
                    throw new FormatException($"allow_hosts: invalid CIDR block '{pattern}'");
                }

                blocks.Add((Normalize(network), prefix));
                continue;
            }

            foreach (string host in Expand(pattern))
            {
                if (IPAddress.TryParse(host, out var address))
                {
                    addresses.Add(Normalize(address));
                }
                else if (IsHostName(host))
                {
                    var found = resolve(host);
                    if (found.Count == 0)
                    {
                        unresolved.Add(host);
                    }

                    foreach (var a in found)
                    {
                        addresses.Add(Normalize(a));
                    }
                }
                else
                {
                    throw new FormatException($"allow_hosts: '{host}' (from '{pattern}') is not an address or a host name");
                }
            }
        }

        return any ? new HostAllowList(false, addresses, blocks, unresolved) : Everyone;
    }

    public bool Allows(IPAddress address)
    {
        if (AllowsEveryone)
        {
            return true;
        }

        address = Normalize(address);
        if (_addresses.Contains(address))
        {
            return true;
        }

        foreach (var (network, prefix) in _blocks)
        {
            if (InBlock(address, network, prefix))
            {
                return true;
            }
        }

        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool InBlock(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.TryWriteBytes(a, out int length);
        network.TryWriteBytes(n, out _);
        for (int bit = 0; bit < prefix && bit < length * 8; bit += 8)
        {
            int bits = Math.Min(8, prefix - bit);
            int mask = (0xFF << (8 - bits)) & 0xFF;
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHostName(string host) =>
        host.Length is > 0 and <= 253 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');

    /// <summary>Expands bracketed ranges: <c>10.0.1.[1-3,7]</c> gives 10.0.1.1, .2, .3 and .7; <c>h[08-10]</c> gives h08, h09, h10.</summary>
    internal static IEnumerable<string> Expand(string pattern)
    {
        int open = pattern.IndexOf('[');
        if (open < 0)
        {
            return [pattern];
        }

        int close = pattern.IndexOf(']', open);
        if (close < 0)
        {
            throw new FormatException($"allow_hosts: '{pattern}' has a '[' without ']'");
        }

        string head = pattern[..open];
        var tails = Expand(pattern[(close + 1)..]).ToList();
        var results = new List<string>();
        foreach (string part in pattern[(open + 1)..close].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-');
            string first = dash < 0 ? part : part[..dash];
            string last = dash < 0 ? part : part[(dash + 1)..];
            if (!int.TryParse(first, out int from) || !int.TryParse(last, out int to) || from < 0 || to < from)
            {
                throw new FormatException($"allow_hosts: invalid range '[{part}]' in '{pattern}'");
            }

            int width = first.Length > 1 && first[0] == '0' ? first.Length : 0;
            for (int i = from; i <= to; i++)
            {
                string number = width > 0 ? i.ToString(new string('0', width), System.Globalization.CultureInfo.InvariantCulture)
                    : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (string tail in tails)
                {
                    results.Add(new StringBuilder(head).Append(number).Append(tail).ToString());
                    if (results.Count > MaxExpansions)
                    {
                        throw new FormatException($"allow_hosts: '{pattern}' expands to more than {MaxExpansions} hosts");
                    }
                }
            }
        }

        return results;
    }
}
