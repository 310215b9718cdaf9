using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The daemons under a Type=notify unit (deploy/systemd): systemd passes NOTIFY_SOCKET, the daemon sends READY=1 once its
/// port listens and STOPPING=1 when it is stopped. The test plays systemd's side of the socket.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task The_tracker_daemon_tells_systemd_when_it_listens_and_when_it_stops()
    {
        var ct = Timeouts.Test();
        string root = Directory.CreateTempSubdirectory("fdfs-systemd-").FullName;
        string notifyPath = Path.Combine(root, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        int port = FreePorts.On();
        string conf = Path.Combine(root, "tracker.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {root}\nbind_addr = 127.0.0.1\nport = {port}\nhttp.server_port = 0\n", ct);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "fdfs.dll"), "tracker", conf })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        using var daemon = Process.Start(start)!;
        var log = new StringBuilder();
        daemon.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        daemon.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        try
        {
            string ready = await ReceiveAsync(notify, ct);
            Assert.Contains("READY=1", ready);
            using (var client = new TcpClient())
            {
                await client.ConnectAsync("127.0.0.1", port, ct); // listening when it says so
            }

            Process.Start("kill", ["-TERM", $"{daemon.Id}"])!.WaitForExit();
            Assert.Contains("STOPPING=1", await ReceiveAsync(notify, ct));
            await daemon.WaitForExitAsync(ct);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[4096];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
