using System.CommandLine;
using FastDfs.Client;
using System.Globalization;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>upload &lt;file|-&gt; [--ext e] [--group g] [--meta k=v ...] [--appender | --slave-of ID --prefix P] [--json]</c>:
/// prints the file ID (or its JSON document); a progress bar on stderr for a large file when stderr is a terminal.
/// </summary>
internal static class UploadCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("upload", "Upload a local file and print its file ID");
        var file = new Argument<string>("file") { Description = "Local file to upload, or '-' for stdin" };
        var ext = new Option<string?>("--ext") { Description = "Extension to store (default: the file's own)" };
        var group = new Option<string?>("--group", "-g") { Description = "Target group (default: the tracker chooses)" };
        var meta = new Option<string[]>("--meta", "-m") { Description = "Metadata name=value (repeatable)", AllowMultipleArgumentsPerToken = true };
        var appender = new Option<bool>("--appender") { Description = "Upload as an appender file" };
        var slaveOf = new Option<string?>("--slave-of") { Description = "Upload as a slave file of this master file ID (stored beside it, named master + prefix + ext)" };
        var prefix = new Option<string?>("--prefix") { Description = "The slave file's name suffix after the master's name, e.g. _150x150 (with --slave-of)" };
        var json = JsonOutput.NewOption();
        var noProgress = TransferProgress.NewOption();
        command.Add(file);
        command.Add(ext);
        command.Add(group);
        command.Add(meta);
        command.Add(appender);
        command.Add(slaveOf);
        command.Add(prefix);
        command.Add(json);
        command.Add(noProgress);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var metadata = MetaCommand.ParseItems(parse.GetValue(meta) ?? []);
            string path = parse.GetRequiredValue(file);
            bool isAppender = parse.GetValue(appender);
            string? master = parse.GetValue(slaveOf);
            if (master is not null &&
                (parse.GetValue(prefix) is not { Length: > 0 } || isAppender || parse.GetValue(group) is not null || path == "-"))
            {
                throw new ArgumentException("--slave-of needs --prefix and a local file, and takes no --appender or --group (a slave lives in its master's group)");
            }

            if (Directory.Exists(path))
            {
                throw new ArgumentException($"{path} is a directory: upload takes one file (a shell loop uploads many)");
            }

            // Standard input is spooled to a temporary file first (deleted after): the protocol sends the length before the bytes.
            await using var content = path == "-" ? await SpoolStandardInputAsync(ct) : OpenForUpload(path);
            long length = content.Length;
            string? extension = parse.GetValue(ext) ?? (path == "-" ? null : master is null ? FastDfsClient.ExtensionOf(path) : Path.GetExtension(path).TrimStart('.'));
            Protocol.FileIds.FileId fileId;
            using (var progress = TransferProgress.Start(parse, noProgress, "upload", length))
            {
                var source = TransferProgress.Wrap(content, progress);
                fileId = master is not null
                    ? await client.UploadSlaveAsync(ClientConnection.ParseFileId(master), parse.GetValue(prefix)!, extension, source, length, metadata, ct)
                    : isAppender
                        ? await client.UploadAppenderAsync(source, length, extension, metadata, parse.GetValue(group), ct)
                        : await client.UploadAsync(source, length, extension, metadata, parse.GetValue(group), ct);
            }

            if (parse.GetValue(json))
            {
                await JsonOutput.WriteAsync(output, new UploadJson(fileId.ToString(), fileId.Group, fileId.LogicName, length, isAppender, master),
                    CliJsonContext.Default.UploadJson);
            }
            else
            {
                await output.WriteLineAsync(fileId.ToString());
            }

            return 0;
        })(command);
        return command;
    }

    /// <summary>A local file opened as <see cref="FastDfsClient.UploadFileAsync"/> opens it.</summary>
    private static FileStream OpenForUpload(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private static async Task<FileStream> SpoolStandardInputAsync(CancellationToken ct)
    {
        string spool = Path.Combine(Path.GetTempPath(), $"fdfs-stdin-{Guid.NewGuid():N}.tmp");
        var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            await using (var stdin = Console.OpenStandardInput())
            {
                await stdin.CopyToAsync(file, ct);
            }

            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }
}

