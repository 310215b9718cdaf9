using System.CommandLine;
using System.Net;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Logging;
using FastDfs.Storage.Hosting;
using FastDfs.Tracker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The daemons: <c>fdfs tracker tracker.conf</c>, <c>fdfs storage storage.conf</c>, and
/// <c>fdfs server</c>, a tracker plus one storage in one process for local use.
/// </summary>
public static class ServerCommands
{
    public const string DefaultDataFolder = "fastdfs-data";

    public static Command CreateTracker() => CreateDaemonCommand("tracker", "tracker.conf", "Run a tracker from a stock tracker.conf", path =>
    {
        var config = TrackerConfig.Load(path);
        Directory.CreateDirectory(config.BasePath);
        return new Daemon(config.LogLevel, services => services.AddFastDfsTracker(config),
            clock => new StockLogFileProvider(TrackerLog(config, clock), clock), config.Disabled ? path : null,
            new DaemonFiles("tracker", DaemonControl.PidFile(config.BasePath, "tracker"), LogPath(config.BasePath, "trackerd"),
                ListenAddress(config.BindAddr, config.Port)));
    });

    public static Command CreateStorage() => CreateDaemonCommand("storage", "storage.conf", "Run a storage server from a stock storage.conf", path =>
    {
        var config = StorageConfig.Load(path);
        return new Daemon(config.LogLevel, services => services.AddFastDfsStorage(config),
            clock => new StockLogFileProvider(StorageLog(config, clock), clock), config.Disabled ? path : null,
            new DaemonFiles("storage", DaemonControl.PidFile(config.BasePath, "storage"), LogPath(config.BasePath, "storaged"),
                ListenAddress(config.BindAddr, config.Port)));
    });

