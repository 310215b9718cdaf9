using System.Globalization;

namespace FastDfs.Client;

/// <summary>A server address (<c>host:port</c>, IPv6 as <c>[addr]:port</c>).</summary>
public readonly record struct FastDfsEndpoint(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c>; <paramref name="defaultPort"/> is used when the port is missing.</summary>
    public static FastDfsEndpoint Parse(string text, int defaultPort = 22122)
    {
        if (!TryParse(text, defaultPort, out var endpoint))
        {
            throw new FormatException($"invalid server address '{text}': expected host:port");
        }

        return endpoint;
    }

    public static bool TryParse(string? text, int defaultPort, out FastDfsEndpoint endpoint)
    {
        endpoint = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        string host;
        string? port = null;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 2)
            {
                return false;
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    return false;
                }

                port = text[(close + 2)..];
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            bool singleColon = colon > 0 && text.IndexOf(':') == colon;
            host = singleColon ? text[..colon] : text;
            port = singleColon ? text[(colon + 1)..] : null;
        }

        int portNumber = defaultPort;
        if (port != null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is <= 0 or > 65535))
        {
            return false;
        }

        endpoint = new FastDfsEndpoint(host, portNumber);
        return host.Length > 0;
    }
}
