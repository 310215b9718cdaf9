using System.Net.Sockets;
using System.Text;

namespace FastDfs.IntegrationTests.Http;

/// <summary>Sends a request line exactly as written (HttpClient would normalise <c>../</c> away before sending).</summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Response)> GetAsync(int port, string target, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, ct);
        await using var stream = tcp.GetStream();
        var request = Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request, ct);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        string response = await reader.ReadToEndAsync(ct);
        var statusLine = response.Split("\r\n", 2)[0].Split(' ');
        return (int.Parse(statusLine[1]), response);
    }
}
