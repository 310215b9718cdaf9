using FastDfs.Protocol.Config;
using Microsoft.Extensions.Options;

namespace FastDfs.Client;

/// <summary>
/// What the attributes of <see cref="FastDfsOptions"/> cannot say: at least one tracker (given or from the client.conf),
/// each a valid <c>host:port</c>, and a client.conf that loads.
/// </summary>
internal sealed class FastDfsOptionsValidator : IValidateOptions<FastDfsOptions>
{
    public ValidateOptionsResult Validate(string? name, FastDfsOptions options)
    {
        var failures = new List<string>();
        var trackers = options.GivenTrackers;
        foreach (string tracker in trackers)
        {
            if (!FastDfsEndpoint.TryParse(tracker, Protocol.ProtocolConstants.DefaultTrackerPort, out var endpoint) || !IsHostName(endpoint.Host))
            {
                failures.Add($"FastDfs:Trackers: '{tracker}' is not a host:port address");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.HttpBaseUrl) &&
            !(Uri.TryCreate(options.HttpBaseUrl, UriKind.Absolute, out var baseUrl) && (baseUrl.Scheme == Uri.UriSchemeHttp || baseUrl.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add($"FastDfs:HttpBaseUrl: '{options.HttpBaseUrl}' is not an absolute http or https URL");
        }

        if (!string.IsNullOrWhiteSpace(options.ClientConfigPath))
        {
            try
            {
                var fromFile = FastDfsClientOptions.FromFile(options.ClientConfigPath);
                if (trackers.Count == 0 && fromFile.Trackers.Count == 0)
                {
                    failures.Add($"FastDfs:ClientConfigPath: {options.ClientConfigPath} names no tracker_server and FastDfs:Trackers is empty");
                }
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                failures.Add($"FastDfs:ClientConfigPath: {e.Message}");
            }
        }
        else if (trackers.Count == 0)
        {
            failures.Add("FastDfs:Trackers is empty: give at least one tracker (host:port) or a stock client.conf in FastDfs:ClientConfigPath");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>A name or address a connect can use: no blanks, and an address if it has colons (IPv6).</summary>
    private static bool IsHostName(string host) =>
        !host.Any(char.IsWhiteSpace) && (!host.Contains(':') || System.Net.IPAddress.TryParse(host, out _));
}