/// <summary>
/// <c>download &lt;fileId&gt; [&lt;out&gt;|-] [--offset n] [--length n]</c>; a progress bar on stderr for a large file when
/// stderr is a terminal.
/// </summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("download", "Download a file (to a local path, or '-' for stdout)");
        var fileId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var output = new Argument<string?>("out") { Description = "Local path, or '-' for stdout (default: the file's name)", Arity = ArgumentArity.ZeroOrOne };
        var offset = new Option<long>("--offset") { Description = "Start offset" };
        var length = new Option<long>("--length") { Description = "Bytes to read (0 = to the end)" };
        var noProgress = TransferProgress.NewOption();
        command.Add(fileId);
        command.Add(output);
        command.Add(offset);
        command.Add(length);
        command.Add(noProgress);
        connection.Handle(async (parse, client, writer, ct) =>
        {
            var id = ClientConnection.ParseFileId(parse.GetRequiredValue(fileId));
            string target = parse.GetValue(output) ?? Path.GetFileName(id.LogicName);
            long from = parse.GetValue(offset), count = parse.GetValue(length);
            using var progress = TransferProgress.Wanted(parse, noProgress)
                ? TransferProgress.Start(parse, noProgress, "download", await ExpectedBytesAsync(client, id, from, count, ct))
                : null;
            if (target == "-")
            {
                await writer.FlushAsync(ct);
                await using var stdout = TransferProgress.Wrap(Console.OpenStandardOutput(), progress);
                await client.DownloadAsync(id, stdout, from, count, ct);
                return 0;
            }

            if (progress is null)
            {
                await client.DownloadToFileAsync(id, target, from, count, ct);
                return 0;
            }

            // As DownloadToFileAsync, through the counting stream: a temporary file renamed on success.
            string full = Path.GetFullPath(target);
            string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.part");
            try
            {
                await using (var file = TransferProgress.Wrap(
                    new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous), progress))
                {
                    await client.DownloadAsync(id, file, from, count, ct);
                }

                File.Move(temp, full, overwrite: true);
                return 0;
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
        })(command);
        return command;
    }

    /// <summary>The bytes a download will bring (0 when the file's size cannot be had: no bar then).</summary>
    private static async Task<long> ExpectedBytesAsync(FastDfsClient client, Protocol.FileIds.FileId id, long offset, long length, CancellationToken ct)
    {
        try
        {
            long rest = Math.Max(0, (await client.GetFileInfoAsync(id, ct)).FileSize - offset);
            return length > 0 ? Math.Min(length, rest) : rest;
        }
        catch (FastDfsException)
        {
            return 0;
        }
    }
}

/// <summary>
/// <c>delete &lt;fileId&gt;... [--from-file FILE|-]</c>: every file given; a failure is reported (stderr, the file ID
/// and stock's <c>error no: N</c> text) and the next file is deleted still. Exits 0 when all were deleted, else with the
/// first failure's errno (one file: as fdfs_delete_file).
/// </summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("delete", "Delete files (several IDs, or one per line of a file)");
        var fileIds = new Argument<string[]>("fileId") { Description = "group/Mxx/HH/LL/name (several allowed)", Arity = ArgumentArity.ZeroOrMore };
        var fromFile = new Option<string?>("--from-file", "-f") { Description = "A file with one file ID per line ('-' = stdin); blank lines and # comments are skipped" };
        command.Add(fileIds);
        command.Add(fromFile);
        connection.Handle(async (parse, client, _, ct) =>
        {
            var ids = (parse.GetValue(fileIds) ?? []).ToList();
            if (parse.GetValue(fromFile) is { } list)
            {
                await foreach (string id in ClientConnection.ReadIdListAsync(list, ct))
                {
                    ids.Add(id);
                }
            }

            if (ids.Count == 0)
            {
                throw new ArgumentException("no file ID given (arguments or --from-file)");
            }

            if (ids.Count == 1)
            {
                await client.DeleteAsync(ClientConnection.ParseFileId(ids[0]), ct);
                return 0;
            }

            int firstFailure = 0;
            var error = parse.InvocationConfiguration.Error;
            foreach (string id in ids)
            {
                try
                {
                    await client.DeleteAsync(ClientConnection.ParseFileId(id), ct);
                }
                catch (Exception e) when (e is FastDfsException or FormatException)
                {
                    int code = e is FastDfsException { ErrorCode: > 0 and < 256 } fdfs ? fdfs.ErrorCode : e is FormatException ? 2 : 1;
                    firstFailure = firstFailure == 0 ? code : firstFailure;
                    await error.WriteLineAsync($"{id}: {e.Message}");
                }
            }

            return firstFailure;
        })(command);
        return command;
    }
}

/// <summary><c>info &lt;fileId&gt; [--json]</c>: prints exactly what fdfs_file_info prints (checked against the stock tool), or its JSON document.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("info", "Show a file's source storage, create time, size and crc32 (like fdfs_file_info)");
        var fileId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var json = JsonOutput.NewOption();
        command.Add(fileId);
        command.Add(json);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var id = ClientConnection.ParseFileId(parse.GetRequiredValue(fileId));
            var info = await client.GetFileInfoAsync(id, ct);
            if (parse.GetValue(json))
            {
                await JsonOutput.WriteAsync(output, ToJson(id, info), CliJsonContext.Default.FileInfoJson);
            }
            else
            {
                await output.WriteAsync(Format(info, TimeZoneInfo.Local));
            }

            return 0;
        })(command);
        return command;
    }

    internal static FileInfoJson ToJson(Protocol.FileIds.FileId id, FastDfsFileInfo info) => new(
        id.ToString(), TypeName(info.Type), info.FromStorage, info.SourceStorageId, info.SourceIpAddress, info.CreateTimestamp,
        JsonOutput.IsoTime(info.CreateTimestamp), info.FileSize, info.Crc32);

    private static string TypeName(FastDfsFileType type) => type switch
    {
        FastDfsFileType.Normal => "normal",
        FastDfsFileType.Slave => "slave",
        FastDfsFileType.Appender => "appender",
        _ => "unknown",
    };

    /// <summary>fdfs_file_info's text: crc32 as a signed decimal and 8 lower-case hex digits, a blank line after the first and last line.</summary>
    internal static string Format(FastDfsFileInfo info, TimeZoneInfo zone)
    {
        string type = TypeName(info.Type);
        var created = TimeZoneInfo.ConvertTime(info.CreateTime, zone);
        return string.Create(CultureInfo.InvariantCulture,
            $"GET FROM SERVER: {(info.FromStorage ? "true" : "false")}\n\n" +
            $"file type: {type}\n" +
            $"source storage id: {info.SourceStorageId}\n" +
            $"source ip address: {info.SourceIpAddress}\n" +
            $"file create timestamp: {created:yyyy-MM-dd HH:mm:ss}\n" +
            $"file size: {info.FileSize}\n" +
            $"file crc32: {unchecked((int)info.Crc32)} (0x{info.Crc32:x8})\n\n");
    }
}

