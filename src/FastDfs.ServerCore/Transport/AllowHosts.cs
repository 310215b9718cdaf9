using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol.Config;
using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Transport;

/// <summary>Builds a server's <c>allow_hosts</c> list, resolving host names with DNS when the server starts.</summary>
public static class AllowHosts
{
    public static HostAllowList Build(IReadOnlyList<string> patterns, ILogger logger)
    {
        var list = HostAllowList.Parse(patterns, Resolve);
        foreach (string host in list.Unresolved)
        {
            logger.LogWarning("allow_hosts: {Host} does not resolve; it allows nobody", host);
        }

        if (!list.AllowsEveryone)
        {
            logger.LogInformation("allow_hosts: only {Patterns} may connect", string.Join(", ", patterns));
        }

        return list;
    }

    private static IReadOnlyList<IPAddress> Resolve(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host);
        }
        catch (SocketException)
        {
            return [];
        }
    }
}
