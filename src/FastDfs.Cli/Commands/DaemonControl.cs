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

    /// <summary>
    /// The daemon of the pid file when one runs: a running daemon holds an exclusive <c>flock</c> on its pid file for its
    /// whole life (the kernel drops it when the process ends, even with SIGKILL), so a stale file, a reused pid, this
    /// very process or the other role's daemon (the same executable) are never taken for it. The pid is null while the
    /// daemon starts (it writes its pid once it listens).
    /// </summary>
    public static bool IsRunning(string pidFile, out int? pid)
    {
        pid = null;
        FileStream file;
        try
        {
            file = new FileStream(pidFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            pid = ReadPid(pidFile); // locked against our open (file locking on): held
            return true;
        }

        using (file)
        {
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();
            if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            {
                _ = flock(fd, LOCK_UN);
                return false;
            }
        }

        pid = ReadPid(pidFile);
        return true;
    }

    /// <summary>
    /// In a daemon of a conf: takes its pid file's lock before anything listens, or returns null (with the holder's pid,
    /// if it wrote it) when another daemon of that conf runs or starts. The lock lives as long as the returned object.
    /// </summary>
    public static PidFileLock? TryLock(string pidFile, out int? holder)
    {
        holder = null;
        Directory.CreateDirectory(Path.GetDirectoryName(pidFile)!);
        var file = new FileStream(pidFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (flock((int)file.SafeFileHandle.DangerousGetHandle(), LOCK_EX | LOCK_NB) != 0)
        {
            file.Dispose();
            holder = ReadPid(pidFile);
            return null;
        }

        file.SetLength(0); // a stale pid is not this daemon's
        return new PidFileLock(pidFile, file);
    }

    /// <summary>A daemon's hold on its pid file: <see cref="WritePid"/> once it listens, removed when disposed.</summary>
    public sealed class PidFileLock(string path, FileStream file) : IDisposable
    {
        public void WritePid()
        {
            file.SetLength(0);
            file.Position = 0;
            file.Write(System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n"));
            file.Flush();
        }

        public void Dispose()
        {
            // Removed while still locked: a daemon starting now creates a new file and locks that one.
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind, unlocked: start, stop and status see a daemon that does not run.
            }

            file.Dispose();
        }
    }

    /// <summary>
    /// Launches <c>fdfs ROLE CONF</c> detached and waits until it listens (its pid file appears), it exits (a failed start:
    /// the end of its log is shown), or 60 s pass (it goes on starting: a storage may first recover a disk).
    /// </summary>
    public static async Task<int> StartAsync(string role, string conf, string pidFile, string logFile, TextWriter error, CancellationToken ct)
    {
        if (IsRunning(pidFile, out int? running))
        {
            await error.WriteLineAsync($"process {(running is { } pid ? ExecutableName(pid) : "fdfs")} already running, pid: {running}").ConfigureAwait(false);
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
        // What the daemon prints before it detaches (a failure before its log file is open); the pipe ends when it does.
        var earlyOutput = daemon.StandardError.ReadToEndAsync(ct);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (daemon.HasExited)
            {
                string printed = (await earlyOutput.ConfigureAwait(false)).Trim();
                if (printed.Length > 0)
                {
                    await error.WriteLineAsync(printed).ConfigureAwait(false);
                }

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
        if (!File.Exists(pidFile))
        {
            if (!quiet)
            {
                await error.WriteLineAsync($"pid file: {pidFile} not exist!").ConfigureAwait(false);
            }

            return Errno.ENOENT;
        }

        int? pid = null;
        var starting = Stopwatch.StartNew();
        bool running;
        // A daemon that is starting holds the lock but has not written its pid yet: a few seconds for it.
        while ((running = IsRunning(pidFile, out pid)) && pid is null && starting.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100, ct).ConfigureAwait(false);
        }

        if (!running || pid is null)
        {
            // Stale (the daemon was killed with -9): nothing of it runs, whatever process has that pid now.
            int stale = ReadPid(pidFile) ?? 0;
            if (!quiet)
            {
                await error.WriteLineAsync($"kill pid: {stale} fail, errno: {ESRCH}, error info: No such process").ConfigureAwait(false);
            }

            File.Delete(pidFile);
            return ESRCH;
        }

        int target = pid.Value;
        if (kill(target, SIGTERM) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            await error.WriteLineAsync($"kill pid: {target} fail, errno: {errno}, error info: {Marshal.GetPInvokeErrorMessage(errno)}").ConfigureAwait(false);
            return errno;
        }

        await error.WriteLineAsync($"waiting for pid [{target}] exit ...").ConfigureAwait(false);
        var waited = Stopwatch.StartNew();
        while (IsRunning(pidFile, out _) && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100, ct).ConfigureAwait(false);
            if (waited.ElapsedMilliseconds / 1000 != (waited.ElapsedMilliseconds - 100) / 1000)
            {
                _ = kill(target, SIGTERM); // once a second, as stock
            }
        }

        if (IsRunning(pidFile, out _) && kill(target, SIGKILL) == 0)
        {
            await error.WriteLineAsync($"waiting for pid [{target}] exit timeout, force kill!").ConfigureAwait(false);
            var killed = Stopwatch.StartNew();
            while (IsRunning(pidFile, out _) && killed.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }

        await error.WriteLineAsync($"pid [{target}] exit.").ConfigureAwait(false);
        await error.WriteLineAsync().ConfigureAwait(false);
        if (File.Exists(pidFile) && !IsRunning(pidFile, out _))
        {
            File.Delete(pidFile); // left by a SIGKILL
        }

        await WaitUntilClosedAsync(port, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary><c>Running, pid: N</c> or <c>NOT running</c> (exit code ENOENT), as stock's <c>status</c>.</summary>
    public static async Task<int> StatusAsync(string pidFile, TextWriter output)
    {
        if (IsRunning(pidFile, out int? pid))
        {
            await output.WriteLineAsync(pid is { } known ? $"Running, pid: {known}" : "Running (starting)").ConfigureAwait(false);
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int LOCK_UN = 8;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldFd, int newFd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
