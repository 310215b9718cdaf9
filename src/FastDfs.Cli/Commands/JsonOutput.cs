using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>--json</c>: one JSON document on stdout instead of the text, with the camelCase fields docs/cli.md lists (they
/// are part of the interface: renaming one breaks scripts). Written through <see cref="CliJsonContext"/>, generated at
/// compile time, so it works in the Native AOT build. A failure prints nothing on stdout: the error goes to stderr as
/// text, with the exit code, as without <c>--json</c>.
/// </summary>
internal static class JsonOutput
{
    public static Option<bool> NewOption() => new("--json")
    {
        Description = "Print one JSON document (camelCase fields, see docs/cli.md) instead of text",
    };

    public static async Task WriteAsync<T>(TextWriter output, T value, JsonTypeInfo<T> type)
    {
        await output.WriteLineAsync(JsonSerializer.Serialize(value, type));
        await output.FlushAsync();
    }

    /// <summary>Unix seconds as ISO 8601 UTC (<c>2026-01-02T03:04:05Z</c>).</summary>
    public static string IsoTime(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A line of <c>fdfs ls --json</c> (JSON Lines: one per file).</summary>
/// <param name="Kind">normal, appender, slave, link or metadata</param>
/// <param name="Crc32">unsigned; null when the listing does not know it</param>
/// <param name="Mtime">the file's modification time, Unix seconds</param>
/// <param name="Metadata">whether the file has metadata (its NAME-m file)</param>
internal sealed record ListedFileJson(string FileId, string Kind, long Size, uint? Crc32, long CreateTimestamp, string CreateTime, long Mtime, bool Metadata);

/// <summary><c>fdfs upload --json</c>.</summary>
/// <param name="Size">bytes uploaded</param>
internal sealed record UploadJson(string FileId, string Group, string RemoteFilename, long Size, bool Appender, string? MasterFileId);

/// <summary><c>fdfs info --json</c>: what fdfs_file_info prints.</summary>
/// <param name="Type">normal, appender or slave</param>
/// <param name="FromServer">true when a storage was asked (appender and slave files), false when decoded from the name</param>
/// <param name="CreateTimestamp">Unix seconds</param>
/// <param name="CreateTime">the same as ISO 8601 UTC</param>
/// <param name="Crc32">unsigned</param>
internal sealed record FileInfoJson(
    string FileId, string Type, bool FromServer, int SourceStorageId, string SourceIpAddress, long CreateTimestamp, string CreateTime, long Size, uint Crc32);

/// <summary><c>fdfs meta get --json</c>: the name/value pairs (an empty object for a file without metadata).</summary>
internal sealed record MetadataJson(string FileId, Dictionary<string, string> Metadata);

/// <summary>A storage as <c>ip</c> and <c>port</c>.</summary>
internal sealed record ServerJson(string Ip, int Port);

/// <summary><c>fdfs query --json</c>: every storage that may serve the file, and the one for changes.</summary>
internal sealed record QueryJson(string FileId, List<ServerJson> Fetch, ServerJson Update);

/// <summary><c>fdfs monitor [list [group]] --json</c>.</summary>
/// <param name="TrackerServer">the tracker asked (host:port)</param>
/// <param name="Trackers">every configured tracker: its role (leader, follower, no leader, unreachable, error)</param>
internal sealed record MonitorJson(string TrackerServer, int TrackerServerIndex, int TrackerServerCount, List<TrackerJson> Trackers, List<GroupJson> Groups);

internal sealed record TrackerJson(string Address, string Role, string Detail);

/// <summary>One group, with fdfs_monitor's group fields (sizes in MB).</summary>
/// <param name="CurrentTrunkServer">the trunk server's id, null without trunk files or before one is chosen</param>
internal sealed record GroupJson(
    string GroupName, long TotalMb, long FreeMb, long ReservedMb, long AvailableMb, long TrunkFreeMb, long StorageCount,
    long ReadableServerCount, long WritableServerCount, long StoragePort, long StorePathCount, long SubdirCountPerPath,
    long CurrentWriteServer, long CurrentTrunkFileId, string? CurrentTrunkServer, List<StorageJson> Storages);

/// <summary>One storage, with fdfs_monitor's storage fields (times in Unix seconds, 0 = never; sizes in MB).</summary>
/// <param name="Status">stock's caption: ACTIVE, ONLINE, OFFLINE, WAIT_SYNC, SYNCING, INIT, DELETED, IP_CHANGED, RECOVERY</param>
/// <param name="ReadWriteMode">both, readonly, writeonly or none</param>
/// <param name="Counters">every counter of the stock listing by camelCase name (totalUploadCount, successDownloadBytes, lastHeartBeatTime...)</param>
/// <param name="StateReason">why the storage is in its state (FastDFS.NET trackers; null from a stock tracker)</param>
/// <summary>A draining storage in <c>fdfs monitor --json</c> (null when it does not drain).</summary>
/// <param name="Since">Unix seconds</param>
/// <param name="Complete">the trackers' estimate from the sync timestamps (<c>monitor drain --wait</c> compares the files)</param>
internal sealed record DrainJson(long Since, bool Complete, List<DrainWaitJson> WaitingFor);

/// <summary>A member still behind a draining storage.</summary>
internal sealed record DrainWaitJson(string Storage, long BehindSeconds);

internal sealed record StorageJson(
    string Id, string IpAddr, long Port, string Status, string ReadWriteMode, string Version, long JoinTime, long UpTime,
    long TotalMb, long FreeMb, long ReservedMb, long UploadPriority, long StorePathCount, long SubdirCountPerPath, long CurrentWritePath,
    string SourceStorageId, bool IsTrunkServer, ConnectionJson Connection, Dictionary<string, long> Counters, string? StateReason,
    DrainJson? Draining = null);

internal sealed record ConnectionJson(int AllocCount, int CurrentCount, int MaxCount);

/// <summary><c>fdfs monitor delete|set_trunk_server ... --json</c>.</summary>
/// <param name="ErrorNo">0 on success, else the errno</param>
/// <param name="NewTrunkServer">set_trunk_server: the trunk server now</param>
internal sealed record MonitorResultJson(string Operation, string Group, string? StorageId, bool Success, int ErrorNo, string? ErrorInfo, string? NewTrunkServer);

/// <summary><c>fdfs check --json</c>: the comparison of a group's members.</summary>
/// <param name="NotCompared">members that were not up (their address and status)</param>
/// <param name="Error">why the members could not be compared (a stock storage), else null</param>
internal sealed record CheckJson(string Group, bool Quick, List<string> Members, List<NotComparedJson> NotCompared, long FilesCompared,
    List<DifferenceJson> Differences, string? Error)
{
    public long FilesCompared { get; set; } = FilesCompared;

    public string? Error { get; set; } = Error;
}

internal sealed record NotComparedJson(string Storage, string Status);

/// <summary>One file that differs, with each difference found (missing on ..., sizes differ: ...).</summary>
internal sealed record DifferenceJson(string File, List<string> Problems);

/// <summary>The documents of <c>--json</c>, generated at compile time (Native AOT has no reflection-based serializer).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ListedFileJson))]
[JsonSerializable(typeof(UploadJson))]
[JsonSerializable(typeof(FileInfoJson))]
[JsonSerializable(typeof(MetadataJson))]
[JsonSerializable(typeof(QueryJson))]
[JsonSerializable(typeof(MonitorJson))]
[JsonSerializable(typeof(MonitorResultJson))]
[JsonSerializable(typeof(CheckJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
