using System.Diagnostics;
using System.Net.Sockets;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// <c>fdfs tracker|storage CONF start|stop|restart|status</c>, as stock's daemons: a pid file in base_path/data, a detached
/// daemon that outlives its launcher, <c>stop</c> that returns once the process is gone and its port closed.
/// </summary>
public sealed class DaemonControlTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fdfs-daemon-").FullName;

    private static string Fdfs => Path.Combine(AppContext.BaseDirectory, "fdfs.dll");

    private static Task<(int Exit, string Output)> FdfsAsync(params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [Fdfs, .. args], TimeSpan.FromSeconds(90));

    private string PidFile(string role) => Path.Combine(_root, "data", $"fdfs_{role}d.pid");

    public void Dispose()
    {
        foreach (string role in new[] { "tracker", "storage" })
        {
            // A daemon a failed assertion left running.
            if (File.Exists(PidFile(role)) && int.TryParse(File.ReadAllText(PidFile(role)).Trim(), out int pid) && pid != Environment.ProcessId)
            {
                try
                {
                    using var left = Process.GetProcessById(pid);
                    left.Kill();
                    GoneAsync(pid).GetAwaiter().GetResult(); // before its folder goes
                }
                catch (ArgumentException)
                {
                }
            }
        }

        Directory.Delete(_root, recursive: true);
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The process has ended (and been reaped by init: the daemon is no child of the test).</summary>
    private static Task GoneAsync(int pid) =>
        Eventually.TrueAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(10), $"process {pid} to end");

    [Fact]
    public async Task Start_detaches_a_tracker_that_status_finds_and_stop_ends_with_its_port_closed()
    {
        int port = FreePorts.On();
        string conf = Path.Combine(_root, "tracker.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {_root}\nbind_addr = 127.0.0.1\nport = {port}\nhttp.server_port = 0\n");

        var (exit, output) = await FdfsAsync("tracker", conf, "start");
        Assert.True(exit == 0, output);
        Assert.True(await AcceptsAsync(port), "listening once start returns");
        int pid = int.Parse((await File.ReadAllTextAsync(PidFile("tracker"))).Trim());
        Assert.Contains($"Running, pid: {pid}", (await FdfsAsync("tracker", conf, "status")).Output);
        Assert.Matches(@"\] INFO - tracker listening on 127\.0\.0\.1:", await File.ReadAllTextAsync(Path.Combine(_root, "logs", "trackerd.log")));

        // A second start, detached or in the foreground, finds it running.
        (exit, output) = await FdfsAsync("tracker", conf, "start");
        Assert.Equal(17, exit);
        Assert.Contains($"already running, pid: {pid}", output);
        Assert.Equal(17, (await FdfsAsync("tracker", conf)).Exit);

        // restart: a new process on the same port.
        (exit, output) = await FdfsAsync("tracker", conf, "restart");
        Assert.True(exit == 0, output);
        Assert.Contains($"pid [{pid}] exit.", output);
        await GoneAsync(pid);
        int restarted = int.Parse((await File.ReadAllTextAsync(PidFile("tracker"))).Trim());
        Assert.NotEqual(pid, restarted);
        Assert.True(await AcceptsAsync(port));

        (exit, output) = await FdfsAsync("tracker", conf, "stop");
        Assert.True(exit == 0, output);
        Assert.Contains($"waiting for pid [{restarted}] exit ...", output);
        Assert.False(await AcceptsAsync(port), "the port is closed when stop returns");
        Assert.False(File.Exists(PidFile("tracker")));
        await GoneAsync(restarted);

        (exit, output) = await FdfsAsync("tracker", conf, "status");
        Assert.Equal(2, exit);
        Assert.Contains("NOT running", output);
        (exit, output) = await FdfsAsync("tracker", conf, "stop");
        Assert.Equal(2, exit);
        Assert.Contains($"pid file: {PidFile("tracker")} not exist!", output);
    }

    [Fact]
    public async Task A_storage_killed_with_9_leaves_a_stale_pid_file_that_start_and_status_see_through()
    {
        int trackerPort = FreePorts.On(), storagePort = FreePorts.On();
        string storageBase = Path.Combine(_root, "s");
        Directory.CreateDirectory(storageBase);
        string conf = Path.Combine(_root, "storage.conf");
        await File.WriteAllTextAsync(conf,
            $"group_name = group1\nbase_path = {_root}\nstore_path0 = {storageBase}\nbind_addr = 127.0.0.1\nport = {storagePort}\n" +
            $"tracker_server = 127.0.0.1:{trackerPort}\nhttp.server_port = 0\n");

        var (exit, output) = await FdfsAsync("storage", conf, "start");
        Assert.True(exit == 0, output);
        int pid = int.Parse((await File.ReadAllTextAsync(PidFile("storage"))).Trim());
        Process.GetProcessById(pid).Kill(); // SIGKILL: the pid file stays
        await GoneAsync(pid);
        Assert.True(File.Exists(PidFile("storage")));
        Assert.Equal(2, (await FdfsAsync("storage", conf, "status")).Exit);
        // A pid that lives again, even as the same executable (this test runs on dotnet too), is not the daemon: the lock says.
        await File.WriteAllTextAsync(PidFile("storage"), $"{Environment.ProcessId}\n");
        Assert.Equal(2, (await FdfsAsync("storage", conf, "status")).Exit);
        (exit, output) = await FdfsAsync("storage", conf, "stop");
        Assert.Equal(3, exit); // ESRCH, as stock's for a dead pid; nothing was signalled
        Assert.False(File.Exists(PidFile("storage")));
        await File.WriteAllTextAsync(PidFile("storage"), $"{Environment.ProcessId}\n");

        (exit, output) = await FdfsAsync("storage", conf, "start");
        Assert.True(exit == 0, output);
        Assert.True(await AcceptsAsync(storagePort));
        Assert.Equal(0, (await FdfsAsync("storage", conf, "stop")).Exit);
        Assert.False(await AcceptsAsync(storagePort));
    }

    [Fact]
    public async Task A_daemon_that_fails_after_detaching_makes_start_fail_with_the_end_of_its_log()
    {
        int port = FreePorts.On();
        string notADirectory = Path.Combine(_root, "file");
        await File.WriteAllTextAsync(notADirectory, "x");
        string conf = Path.Combine(_root, "storage.conf");
        await File.WriteAllTextAsync(conf,
            $"group_name = group1\nbase_path = {_root}\nstore_path0 = {notADirectory}\nbind_addr = 127.0.0.1\nport = {port}\n" +
            $"tracker_server = 127.0.0.1:{FreePorts.On()}\nhttp.server_port = 0\n");

        var (exit, output) = await FdfsAsync("storage", conf, "start");
        Assert.NotEqual(0, exit);
        Assert.Contains("the daemon exited while starting", output);
        Assert.Contains(notADirectory, output); // the log's last lines say why
        Assert.False(File.Exists(PidFile("storage")));
    }

    [Fact]
    public async Task A_link_named_fdfs_trackerd_takes_stock_daemon_command_lines_and_starts_detached_without_an_action()
    {
        int port = FreePorts.On();
        string conf = Path.Combine(_root, "tracker.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {_root}\nbind_addr = 127.0.0.1\nport = {port}\nhttp.server_port = 0\n");
        string link = Path.Combine(_root, "fdfs_trackerd");
        File.CreateSymbolicLink(link, Path.Combine(AppContext.BaseDirectory, "fdfs"));
        Task<(int Exit, string Output)> Daemon(params string[] args) => ProcessRunner.RunAsync(link, args, TimeSpan.FromSeconds(90));

        var (exit, output) = await Daemon();
        Assert.Equal(1, exit);
        Assert.Contains($"Usage: {link} [options] <config_file> [start | stop | restart | status]", output);

        (exit, output) = await Daemon(conf); // stock's default action: start, detached
        Assert.True(exit == 0, output);
        Assert.True(await AcceptsAsync(port));
        int pid = int.Parse((await File.ReadAllTextAsync(PidFile("tracker"))).Trim());
        Assert.Equal(17, (await Daemon(conf, "start")).Exit); // the same program, whatever name started it
        Assert.Contains($"Running, pid: {pid}", (await Daemon(conf, "status")).Output);
        Assert.Equal(0, (await Daemon(conf, "stop")).Exit);
        Assert.False(await AcceptsAsync(port));
        await GoneAsync(pid);
    }

    [Fact]
    public async Task A_conf_that_does_not_load_is_reported_before_anything_starts()
    {
        string conf = Path.Combine(_root, "tracker.conf");
        await File.WriteAllTextAsync(conf, $"base_path = {_root}\nport = not-a-port\n");
        var (exit, output) = await FdfsAsync("tracker", conf, "start");
        Assert.Equal(2, exit);
        Assert.Contains("configuration error", output);
        Assert.Contains("port", output);
        Assert.False(File.Exists(PidFile("tracker")));

        (exit, output) = await FdfsAsync("tracker", conf, "reload");
        Assert.NotEqual(0, exit);
        Assert.Contains("reload", output);
    }
}