    /// <summary>
    /// <c>fdfs tracker|storage CONF [start|stop|restart|status] [-N]</c>: without an action the daemon runs in the
    /// foreground (systemd units, containers, terminals); with one, as stock's <c>fdfs_trackerd</c> / <c>fdfs_storaged</c>
    /// (<see cref="DaemonControl"/>). <c>-N</c> / <c>--no-daemon</c> keeps <c>start</c> in the foreground, as stock's.
    /// </summary>
    private static Command CreateDaemonCommand(string role, string confName, string description, Func<string, Daemon> load)
    {
        var conf = new Argument<FileInfo>(confName) { Description = $"stock {confName}" };
        var action = new Argument<string?>("action")
        {
            Description = "start (detached), stop, restart or status, as stock's daemons; none = run in the foreground",
            Arity = ArgumentArity.ZeroOrOne,
        };
        action.AcceptOnlyFromAmong(DaemonControl.Actions);
        var noDaemon = new Option<bool>("--no-daemon", "-N") { Description = "start in the foreground (stock's -N)" };
        var command = new Command(role, description) { conf, action, noDaemon };
        command.SetAction(async (result, ct) =>
        {
            string path = result.GetValue(conf)!.FullName;
            var error = result.InvocationConfiguration.Error;
            if (await LoadAsync(() => load(path), error).ConfigureAwait(false) is not { } daemon)
            {
                return ConfigErrorExitCode;
            }

            var files = daemon.Files!;
            switch (result.GetValue(action))
            {
                case null:
                    return await RunDaemonAsync(daemon, result, ct).ConfigureAwait(false);
                case "start" when result.GetValue(noDaemon):
                    return await RunDaemonAsync(daemon, result, ct).ConfigureAwait(false);
                case "start":
                    return await StartDetachedAsync(daemon, path, error, ct).ConfigureAwait(false);
                case "stop":
                    return await DaemonControl.StopAsync(files.PidFile, files.Listen, error, quiet: false, ct).ConfigureAwait(false);
                case "restart":
                    int stopped = await DaemonControl.StopAsync(files.PidFile, files.Listen, error, quiet: true, ct).ConfigureAwait(false);
                    if (stopped is not (0 or Errno.ENOENT or DaemonControl.ESRCH))
                    {
                        return stopped;
                    }

                    if (stopped == 0)
                    {
                        await error.WriteLineAsync("starting ...").ConfigureAwait(false);
                    }

                    return await StartDetachedAsync(daemon, path, error, ct).ConfigureAwait(false);
                default:
                    return await DaemonControl.StatusAsync(files.PidFile, result.InvocationConfiguration.Output).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static async Task<int> StartDetachedAsync(Daemon daemon, string conf, TextWriter error, CancellationToken ct)
    {
        if (daemon.DisabledBy is { } disabledConf)
        {
            await error.WriteLineAsync(DisabledMessage(disabledConf)).ConfigureAwait(false);
            return DisabledExitCode;
        }

        var files = daemon.Files!;
        return await DaemonControl.StartAsync(files.Role, conf, files.PidFile, files.LogFile, error, ct).ConfigureAwait(false);
    }

    private static IPEndPoint ListenAddress(string bindAddr, int port) =>
        new(string.IsNullOrEmpty(bindAddr) ? IPAddress.Any : IPAddress.Parse(bindAddr), port);

    private static string LogPath(string basePath, string name) => Path.Combine(basePath, "logs", name + ".log");

    public static Command CreateServer()
    {
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "data folder (tracker/ and storage/ below it)",
            DefaultValueFactory = _ => new DirectoryInfo(DefaultDataFolder),
        };
        var trackerPort = new Option<int>("--tracker-port") { Description = "tracker port", DefaultValueFactory = _ => 22122 };
        var storagePort = new Option<int>("--storage-port") { Description = "storage port", DefaultValueFactory = _ => 23000 };
        var group = new Option<string>("--group") { Description = "group name", DefaultValueFactory = _ => "group1" };
        var trackerHttpPort = new Option<int>("--tracker-http-port")
        {
            Description = "tracker HTTP port: dashboard, file redirects, upload, /metrics (0 = off)",
            DefaultValueFactory = _ => TrackerConfig.DefaultHttpServerPort,
        };
        var storageHttpPort = new Option<int>("--storage-http-port")
        {
            Description = "storage HTTP port: file downloads, /metrics (0 = off)",
            DefaultValueFactory = _ => StorageConfig.DefaultHttpServerPort,
        };
        var uploadSecret = new Option<string>("--http-upload-secret")
        {
            Description = "secret for HTTP upload/delete on the tracker (X-FastDFS-Secret header); none = off",
            DefaultValueFactory = _ => "",
        };
        var trunk = new Option<bool>("--trunk")
        {
            Description = "store small files in trunk files (use_trunk_file = true with stock's trunk defaults)",
        };
        var command = new Command("server", "Run a local all-in-one cluster: one tracker and one storage in this process")
        {
            data, trackerPort, storagePort, group, trackerHttpPort, storageHttpPort, uploadSecret, trunk,
        };
        command.SetAction(async (result, ct) => await LoadAsync(() =>
        {
            var (tracker, storage) = AllInOne(result.GetValue(data)!.FullName, result.GetValue(trackerPort),
                result.GetValue(storagePort), result.GetValue(group)!);
            (tracker, storage) = WithHttp(tracker, storage, result.GetValue(trackerHttpPort), result.GetValue(storageHttpPort),
                result.GetValue(uploadSecret) ?? "");
            tracker = WithTrunk(tracker, result.GetValue(trunk));
            result.InvocationConfiguration.Output.WriteLine(
                $"fdfs server: tracker on port {tracker.Port}, storage {storage.GroupName} on port {storage.Port}, data in {result.GetValue(data)!.FullName}");
            if (tracker.UseTrunkFile)
            {
                result.InvocationConfiguration.Output.WriteLine(
                    $"fdfs server: trunk mode, files up to {tracker.SlotMaxSize - 24} bytes go into {tracker.TrunkFileSize >> 20} MB trunk files");
            }

            if (tracker.Http.Enabled)
            {
                result.InvocationConfiguration.Output.WriteLine(
                    $"fdfs server: dashboard http://127.0.0.1:{tracker.HttpServerPort}/ (files: http://127.0.0.1:{tracker.HttpServerPort}/<file id>)");
            }

            if (storage.Http.Enabled)
            {
                result.InvocationConfiguration.Output.WriteLine(
                    $"fdfs server: storage files http://127.0.0.1:{storage.HttpServerPort}/<file id>, metrics /metrics on both HTTP ports");
            }
            return new Daemon(tracker.LogLevel, services => services.AddFastDfsTracker(tracker).AddFastDfsStorage(storage), clock =>
            {
                // One process, both roles: each writes its own stock log file, the shared parts (listeners...) the tracker's.
                LogFile trackerLog = TrackerLog(tracker, clock), storageLog = StorageLog(storage, clock);
                return new StockLogFileProvider([trackerLog, storageLog],
                    category => category.StartsWith("FastDfs.Storage", StringComparison.Ordinal) ? storageLog : trackerLog, clock);
            }, DisabledBy: null, Files: null);
        }, result.InvocationConfiguration.Error).ConfigureAwait(false) is { } daemon
            ? await RunDaemonAsync(daemon, result, ct).ConfigureAwait(false)
            : ConfigErrorExitCode);
        return command;
    }

    /// <summary>Configurations of the all-in-one server: stock defaults, shorter report intervals so the
    /// storage becomes ACTIVE within seconds.</summary>
    public static (TrackerConfig Tracker, StorageConfig Storage) AllInOne(string dataFolder, int trackerPort, int storagePort, string group)
    {
        string trackerBase = Path.Combine(dataFolder, "tracker");
        string storageBase = Path.Combine(dataFolder, "storage");
        Directory.CreateDirectory(trackerBase);
        Directory.CreateDirectory(storageBase);
        var tracker = TrackerConfig.Default(trackerBase) with { Port = trackerPort };
        var storage = StorageConfig.Default(storageBase, [new TrackerAddress("127.0.0.1", trackerPort)], group) with
        {
            Port = storagePort,
            HeartBeatInterval = 5,
            StatReportInterval = 10,
        };
        return (tracker, storage);
    }

    /// <summary>
    /// <c>--trunk</c>: trunk mode with stock's trunk defaults (the tracker.conf keys left at their code defaults), and
    /// store_server moved off round robin as the stock tracker does when use_trunk_file is on.
    /// </summary>
    public static TrackerConfig WithTrunk(TrackerConfig tracker, bool trunk) => !trunk ? tracker : tracker with
    {
        UseTrunkFile = true,
        StoreServer = tracker.StoreServer == StoreServerSelection.RoundRobin ? StoreServerSelection.FirstByIp : tracker.StoreServer,
    };

    /// <summary>The all-in-one HTTP servers: a port of 0 turns one off.</summary>
    public static (TrackerConfig Tracker, StorageConfig Storage) WithHttp(TrackerConfig tracker, StorageConfig storage,
        int trackerHttpPort, int storageHttpPort, string uploadSecret)
    {
        // The tracker redirects to the storage's HTTP port, which the storage reports itself (HTTP_PORT query);
        // the fallback only matters for a storage that cannot answer.
        tracker = tracker with
        {
            HttpServerPort = trackerHttpPort,
            Http = tracker.Http with { Enabled = trackerHttpPort > 0, UploadSecretKey = uploadSecret, StorageServerPort = storageHttpPort > 0 ? storageHttpPort : StorageConfig.DefaultHttpServerPort },
        };
        storage = storage with { HttpServerPort = storageHttpPort, Http = storage.Http with { Enabled = storageHttpPort > 0 } };
        return (tracker, storage);
    }

    /// <summary>What a daemon command runs: its log level, its services, its stock log files, the conf that disables it (if
    /// one does) and, for a tracker or storage of its own conf, its pid file, log file and listen address.</summary>
    private sealed record Daemon(string LogLevel, Action<IServiceCollection> Register, Func<TimeProvider, StockLogFileProvider> LogFiles,
        string? DisabledBy, DaemonFiles? Files);

    private sealed record DaemonFiles(string Role, string PidFile, string LogFile, IPEndPoint Listen);

    /// <summary><c>base_path/logs/trackerd.log</c>, as stock's tracker.</summary>
    private static LogFile TrackerLog(TrackerConfig config, TimeProvider clock) =>
        new(Path.Combine(config.BasePath, "logs"), "trackerd", config.ErrorLog, clock);

    /// <summary><c>base_path/logs/storaged.log</c>, as stock's storage.</summary>
    private static LogFile StorageLog(StorageConfig config, TimeProvider clock) =>
        new(Path.Combine(config.BasePath, "logs"), "storaged", config.ErrorLog, clock);

    /// <summary>Exit code of a configuration that does not load.</summary>
    private const int ConfigErrorExitCode = 2;

    /// <summary>Loads a daemon's configuration, or prints why it does not load (null).</summary>
    private static async Task<Daemon?> LoadAsync(Func<Daemon> load, TextWriter error)
    {
        try
        {
            return load();
        }
        catch (ConfigException ex)
        {
            await error.WriteLineAsync($"configuration error: {ex.Message}").ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Runs a daemon in this process until it is stopped (SIGTERM, Ctrl+C, the token).</summary>
    private static async Task<int> RunDaemonAsync(Daemon daemon, ParseResult result, CancellationToken ct)
    {
        var (logLevel, register, logFiles, disabledBy, files) = daemon;
        if (disabledBy is not null)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync(DisabledMessage(disabledBy)).ConfigureAwait(false);
            return DisabledExitCode;
        }

        InlineSocketCompletions.EnableUnlessSet();
        bool detached = DaemonControl.IsDaemonChild;
        DaemonControl.PidFileLock? pidLock = null;
        try
        {
            // Before anything listens: a second daemon of this conf (started at the same moment too) stops here.
            if (files is not null && (pidLock = DaemonControl.TryLock(files.PidFile, out int? holder)) is null)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"process already running, pid: {holder} ({files.PidFile})").ConfigureAwait(false);
                return Errno.EEXIST;
            }

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            // The stock log file under base_path/logs, and the console for the foreground and containers. Disposed here, after
            // the host, so that the last lines are written: the logger factory does not dispose a provider it was handed.
            using var fileLog = logFiles(TimeProvider.System);
            builder.Logging.AddProvider(fileLog);
            if (!detached)
            {
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                });
            }

            builder.Logging.SetMinimumLevel(ToLogLevel(logLevel));
            // The embedded Kestrel hosts would print "Now listening on: http://..." for the FastDFS TCP ports;
            // the tracker and storage log their own listen lines instead.
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            // ASP.NET Core logs two lines per HTTP request at Information: the HTTP ports' traffic would drown the servers'
            // own lines. log_level = debug lets them through (docs/configuration.md).
            if (ToLogLevel(logLevel) > LogLevel.Debug)
            {
                builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            }
            register(builder.Services);
            // Under systemd (Type=notify, deploy/systemd): READY=1 once the ports listen, STOPPING=1 on stop, journal log
            // format; a NOTIFY_SOCKET of another supervisor gets READY=1 / STOPPING=1 too; nothing otherwise.
            builder.Services.AddSystemd();
            if (NotifySocket.Wanted)
            {
                builder.Services.AddHostedService<NotifySocket>();
            }
            using var host = builder.Build();
            if (pidLock is not null)
            {
                // Written once the ports listen: `start` waits for it, `stop` and `status` read it.
                host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(pidLock.WritePid);
            }

            if (detached)
            {
                // Only now: what went wrong before (a log folder that cannot be written...) reached the launcher's pipe.
                DaemonControl.Detach();
            }

            // Made before the run: RunAsync disposes the host (and its logger factory) when it ends, failed or not.
            var daemonLog = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FastDfs.Daemon");
            try
            {
                await host.RunAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (LogFatal(daemonLog, e))
            {
                throw; // not reached: the filter logs and lets the failure go on
            }
            return 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            pidLock?.Dispose();
        }
    }

    /// <summary>Stock daemons exit with ECANCELED when their .conf says <c>disabled = true</c>.</summary>
    public const int DisabledExitCode = 125;

    /// <summary>Writes why the daemon ends to its log file (a detached daemon has no terminal to print it on); false, so
    /// that the failure goes on as it would.</summary>
    private static bool LogFatal(ILogger daemonLog, Exception e)
    {
        if (e is not OperationCanceledException)
        {
            daemonLog.LogCritical(e, "exit abnormally: {Message}", e.Message);
        }

        return false;
    }

    private static string DisabledMessage(string conf) => $"conf file \"{conf}\" has disabled = true: not starting";

    /// <summary>Maps stock log_level names (syslog style) to Microsoft.Extensions.Logging levels.</summary>
    public static LogLevel ToLogLevel(string stockLevel) => stockLevel.Trim().ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "notice" or "warn" or "warning" => LogLevel.Warning,
        "error" or "err" => LogLevel.Error,
        "crit" or "alert" or "emerg" => LogLevel.Critical,
        _ => LogLevel.Information,
    };
}
