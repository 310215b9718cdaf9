using System.CommandLine;
using FastDfs.Client;
using System.Globalization;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.Commands;

/// <summary><c>upload &lt;file|-&gt; [--ext e] [--group g] [--meta k=v ...] [--appender | --slave-of ID --prefix P]</c>: prints the file ID.</summary>
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
        command.Add(file);
        command.Add(ext);
        command.Add(group);
        command.Add(meta);
        command.Add(appender);
        command.Add(slaveOf);
        command.Add(prefix);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var metadata = MetaCommand.ParseItems(parse.GetValue(meta) ?? []);
            string path = parse.GetRequiredValue(file);
            if (parse.GetValue(slaveOf) is { } master)
            {
                if (parse.GetValue(prefix) is not { Length: > 0 } slavePrefix || parse.GetValue(appender) || parse.GetValue(group) is not null || path == "-")
                {
                    throw new ArgumentException("--slave-of needs --prefix and a local file, and takes no --appender or --group (a slave lives in its master's group)");
                }

                await using var content = File.OpenRead(path);
                var slave = await client.UploadSlaveAsync(ClientConnection.ParseFileId(master), slavePrefix, parse.GetValue(ext) ?? Path.GetExtension(path).TrimStart('.'),
                    content, content.Length, metadata, ct);
                await output.WriteLineAsync(slave.ToString());
                return 0;
            }

            if (path == "-")
            {
                await output.WriteLineAsync((await UploadStandardInputAsync(client, parse.GetValue(ext), metadata, parse.GetValue(group), parse.GetValue(appender), ct)).ToString());
                return 0;
            }

            if (Directory.Exists(path))
            {
                throw new ArgumentException($"{path} is a directory: upload takes one file (a shell loop uploads many)");
            }

            var fileId = await client.UploadFileAsync(path, parse.GetValue(ext), metadata, parse.GetValue(group), parse.GetValue(appender), ct);
            await output.WriteLineAsync(fileId.ToString());
            return 0;
        })(command);
        return command;
    }

    /// <summary>
    /// The protocol sends a file's length before its bytes: standard input is spooled to a temporary file (deleted after),
    /// so that any size goes without holding it in memory.
    /// </summary>
    private static async Task<Protocol.FileIds.FileId> UploadStandardInputAsync(FastDfsClient client, string? ext, List<MetadataItem> metadata, string? group,
        bool appender, CancellationToken ct)
    {
        string spool = Path.Combine(Path.GetTempPath(), $"fdfs-stdin-{Guid.NewGuid():N}.tmp");
        await using var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        await using (var stdin = Console.OpenStandardInput())
        {
            await stdin.CopyToAsync(file, ct);
        }

        file.Position = 0;
        return appender
            ? await client.UploadAppenderAsync(file, file.Length, ext, metadata, group, ct)
            : await client.UploadAsync(file, file.Length, ext, metadata, group, ct);
    }
}

/// <summary><c>download &lt;fileId&gt; [&lt;out&gt;|-] [--offset n] [--length n]</c>.</summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("download", "Download a file (to a local path, or '-' for stdout)");
        var fileId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var output = new Argument<string?>("out") { Description = "Local path, or '-' for stdout (default: the file's name)", Arity = ArgumentArity.ZeroOrOne };
        var offset = new Option<long>("--offset") { Description = "Start offset" };
        var length = new Option<long>("--length") { Description = "Bytes to read (0 = to the end)" };
        command.Add(fileId);
        command.Add(output);
        command.Add(offset);
        command.Add(length);
        connection.Handle(async (parse, client, writer, ct) =>
        {
            var id = ClientConnection.ParseFileId(parse.GetRequiredValue(fileId));
            string target = parse.GetValue(output) ?? Path.GetFileName(id.LogicName);
            if (target == "-")
            {
                await writer.FlushAsync(ct);
                await using var stdout = Console.OpenStandardOutput();
                await client.DownloadAsync(id, stdout, parse.GetValue(offset), parse.GetValue(length), ct);
                return 0;
            }

            await client.DownloadToFileAsync(id, target, parse.GetValue(offset), parse.GetValue(length), ct);
            return 0;
        })(command);
        return command;
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
                using var reader = list == "-" ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(list);
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Trim() is { Length: > 0 } id && !id.StartsWith('#'))
                    {
                        ids.Add(id);
                    }
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

/// <summary><c>info &lt;fileId&gt;</c>: prints exactly what fdfs_file_info prints (checked against the stock tool).</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("info", "Show a file's source storage, create time, size and crc32 (like fdfs_file_info)");
        var fileId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        command.Add(fileId);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var info = await client.GetFileInfoAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(fileId)), ct);
            await output.WriteAsync(Format(info, TimeZoneInfo.Local));
            return 0;
        })(command);
        return command;
    }

    /// <summary>fdfs_file_info's text: crc32 as a signed decimal and 8 lower-case hex digits, a blank line after the first and last line.</summary>
    internal static string Format(FastDfsFileInfo info, TimeZoneInfo zone)
    {
        string type = info.Type switch
        {
            FastDfsFileType.Normal => "normal",
            FastDfsFileType.Slave => "slave",
            FastDfsFileType.Appender => "appender",
            _ => "unknown",
        };
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

/// <summary><c>meta get &lt;fileId&gt;</c> / <c>meta set &lt;fileId&gt; k=v ... [--merge]</c>.</summary>
internal static class MetaCommand
{
    public static Command Create()
    {
        var meta = new Command("meta", "Get or set a file's metadata");

        var (get, getConnection) = ClientConnection.NewCommand("get", "Print a file's metadata as name=value lines (nothing for a file without metadata)");
        var getId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        get.Add(getId);
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
