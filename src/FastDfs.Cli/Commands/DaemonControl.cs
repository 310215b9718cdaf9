using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using FastDfs.Protocol;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>fdfs tracker|storage CONF start|stop|restart|status</c>, as <c>fdfs_trackerd</c> / <c>fdfs_storaged</c> do it: a pid
/// file in <c>base_path/data</c> (<c>fdfs_trackerd.pid</c>, <c>fdfs_storaged.pid</c>), <c>start</c> runs the daemon detached
/// (its own session, no terminal, logging to its files only) and returns once it listens, <c>stop</c> sends SIGTERM and
/// waits for the process to end (SIGKILL after 30 s) and its port to close. The messages and exit codes (errno values)
/// are stock's. A daemon in the foreground writes the pid file too, so <c>stop</c> and <c>status</c> find it.
/// </summary>
internal static partial class DaemonControl
{
    /// <summary>Set in the environment of the process <c>start</c> launches: it detaches itself and logs to its files only.</summary>
    public const string DaemonEnvironment = "FDFS_DAEMONIZED";

    /// <summary>No such process (kill's errno).</summary>
    public const int ESRCH = 3;

    private const int SIGKILL = 9;
    private const int SIGTERM = 15;

    /// <summary>Whether this process is a daemon launched by <c>start</c>.</summary>
    public static bool IsDaemonChild => Environment.GetEnvironmentVariable(DaemonEnvironment) == "1";

    /// <summary><c>base_path/data/fdfs_trackerd.pid</c> or <c>fdfs_storaged.pid</c>.</summary>
    public static string PidFile(string basePath, string role) => Path.Combine(basePath, "data", $"fdfs_{role}d.pid");

    /// <summary>The actions stock's daemons take after the conf file.</summary>
    public static readonly string[] Actions = ["start", "stop", "restart", "status"];

    /// <summary>In the launched daemon, before anything else: a session of its own (no terminal, no SIGHUP from it) and
    /// /dev/null for stdin, stdout and stderr (its launcher stops reading them when it returns).</summary>
    public static void Detach()
    {
        _ = setsid();
        int devNull = open("/dev/null", 2 /* O_RDWR */);
        if (devNull >= 0)
        {
            _ = dup2(devNull, 0);
            _ = dup2(devNull, 1);
            _ = dup2(devNull, 2);
            if (devNull > 2)
            {
                _ = close(devNull);
            }
        }
    }

    /// <summary>The process of the pid file when it runs and is this program: the same executable, whatever name it was
    /// started by (<c>fdfs</c>, a link named <c>fdfs_trackerd</c>...). Stock compares the names; a reused pid is not a daemon.</summary>
    public static int? RunningPid(string pidFile)
    {
        if (ReadPid(pidFile) is not { } pid || !IsAlive(pid))
        {
            return null;
        }

        return ExecutablePath(pid) is { } path && path == ExecutablePath(Environment.ProcessId) ? pid : null;
    }

