using System.CommandLine;
using System.Globalization;
using FastDfs.Client;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>fdfs ls group1[/M00[/HH[/LL]]] [--long] [--json] [--storage IP:PORT]</c>: the files of a group (every serving
/// member's listing merged) or of one storage, in name order, streamed page by page. A file's metadata file
/// (<c>NAME-m</c>) shows as the file's "metadata" flag, not as a line of its own.
/// </summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("ls", "List the files of a group, a store path or a sub-directory (FastDFS.NET storages)");
        var target = new Argument<string>("path") { Description = "group1, group1/M00, group1/M00/3A or group1/M00/3A/0C" };
        var longFormat = new Option<bool>("--long", "-l") { Description = "kind, size, crc32, create time and metadata flag before each file ID" };
        var storage = new Option<string?>("--storage") { Description = "list this storage only (ip:port) instead of the group's members merged" };
        var json = new Option<bool>("--json") { Description = "one JSON object per file and line (JSON Lines; fields in docs/cli.md)" };
        var crc = new Option<bool>("--crc")
        {
            Description = "with --long / --json: also the CRC32 of appender and metadata files, which the storages read whole (every member)",
        };
        command.Add(target);
        command.Add(longFormat);
        command.Add(storage);
        command.Add(json);
        command.Add(crc);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var (group, path) = ParseTarget(parse.GetRequiredValue(target));
            bool wantLong = parse.GetValue(longFormat), wantJson = parse.GetValue(json);
            // The CRC32 of a normal or slave file is in its name; appender and metadata files change in place: theirs is read
            // from the disk, only when asked (--crc): it costs every byte of those files on every member.
            var options = parse.GetValue(crc) ? ListFilesOptions.Crc32OfMutable : ListFilesOptions.None;
            var files = parse.GetValue(storage) is { } one
                ? OneStorage(client.GetStorage(ParseStorage(one)), group, path, options, ct)
                : client.ListFilesAsync(group, path, options, ct);
            await foreach (var entry in WithMetadataFolded(files))
            {
                var id = new FileId(group, entry.File.LogicName);
                if (wantJson)
                {
                    await output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(ToJson(id, entry.File, entry.HasMetadata), CliJsonContext.Default.ListedFileJson));
                }
                else if (wantLong)
                {
                    await output.WriteLineAsync(LongLine(id, entry.File, entry.HasMetadata));
                }
                else
                {
                    await output.WriteLineAsync(id.ToString());
                }
            }

            return 0;
        })(command);
        return command;
    }

    /// <summary>One storage's files, then the ones it stores inside trunk files.</summary>
    private static async IAsyncEnumerable<ListedFile> OneStorage(StorageClient storage, string group, string path, ListFilesOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var file in storage.ListAllFilesAsync(group, path, options, ct))
        {
            yield return file;
        }

        await foreach (var file in storage.ListAllFilesAsync(group, path, options | ListFilesOptions.TrunkStored, ct))
        {
            yield return file;
        }
    }

    /// <summary><c>group1/M00/3A</c> → (<c>group1</c>, <c>M00/3A</c>).</summary>
    internal static (string Group, string Path) ParseTarget(string text)
    {
        text = text.Trim('/');
        int slash = text.IndexOf('/');
        string group = slash < 0 ? text : text[..slash];
        string path = slash < 0 ? "" : text[(slash + 1)..];
        if (group.Length is 0 or > Protocol.ProtocolConstants.GroupNameMaxLen ||
            (path.Length > 0 && !System.Text.RegularExpressions.Regex.IsMatch(path, "^M[0-9A-F]{2}(/[0-9A-F]{2}){0,2}$")))
        {
            throw new FormatException($"invalid listing path '{text}': expected GROUP[/Mxx[/HH[/LL]]]");
        }

        return (group, path);
    }

    private static StorageEndpoint ParseStorage(string text)
    {
        var endpoint = FastDfsEndpoint.Parse(text, Protocol.ProtocolConstants.DefaultStoragePort);
        return new StorageEndpoint(endpoint.Host, endpoint.Port);
    }

    /// <summary>Each file once, with whether its <c>NAME-m</c> metadata file follows it (listings are in name order, where
    /// <c>NAME-m</c> comes right after <c>NAME</c>); a metadata file without its file is listed as itself.</summary>
    private static async IAsyncEnumerable<(ListedFile File, bool HasMetadata)> WithMetadataFolded(IAsyncEnumerable<ListedFile> files)
    {
        ListedFile? pending = null;
        await foreach (var file in files)
        {
            if (pending is { } previous)
            {
                if (file.Kind.HasFlag(ListedFileKind.Metadata) && file.LogicName == previous.LogicName + "-m")
                {
                    yield return (previous, true);
                    pending = null;
                    continue;
                }

                yield return (previous, false);
            }

            pending = file;
        }

        if (pending is { } last)
        {
            yield return (last, false);
        }
    }

    /// <summary>The CRC32 a listing knows: computed by the storage, else the one in a normal or slave file's name.</summary>
    private static uint? Crc32Of(FileId id, ListedFile file)
    {
        if (file.HasCrc32)
        {
            return file.Crc32;
        }

        return !file.Kind.HasFlag(ListedFileKind.Appender) && !file.Kind.HasFlag(ListedFileKind.Metadata) &&
               FileNameCodec.TryDecode(id.LogicName, out var info) ? info.Crc32 : null;
    }

    /// <summary>The creation time in the name (the file's mtime for a name that does not carry one).</summary>
    private static long CreateTimestamp(FileId id, ListedFile file) =>
        FileNameCodec.TryDecode(id.LogicName, out var info) ? info.Timestamp : file.Mtime;

    private static string LongLine(FileId id, ListedFile file, bool hasMetadata)
    {
        string crc = Crc32Of(id, file) is { } value ? value.ToString("x8", CultureInfo.InvariantCulture) : "-";
        var created = DateTimeOffset.FromUnixTimeSeconds(CreateTimestamp(id, file)).ToLocalTime();
        return string.Create(CultureInfo.InvariantCulture,
            $"{file.Kind.Word(),-8} {file.Size,12} {crc} {created:yyyy-MM-dd HH:mm:ss} {(hasMetadata ? "m" : "-")} {id}");
    }

    private static ListedFileJson ToJson(FileId id, ListedFile file, bool hasMetadata)
    {
        long created = CreateTimestamp(id, file);
        return new ListedFileJson(id.ToString(), file.Kind.Word(), file.Size, Crc32Of(id, file), created, JsonOutput.IsoTime(created),
            file.Mtime, hasMetadata);
    }
}
