using System.Net;
using System.Net.Sockets;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;

namespace FastDfs.IntegrationTests.Security;

/// <summary><c>allow_hosts</c> is enforced at accept on the tracker and storage ports (127.0.0.2 plays another host).</summary>
public sealed class AllowHostsTests
{
    /// <summary>ACTIVE_TEST from <paramref name="from"/>; false when the server closed the connection without an answer.</summary>
    private static async Task<bool> AnswersAsync(IPEndPoint server, string from, CancellationToken ct)
    {
        using var client = new TcpClient(new IPEndPoint(IPAddress.Parse(from), 0));
        await client.ConnectAsync(server, ct);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(new PacketHeader(0, FdfsCommand.ActiveTest).ToArray(), ct);
            var reply = new byte[ProtocolConstants.HeaderSize];
            int read = 0;
            while (read < reply.Length)
            {
                int n = await stream.ReadAsync(reply.AsMemory(read), ct);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return PacketHeader.Read(reply).Status == 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task OnlyAllowedHostsReachTheTrackerAndTheStorage()
    {
        var ct = Timeouts.Test(60);
        // The storage and its tracker talk from 127.0.0.1; clients come from 127.0.0.2 (allowed) or 127.0.0.3 (not).
        await using var cluster = await TestCluster.StartAsync(1,
            tracker => tracker with { AllowHosts = ["127.0.0.1", "127.0.0.[2,5-9]"] },
            (_, storage) => storage with { AllowHosts = ["127.0.0.0/31", "127.0.0.2"] }, ct);
        var tracker = cluster.Tracker.EndPoint;
        var storage = cluster.Storages[0].EndPoint;
        Assert.True(await AnswersAsync(tracker, "127.0.0.2", ct));
        Assert.False(await AnswersAsync(tracker, "127.0.0.3", ct));
        Assert.True(await AnswersAsync(storage, "127.0.0.2", ct));
        Assert.False(await AnswersAsync(storage, "127.0.0.3", ct));

        // The cluster itself still works (the storage joined and serves).
        await using var client = cluster.CreateClient();
        var id = await client.UploadAsync("allowed"u8.ToArray(), "txt", ct: ct);
        Assert.Equal("allowed"u8.ToArray(), await client.DownloadBytesAsync(id, ct: ct));
    }
}