    private static string? ExecutablePath(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes this process's pid file (a daemon that listens).</summary>
    public static void WritePidFile(string pidFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pidFile)!);
        string partial = pidFile + ".tmp";
        File.WriteAllText(partial, $"{Environment.ProcessId}\n");
        File.Move(partial, pidFile, overwrite: true);
    }

    /// <summary>Removes the pid file if it is still this process's (a daemon that ends).</summary>
    public static void RemovePidFile(string pidFile)
    {
        if (ReadPid(pidFile) == Environment.ProcessId)
        {
            File.Delete(pidFile);
        }
    }

    /// <summary>
    /// Launches <c>fdfs ROLE CONF</c> detached and waits until it listens (its pid file appears), it exits (a failed start:
    /// the end of its log is shown), or 60 s pass (it goes on starting: a storage may first recover a disk).
    /// </summary>
    public static async Task<int> StartAsync(string role, string conf, string pidFile, string logFile, TextWriter error, CancellationToken ct)
    {
        if (RunningPid(pidFile) is { } running)
        {
            await error.WriteLineAsync($"process {ExecutableName(running)} already running, pid: {running}").ConfigureAwait(false);
            return Errno.EEXIST;
        }

        var start = SelfStartInfo();
        start.ArgumentList.Add(role);
        start.ArgumentList.Add(conf);
        start.Environment[DaemonEnvironment] = "1";
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var daemon = Process.Start(start) ?? throw new IOException($"could not start {start.FileName}");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (daemon.HasExited)
            {
                await error.WriteLineAsync($"fdfs {role}: the daemon exited while starting (exit code {daemon.ExitCode}); the end of {logFile}:")
                    .ConfigureAwait(false);
                foreach (string line in LastEntries(logFile, 10))
                {
                    await error.WriteLineAsync(line).ConfigureAwait(false);
                }

                return daemon.ExitCode == 0 ? 1 : daemon.ExitCode;
            }

            if (ReadPid(pidFile) == daemon.Id)
            {
                return 0;
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }

        await error.WriteLineAsync($"fdfs {role}: pid {daemon.Id} is still starting (see {logFile})").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Stops the daemon of the pid file: SIGTERM, a wait of up to 30 s (SIGTERM again every second), then SIGKILL;
    /// then waits until <paramref name="port"/> no longer accepts connections.</summary>
    /// <param name="quiet">restart: a daemon that does not run is not an error to print</param>
    public static async Task<int> StopAsync(string pidFile, IPEndPoint port, TextWriter error, bool quiet, CancellationToken ct)
    {
        if (ReadPid(pidFile) is not { } pid)
        {
            if (!quiet)
            {
                await error.WriteLineAsync($"pid file: {pidFile} not exist!").ConfigureAwait(false);
            }

            return Errno.ENOENT;
        }

        if (kill(pid, SIGTERM) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (!quiet || errno != ESRCH)
            {
                await error.WriteLineAsync($"kill pid: {pid} fail, errno: {errno}, error info: {Marshal.GetPInvokeErrorMessage(errno)}").ConfigureAwait(false);
            }

            if (errno == ESRCH)
            {
                File.Delete(pidFile); // a daemon killed with -9 left it
            }

            return errno;
        }

        await error.WriteLineAsync($"waiting for pid [{pid}] exit ...").ConfigureAwait(false);
        int i = 0;
        for (; i < 300 && IsAlive(pid); i++)
        {
            if (i % 10 == 9)
            {
                _ = kill(pid, SIGTERM);
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }

        if (i == 300 && kill(pid, SIGKILL) == 0)
        {
            await error.WriteLineAsync($"waiting for pid [{pid}] exit timeout, force kill!").ConfigureAwait(false);
            while (IsAlive(pid))
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }

        await error.WriteLineAsync($"pid [{pid}] exit.").ConfigureAwait(false);
        await error.WriteLineAsync().ConfigureAwait(false);
        if (File.Exists(pidFile) && ReadPid(pidFile) == pid)
        {
            File.Delete(pidFile);
        }

        await WaitUntilClosedAsync(port, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary><c>Running, pid: N</c> or <c>NOT running</c> (exit code ENOENT), as stock's <c>status</c>.</summary>
    public static async Task<int> StatusAsync(string pidFile, TextWriter output)
    {
        if (ReadPid(pidFile) is { } pid && IsAlive(pid))
        {
            await output.WriteLineAsync($"Running, pid: {pid}").ConfigureAwait(false);
            return 0;
        }

        await output.WriteLineAsync("NOT running").ConfigureAwait(false);
        return Errno.ENOENT;
    }

    /// <summary>How to run this program again: its executable, or <c>dotnet fdfs.dll</c> when it runs on the shared runtime.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string self = Environment.ProcessPath ?? throw new IOException("cannot tell this program's path");
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fdfs.dll"));
        }

        return start;
    }

    /// <summary>Waits (up to 10 s) until nothing accepts connections on the daemon's port any more.</summary>
    private static async Task WaitUntilClosedAsync(IPEndPoint port, CancellationToken ct)
    {
        var target = port.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, port.Port) : port;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var probe = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(1));
                await probe.ConnectAsync(target, attempt.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                return;
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    private static int? ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid) && pid > 0 ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether the process exists and is not a zombie (a daemon killed after its launcher ended waits for init to reap it).</summary>
    private static bool IsAlive(int pid)
    {
        if (kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() != 1 /* EPERM: alive, not ours */)
        {
            return false;
        }

        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int afterName = stat.LastIndexOf(')');
            return afterName < 0 || afterName + 2 >= stat.Length || stat[afterName + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The name of a process's argv[0] (<c>fdfs</c>, or <c>dotnet</c> for <c>dotnet fdfs.dll</c>).</summary>
    private static string? ExecutableName(int pid)
    {
        try
        {
            byte[] cmdline = File.ReadAllBytes($"/proc/{pid}/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            return Path.GetFileName(System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The last <paramref name="count"/> entries of a log file, without the stack traces that follow some.</summary>
    private static IEnumerable<string> LastEntries(string path, int count)
    {
        try
        {
            return File.ReadLines(path).Where(line => line.StartsWith('[')).TakeLast(count).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldFd, int newFd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
