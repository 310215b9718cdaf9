using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol.Config;
using Microsoft.Extensions.Logging;

namespace FastDfs.ServerCore.Transport;

/// <summary>Builds a host list in <c>allow_hosts</c> syntax (allow_hosts, admin_hosts), resolving host names with DNS when the server starts.</summary>
public static class AllowHosts
{
    /// <param name="key">the setting, for the log: <c>allow_hosts</c> (who may connect) or <c>admin_hosts</c></param>
    public static HostAllowList Build(IReadOnlyList<string> patterns, ILogger logger, string key = "allow_hosts")
    {
        var list = HostAllowList.Parse(patterns, Resolve);
        foreach (string host in list.Unresolved)
        {
            logger.LogWarning("{Key}: {Host} does not resolve; it allows nobody", key, host);
        }

        if (!list.AllowsEveryone)
        {
            logger.LogInformation(key == "allow_hosts" ? "{Key}: only {Patterns} may connect" : "{Key}: {Patterns}", key, string.Join(", ", patterns));
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
