using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;

namespace FastDfs.Tracker.Tests.Infrastructure;

/// <summary>A stand-in leader tracker on 127.0.0.1: answers every request (JOIN_LEADER, PING_LEADER...) with an empty OK.</summary>
public sealed class FakeLeader : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public FakeLeader()
    {
        _listener.Start();
        _accept = AcceptAsync();
    }

    public string HostPort => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // InvalidOperationException: the listener was stopped between an accept and the next one ("Not listening").
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var header = new byte[ProtocolConstants.HeaderSize];
                while (true)
                {
                    await stream.ReadExactlyAsync(header, _stop.Token);
                    var h = PacketHeader.Read(header);
                    if (h.Cmd == FdfsCommand.Quit)
                    {
                        return;
                    }

                    await stream.ReadExactlyAsync(new byte[h.BodyLength], _stop.Token);
                    await stream.WriteAsync(new PacketHeader(0, FdfsCommand.Response).ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}
