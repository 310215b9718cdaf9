namespace FastDfs.Cli;

using FastDfs.Cli.StockTools;

/// <summary>
/// Busybox-style drop-in for the stock C tools: a link to <c>fdfs</c> named like a stock tool (<c>fdfs_upload_file</c>,
/// <c>fdfs_download_file</c>, ...) takes that tool's arguments and prints what the stock tool prints
/// (docs/compatibility.md, "Drop-in for the stock tools"). Most tools run the matching <c>fdfs</c> command
/// (<see cref="Translate"/>); the test programs, the stat tools and fdfs_crc32 have a runner of their own
/// (<see cref="Tool.Runner"/>, in <see cref="StockTools"/>).
/// </summary>
public static class StockToolNames
{
    /// <param name="Usage">the arguments of the tool's <c>Usage:</c> line</param>
    /// <param name="FailurePrefix">what its failure lines print before <c>error no: N, error info: ...</c></param>
    /// <param name="Runner">runs the tool itself (its own arguments and output) instead of an <c>fdfs</c> command</param>
    public sealed record Tool(string Usage, string FailurePrefix = "", StockToolRunner? Runner = null);

    /// <summary>The tools a link can be named after.</summary>
    public static IReadOnlyDictionary<string, Tool> Tools { get; } = new Dictionary<string, Tool>(StringComparer.Ordinal)
    {
        ["fdfs_upload_file"] = new("<config_file> <local_filename> [storage_ip:port] [store_path_index]", "upload file fail, "),
        ["fdfs_upload_appender"] = new("<config_file> <local_filename>", "upload file fail, "),
        ["fdfs_download_file"] = new("<config_file> <file_id> [local_filename] [<download_offset> <download_bytes>]", "download file fail, "),
        ["fdfs_delete_file"] = new("<config_file> <file_id>", "delete file fail, "),
        ["fdfs_file_info"] = new("<config_file> <file_id>", "query file info fail, "),
        ["fdfs_append_file"] = new("<config_file> <appender_file_id> <local_filename>", "append file fail, "),
        ["fdfs_regenerate_filename"] = new("<config_file> <appender_file_id>"), // its line names the file: FailurePrefixOf
        ["fdfs_monitor"] = new("<client_cfg_file> [-h <tracker_server>] [list|delete|set_trunk_server <group_name> [storage_id]]"),
        ["fdfs_trackerd"] = new("[options] <config_file> [start | stop | restart | status]"),
        ["fdfs_storaged"] = new("[options] <config_file> [start | stop | restart | status]"),
        ["fdfs_crc32"] = new("<filename>", Runner: Crc32Tool.RunAsync),
        ["fdfs_test"] = new("<config_file> <operation>", Runner: run => TestTool.RunAsync(run, fileIdApi: false)),
        ["fdfs_test1"] = new("<config_file> <operation>", Runner: run => TestTool.RunAsync(run, fileIdApi: true)),
        ["fdfs_appender_test"] = new("<config_file> <local_filename> [FILE | BUFF | CALLBACK]", Runner: run => AppenderTestTool.RunAsync(run, fileIdApi: false)),
        ["fdfs_appender_test1"] = new("<config_file> <local_filename> [FILE | BUFF | CALLBACK]", Runner: run => AppenderTestTool.RunAsync(run, fileIdApi: true)),
        ["fdfs_tracker_stat"] = new("[-c config_filename] [-A | -N] [-L | -F] [-d]", Runner: StatTools.TrackerStatAsync),
        ["fdfs_storage_stat"] = new("[-c config_filename] [-A | -N] [-T | -t] [-d]", Runner: StatTools.StorageStatAsync),
        ["fdfs_volumn_stat"] = new("[-c config_filename] [-A | -N | -F] [-D | -d] [-T | -t]", Runner: StatTools.VolumeStatAsync),
    };

    /// <summary>Set at start when started as a stock tool (whose output has no progress bar).</summary>
    public static bool Active { get; set; }

    /// <summary>Set at start when started as a stock tool: the text its failure lines begin with (empty for <c>fdfs</c> itself).</summary>
    public static string ErrorPrefix { get; set; } = "";

    /// <summary>What the tool's failure lines begin with (<c>delete file fail, </c>...), given its own arguments.</summary>
    public static string FailurePrefixOf(string invokedPath, IReadOnlyList<string> args)
    {
        string tool = Path.GetFileName(invokedPath);
        return tool == "fdfs_regenerate_filename" && args.Count > 1
            ? $"regenerate file {args[1]} fail, "
            : Tools.TryGetValue(tool, out var known) ? known.FailurePrefix : "";
    }

