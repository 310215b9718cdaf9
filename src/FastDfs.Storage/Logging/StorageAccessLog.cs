using System.Diagnostics;
using System.Net;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Logging;

namespace FastDfs.Storage.Logging;

/// <summary>
/// The storage's access log (<c>[access-log] enabled = true</c>): <c>base_path/logs/storage_access.log</c>, one line per
/// client file request as stock writes it, <c>[request start] client_ip action filename status time_used req_len
/// resp_len</c> (time used in ms or µs by <c>time_precision</c>, lengths with their 10-byte headers, <c>-</c> for a name
/// the request did not get to), under a header line naming the columns. Lines are composed without allocating.
/// </summary>
internal sealed class StorageAccessLog : IDisposable
{
    public const string FileName = "storage_access";

    private readonly LogFile _file;
    private readonly TimeProvider _clock;
    private readonly bool _microseconds;

    private StorageAccessLog(LogFile file, TimeProvider clock, bool microseconds)
    {
        _file = file;
        _clock = clock;
        _microseconds = microseconds;
    }

    /// <summary>The access log of <paramref name="config"/>, or null when it is off.</summary>
    public static StorageAccessLog? CreateIfEnabled(StorageConfig config, TimeProvider clock)
    {
        if (!config.AccessLogEnabled)
        {
            return null;
        }

        bool micro = config.AccessLogTimePrecision == LogTimePrecision.Microsecond;
        string header = micro
            ? "client_ip action filename status time_used_us req_len resp_len"
            : "client_ip action filename status time_used_ms req_len resp_len";
        return new StorageAccessLog(new LogFile(Path.Combine(config.BasePath, "logs"), FileName, config.AccessLog, clock, header), clock, micro);
    }

    /// <summary>The action word of a client command in the access log, or null for the commands stock does not log.</summary>
    public static string? ActionOf(FdfsCommand command) => command switch
    {
        FdfsCommand.UploadFile or FdfsCommand.UploadAppenderFile or FdfsCommand.UploadSlaveFile => "upload",
        FdfsCommand.DownloadFile => "download",
        FdfsCommand.DeleteFile => "delete",
        FdfsCommand.GetMetadata => "get_metadata",
        FdfsCommand.SetMetadata => "set_metadata",
        FdfsCommand.ModifyFile => "modify",
        FdfsCommand.AppendFile => "append",
        FdfsCommand.TruncateFile => "truncate",
        FdfsCommand.QueryFileInfo => "status",
        FdfsCommand.RegenerateAppenderFilename => "rename",
        Protocol.Messages.ImportFile.Command => "import", // FastDFS.NET only
        _ => null,
    };

    /// <param name="startedTimestamp">the request's <see cref="Stopwatch"/> start</param>
    /// <param name="requestBody">the request's body length (the header's 10 bytes are added)</param>
    /// <param name="replyBody">the reply's body length (the header's 10 bytes are added)</param>
    public void Write(IPAddress? client, string action, string? fileName, byte status, long startedTimestamp, long requestBody, long replyBody)
    {
        var elapsed = Stopwatch.GetElapsedTime(startedTimestamp);
        long used = _microseconds ? elapsed.Ticks / 10 : (long)elapsed.TotalMilliseconds;
        // Address (≤ 46 + scope) + action + a name of ≤ 127 characters (≤ 381 bytes) + four numbers: well under 1 KB.
        Span<byte> line = stackalloc byte[1024];
        int n = 0;
        if (client is null || !client.TryFormat(line, out n))
        {
            "-"u8.CopyTo(line);
            n = 1;
        }

        line[n++] = (byte)' ';
        n += Encoding.ASCII.GetBytes(action, line[n..]);
        line[n++] = (byte)' ';
        // A name longer than stock's 128-byte field is cut as stock cuts it.
        var name = string.IsNullOrEmpty(fileName) ? "-".AsSpan() : fileName.AsSpan(0, Math.Min(fileName.Length, 127));
        n += Encoding.UTF8.GetBytes(name, line[n..]);
        n += Append(line[n..], status);
        n += Append(line[n..], used);
        n += Append(line[n..], ProtocolConstants.HeaderSize + requestBody);
        n += Append(line[n..], ProtocolConstants.HeaderSize + replyBody);
        _file.Append(_clock.GetLocalNow() - elapsed, _microseconds ? LogStampPrecision.Microsecond : LogStampPrecision.Millisecond, line[..n]);
    }

    private static int Append(Span<byte> destination, long value)
    {
        destination[0] = (byte)' ';
        value.TryFormat(destination[1..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        return written + 1;
    }

    public void Flush() => _file.Flush();

    public void Dispose() => _file.Dispose();
}
