namespace FastDfs.Cli;

/// <summary>
/// Busybox-style drop-in for the stock C tools: a link to <c>fdfs</c> named like a stock tool (<c>fdfs_upload_file</c>,
/// <c>fdfs_download_file</c>, ...) takes that tool's arguments and runs the matching <c>fdfs</c> command, which prints
/// what the stock tool prints (docs/compatibility.md, "Drop-in for the stock tools").
/// </summary>
public static class StockToolNames
{
    /// <param name="Usage">the arguments of the tool's <c>Usage:</c> line</param>
    /// <param name="FailurePrefix">what its failure lines print before <c>error no: N, error info: ...</c></param>
    public sealed record Tool(string Usage, string FailurePrefix = "");

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
        ["fdfs_monitor"] = new("<config_file> [-h <tracker_server>] [list|delete <group_name> [storage_id]]"),
    };

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
        usage = Tools.TryGetValue(tool, out var known) ? $"Usage: {invokedPath} {known.Usage}" : null;
        if (usage is null || args.Count < 1)
        {
            return null;
        }

        string conf = args[0];
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

    private static string[]? Monitor(IReadOnlyList<string> args)
    {
        var rest = args.Skip(1).ToList();
        var tracker = new List<string>();
        if (rest.Count >= 2 && rest[0] == "-h")
        {
            tracker = ["--tracker", rest[1]];
            rest = rest.Skip(2).ToList();
        }

        return rest.Count <= 3 ? ["monitor", .. rest, .. tracker] : null;
    }
}
