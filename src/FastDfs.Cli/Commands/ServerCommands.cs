using System.CommandLine;
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

    public static Command CreateTracker()
    {
        var conf = new Argument<FileInfo>("tracker.conf") { Description = "stock tracker.conf" };
        var command = new Command("tracker", "Run a tracker from a stock tracker.conf") { conf };
        command.SetAction((result, ct) => RunDaemonAsync(() =>
        {
            var config = TrackerConfig.Load(result.GetValue(conf)!.FullName);
            ThrowIfDisabled(config.Disabled, result.GetValue(conf)!.FullName);
            Directory.CreateDirectory(config.BasePath);
            return new Daemon(config.LogLevel, services => services.AddFastDfsTracker(config),
                clock => new StockLogFileProvider(TrackerLog(config, clock), clock));
        }, result, ct));
        return command;
    }

    public static Command CreateStorage()
    {
        var conf = new Argument<FileInfo>("storage.conf") { Description = "stock storage.conf" };
        var command = new Command("storage", "Run a storage server from a stock storage.conf") { conf };
        command.SetAction((result, ct) => RunDaemonAsync(() =>
        {
            var config = StorageConfig.Load(result.GetValue(conf)!.FullName);
            ThrowIfDisabled(config.Disabled, result.GetValue(conf)!.FullName);
            return new Daemon(config.LogLevel, services => services.AddFastDfsStorage(config),
                clock => new StockLogFileProvider(StorageLog(config, clock), clock));
        }, result, ct));
        return command;
    }

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
        command.SetAction((result, ct) => RunDaemonAsync(() =>
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
            });
        }, result, ct));
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

    /// <summary>What a daemon command runs: its log level, its services and its stock log files.</summary>
    private sealed record Daemon(string LogLevel, Action<IServiceCollection> Register, Func<TimeProvider, StockLogFileProvider> LogFiles);

    /// <summary><c>base_path/logs/trackerd.log</c>, as stock's tracker.</summary>
    private static LogFile TrackerLog(TrackerConfig config, TimeProvider clock) =>
        new(Path.Combine(config.BasePath, "logs"), "trackerd", config.ErrorLog, clock);

    /// <summary><c>base_path/logs/storaged.log</c>, as stock's storage.</summary>
    private static LogFile StorageLog(StorageConfig config, TimeProvider clock) =>
        new(Path.Combine(config.BasePath, "logs"), "storaged", config.ErrorLog, clock);

    private static async Task<int> RunDaemonAsync(Func<Daemon> configure, ParseResult result, CancellationToken ct)
    {
        InlineSocketCompletions.EnableUnlessSet();
        try
        {
            var (logLevel, register, logFiles) = configure();
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            // The stock log file under base_path/logs, and the console for the foreground and containers. Disposed here, after
            // the host, so that the last lines are written: the logger factory does not dispose a provider it was handed.
            using var fileLog = logFiles(TimeProvider.System);
            builder.Logging.AddProvider(fileLog);
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            });
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
            await host.RunAsync(ct).ConfigureAwait(false);
            return 0;
        }
        catch (DisabledByConfigException ex)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return DisabledExitCode;
        }
        catch (ConfigException ex)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"configuration error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (IOException ex)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>Stock daemons exit with ECANCELED when their .conf says <c>disabled = true</c>.</summary>
    public const int DisabledExitCode = 125;

    private static void ThrowIfDisabled(bool disabled, string path)
    {
        if (disabled)
        {
            throw new DisabledByConfigException($"conf file \"{path}\" has disabled = true: not starting");
        }
    }

    private sealed class DisabledByConfigException(string message) : Exception(message);

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
