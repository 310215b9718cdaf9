using System.Globalization;
using FastDfs.Cli.Commands;
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.StockTools;

/// <summary>One start of a stock tool: the path it was started as (its argv[0]), its arguments and where it prints.</summary>
public sealed record StockToolRun(string InvokedPath, IReadOnlyList<string> Args, TextWriter Output, TextWriter Error, CancellationToken Ct);

/// <summary>A stock tool run by <c>fdfs</c> itself; returns the exit code.</summary>
public delegate Task<int> StockToolRunner(StockToolRun run);

/// <summary>What the stock tools print alike: failure lines, times, the test programs' banner and metadata.</summary>
internal static class StockText
{
    /// <summary>The test programs' first step of an upload: ask the tracker for a storage and print stock's line for it
    /// (or its failure line, with the errno to exit with).</summary>
    public static async Task<(QueryStoreResponse? Store, int Errno)> QueryStoreAsync(FastDfsClient client, TextWriter output, CancellationToken ct)
    {
        QueryStoreResponse store;
        try
        {
            store = await client.Tracker.QueryStoreAsync(null, ct);
        }
        catch (FastDfsException e) when (e is not FastDfsConnectionException)
        {
            await output.WriteLineAsync(Fail("tracker_query_storage", ErrnoOf(e)));
            return (null, ErrnoOf(e));
        }

        await output.WriteLineAsync($"group_name={store.Group}, ip_addr={store.Storage.Ip}, port={store.Storage.Port}");
        return (store, 0);
    }

    /// <summary><c>{what} fail, error no: N, error info: ...</c>, the line every stock tool prints for a failed call.</summary>
    public static string Fail(string what, int errno) => $"{what} fail, {FastDfsException.FormatErrno(errno)}";

    /// <summary>The errno a failure stands for (a server's status, a socket error, a local file error).</summary>
    public static int ErrnoOf(Exception e) => e switch
    {
        FastDfsException { ErrorCode: > 0 } f => f.ErrorCode,
        FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
        UnauthorizedAccessException => Errno.EACCES,
        FormatException or ArgumentException => Errno.EINVAL,
        _ => Errno.EIO,
    };

    /// <summary>True for the failures a tool reports as its <c>... fail, error no: N</c> line.</summary>
    public static bool IsCallFailure(Exception e) =>
        e is FastDfsException or IOException or UnauthorizedAccessException or FormatException or ArgumentException;

    /// <summary>Unix seconds as the tools print them: local "yyyy-MM-dd HH:mm:ss".</summary>
    public static string Time(long unixSeconds) => MonitorFormat.Time(unixSeconds, TimeZoneInfo.Local);

    /// <summary>An address as stock's format_ip_address writes it before ":port" (IPv6 bracketed).</summary>
    public static string Ip(string ip) => ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip;

    /// <summary>The first lines of fdfs_test, fdfs_test1, fdfs_appender_test and fdfs_appender_test1.</summary>
    public static string TestBanner =>
        $"This is FastDFS client test program v{ProtocolConstants.Version}\n\n" +
        "FastDFS.NET (fdfs) running the stock test program's operations with its arguments and output lines;\n" +
        "see docs/compatibility.md, \"Drop-in for the stock tools\".\n\n";

    /// <summary>The metadata the test programs set on every file they upload.</summary>
    public static IReadOnlyList<MetadataItem> TestMetadata { get; } =
        [new("ext_name", "jpg"), new("width", "160"), new("height", "80"), new("file_size", "115120")];

    /// <summary>
    /// The extension the test programs send for a local file (stock's fdfs_get_file_ext_name): what follows the last dot
    /// when it is at most 6 characters and has no '/', widened to a two-part extension ("tar.gz") when that fits in 6 too.
    /// </summary>
    public static string? Extension(string filename)
    {
        int dot = filename.LastIndexOf('.');
        if (dot < 0)
        {
            return null;
        }

        string ext = filename[(dot + 1)..];
        if (ext.Length > ProtocolConstants.FileExtNameMaxLen || ext.Contains('/', StringComparison.Ordinal))
        {
            return null;
        }

        int start = Math.Max(0, dot - (ProtocolConstants.FileExtNameMaxLen - ext.Length) - 1);
        int p = dot - 1;
        while (p > start && filename[p] != '.')
        {
            p--;
        }

        return p > start && !filename.AsSpan(p + 1).Contains('/') ? filename[(p + 1)..] : ext;
    }

    /// <summary>
    /// The client for a stock client.conf, or the exit code when it cannot be read (a stock tool exits with ENOENT for a
    /// missing file, EINVAL for a bad one, after its log line).
    /// </summary>
    public static async Task<(FastDfsClient? Client, int Exit)> OpenAsync(StockToolRun run, string configPath)
    {
        string tool = Path.GetFileName(run.InvokedPath);
        if (!File.Exists(configPath))
        {
            await run.Error.WriteLineAsync($"{tool}: load conf file \"{configPath}\" fail, {FastDfsException.FormatErrno(Errno.ENOENT)}");
            return (null, Errno.ENOENT);
        }

        try
        {
            return (new FastDfsClient(FastDfsClientOptions.FromFile(configPath)), 0);
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            await run.Error.WriteLineAsync($"{tool}: load conf file \"{configPath}\" fail: {e.Message}");
            return (null, e is UnauthorizedAccessException ? Errno.EACCES : Errno.EINVAL);
        }
    }

    /// <summary>A tracker that cannot be reached: the line on stderr (stock logs it) and its errno as the exit code.</summary>
    public static async Task<int> ConnectionFailedAsync(StockToolRun run, FastDfsConnectionException e)
    {
        await run.Error.WriteLineAsync($"{Path.GetFileName(run.InvokedPath)}: {e.Message}");
        return e.ErrorCode > 0 ? e.ErrorCode : Errno.EIO;
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