/// <summary><c>append &lt;appenderFileId&gt; &lt;file&gt;</c>.</summary>
internal static class AppendCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("append", "Append a local file to an appender file");
        var fileId = new Argument<string>("appenderFileId") { Description = "group/Mxx/HH/LL/name of an appender file" };
        var file = new Argument<string>("file") { Description = "Local file whose content is appended" };
        command.Add(fileId);
        command.Add(file);
        connection.Handle(async (parse, client, _, ct) =>
        {
            await using var content = File.OpenRead(parse.GetRequiredValue(file));
            await client.AppendAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(fileId)), content, content.Length, ct);
            return 0;
        })(command);
        return command;
    }
}

/// <summary><c>meta get &lt;fileId&gt; [--json]</c> / <c>meta set &lt;fileId&gt; k=v ... [--merge]</c>.</summary>
internal static class MetaCommand
{
    public static Command Create()
    {
        var meta = new Command("meta", "Get or set a file's metadata");

        var (get, getConnection) = ClientConnection.NewCommand("get", "Print a file's metadata as name=value lines (nothing for a file without metadata)");
        var getId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var getJson = JsonOutput.NewOption();
        get.Add(getId);
        get.Add(getJson);
        getConnection.Handle(async (parse, client, output, ct) =>
        {
            var id = ClientConnection.ParseFileId(parse.GetRequiredValue(getId));
            IReadOnlyList<MetadataItem> items;
            try
            {
                items = await client.GetMetadataAsync(id, ct);
            }
            catch (FastDfsException e) when (e.ErrorCode == Protocol.Errno.ENOENT)
            {
                // The storage says ENOENT both for a missing file and for a file without metadata: a one-byte read tells them
                // apart (it fails with ENOENT only when the file is missing).
                await client.DownloadAsync(id, Stream.Null, 0, 1, ct);
                items = [];
            }

            if (parse.GetValue(getJson))
            {
                var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var item in items)
                {
                    pairs[item.Name] = item.Value;
                }

                await JsonOutput.WriteAsync(output, new MetadataJson(id.ToString(), pairs), CliJsonContext.Default.MetadataJson);
                return 0;
            }

            foreach (var item in items)
            {
                await output.WriteLineAsync($"{item.Name}={item.Value}");
            }

            return 0;
        })(get);

        var (set, setConnection) = ClientConnection.NewCommand("set", "Set a file's metadata (overwrite, or --merge)");
        var setId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var items = new Argument<string[]>("items") { Description = "name=value pairs", Arity = ArgumentArity.ZeroOrMore };
        var merge = new Option<bool>("--merge") { Description = "Merge into existing metadata instead of replacing it" };
        set.Add(setId);
        set.Add(items);
        set.Add(merge);
        setConnection.Handle(async (parse, client, _, ct) =>
        {
            var op = parse.GetValue(merge) ? MetadataOp.Merge : MetadataOp.Overwrite;
            await client.SetMetadataAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(setId)), ParseItems(parse.GetValue(items) ?? []), op, ct);
            return 0;
        })(set);

        var (delete, deleteConnection) = ClientConnection.NewCommand("delete", "Remove all of a file's metadata");
        var deleteId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        delete.Add(deleteId);
        deleteConnection.Handle(async (parse, client, _, ct) =>
        {
            await client.SetMetadataAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(deleteId)), [], MetadataOp.Overwrite, ct);
            return 0;
        })(delete);

        meta.Add(get);
        meta.Add(set);
        meta.Add(delete);
        return meta;
    }

    public static List<MetadataItem> ParseItems(IEnumerable<string> pairs) => pairs.Select(pair =>
    {
        int equals = pair.IndexOf('=');
        return equals > 0
            ? new MetadataItem(pair[..equals], pair[(equals + 1)..])
            : throw new FormatException($"metadata '{pair}' is not name=value");
    }).ToList();
}