    /// <summary>argv[0] as this process was started (a link's own path, not the executable it points to), on Linux.</summary>
    public static string? InvokedPath()
    {
        try
        {
            byte[] cmdline = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            return System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The <c>fdfs</c> arguments for a stock tool's, or null with <paramref name="usage"/> set when they do not fit the
    /// tool's usage (the caller prints it and exits 1, as the tools do).
    /// </summary>
    public static string[]? Translate(string invokedPath, IReadOnlyList<string> args, out string? usage)
    {
        string tool = Path.GetFileName(invokedPath);
        usage = !Tools.TryGetValue(tool, out var known) ? null
            : tool == "fdfs_monitor" ? MonitorUsage(invokedPath)
            : tool is "fdfs_trackerd" or "fdfs_storaged" ? DaemonUsage(invokedPath, known.Usage)
            : $"Usage: {invokedPath} {known.Usage}";
        if (tool is "fdfs_trackerd" or "fdfs_storaged" && usage is not null)
        {
            return Daemon(tool == "fdfs_trackerd" ? "tracker" : "storage", args);
        }

        if (usage is null || (args.Count < 1 && tool != "fdfs_monitor"))
        {
            return null;
        }

        string conf = args.Count > 0 ? args[0] : DefaultClientConfig;
        string[]? translated = (tool, args.Count) switch
        {
            // A storage address / store path given to fdfs_upload_file is a hint the tracker's choice replaces.
            ("fdfs_upload_file", >= 2 and <= 4) => ["upload", args[1]],
            ("fdfs_upload_appender", 2) => ["upload", args[1], "--appender"],
            ("fdfs_download_file", 2) => ["download", args[1]],
            ("fdfs_download_file", 3) => ["download", args[1], args[2]],
            ("fdfs_download_file", 5) => ["download", args[1], args[2], "--offset", args[3], "--length", args[4]],
            ("fdfs_delete_file", 2) => ["delete", args[1]],
            ("fdfs_file_info", 2) => ["info", args[1]],
            ("fdfs_append_file", 3) => ["append", args[1], args[2]],
            ("fdfs_regenerate_filename", 2) => ["regenerate", args[1]],
            ("fdfs_monitor", _) => Monitor(args),
            _ => null,
        };
        return translated is null ? null : [.. translated, "--config", conf];
    }

    /// <summary>
    /// fdfs_trackerd / fdfs_storaged: <c>[-N | --no-daemon] [-V | --version] CONF [start|stop|restart|status]</c>, as stock's
    /// daemons; without an action they start detached, as stock's do (<c>fdfs tracker CONF</c> alone runs in the foreground).
    /// </summary>
    private static string[]? Daemon(string role, IReadOnlyList<string> args)
    {
        var positional = new List<string>();
        bool foreground = false;
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "-V" or "--version":
                    return ["--version"];
                case "-N" or "--no-daemon":
                    foreground = true;
                    break;
                case "-h" or "--help":
                    return null;
                default:
                    if (arg.StartsWith('-') || positional.Count == 2)
                    {
                        return null;
                    }

                    positional.Add(arg);
                    break;
            }
        }

        return positional.Count == 0 ? null
            : [role, positional[0], positional.Count > 1 ? positional[1] : "start", .. foreground ? new[] { "--no-daemon" } : []];
    }

    /// <summary>The daemons' usage text (stock prints it on stderr, with a blank line before).</summary>
    private static string DaemonUsage(string invokedPath, string usage) =>
        $"\nUsage: {invokedPath} {usage}\n\noptions:\n\t-N | --no-daemon: run in foreground\n\t-V | --version: show version info\n\t-h | --help: for this usage\n";

    /// <summary>Where the stock tools read client.conf when not told.</summary>
    public const string DefaultClientConfig = "/etc/fdfs/client.conf";

    /// <summary>fdfs_monitor's usage text (it prints it on stdout, with a blank line before).</summary>
    internal static string MonitorUsage(string invokedPath) =>
        $"\nUsage:\n  {invokedPath} <client_cfg_file> [-h <tracker_server>]\n  [list|delete|set_trunk_server <group_name> [storage_id]]\n\n" +
        $"Note:\n  the tracker server format: host[:port], the tracker default port is {Protocol.ProtocolConstants.DefaultTrackerPort}\n" +
        $"  {invokedPath} without parameter equals: {invokedPath} {DefaultClientConfig}\n";

    /// <summary>
    /// fdfs_monitor's arguments: <c>[conf] [-h tracker | -htracker] [op [group [storage_id]]]</c>, the operation <c>list</c>
    /// when none is given.
    /// </summary>
    private static string[]? Monitor(IReadOnlyList<string> args)
    {
        var rest = args.Skip(1).ToList();
        var tracker = new List<string>();
        if (rest.Count >= 1 && rest[0].StartsWith("-h", StringComparison.Ordinal))
        {
            if (rest[0].Length > 2)
            {
                tracker = ["--tracker", rest[0][2..]];
                rest = rest.Skip(1).ToList();
            }
            else if (rest.Count >= 2)
            {
                tracker = ["--tracker", rest[1]];
                rest = rest.Skip(2).ToList();
            }
            else
            {
                return null;
            }
        }

        return rest.Count <= 3 ? ["monitor", .. rest, .. tracker] : null;
    }
}
