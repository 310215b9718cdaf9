using System.CommandLine;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The appender-file operations beside <c>append</c>: <c>modify &lt;appenderFileId&gt; &lt;offset&gt; &lt;file&gt;</c>,
/// <c>truncate &lt;appenderFileId&gt; [size]</c> and <c>regenerate &lt;appenderFileId&gt;</c> (prints the new normal-file ID,
/// as fdfs_regenerate_filename does).
/// </summary>
internal static class AppenderCommands
{
    public static Command CreateModify()
    {
        var (command, connection) = ClientConnection.NewCommand("modify", "Overwrite part of an appender file with a local file's content");
        var fileId = new Argument<string>("appenderFileId") { Description = "group/Mxx/HH/LL/name of an appender file" };
        var offset = new Argument<long>("offset") { Description = "Where the new bytes start (at most the file's size)" };
        var file = new Argument<string>("file") { Description = "Local file whose content is written there" };
        command.Add(fileId);
        command.Add(offset);
        command.Add(file);
        connection.Handle(async (parse, client, _, ct) =>
        {
            await using var content = File.OpenRead(parse.GetRequiredValue(file));
            await client.ModifyAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(fileId)), parse.GetValue(offset), content, content.Length, ct);
            return 0;
        })(command);
        return command;
    }

    public static Command CreateTruncate()
    {
        var (command, connection) = ClientConnection.NewCommand("truncate", "Truncate (or zero-extend) an appender file");
        var fileId = new Argument<string>("appenderFileId") { Description = "group/Mxx/HH/LL/name of an appender file" };
        var size = new Argument<long>("size") { Description = "The new size (default 0)", Arity = ArgumentArity.ZeroOrOne };
        command.Add(fileId);
        command.Add(size);
        connection.Handle(async (parse, client, _, ct) =>
        {
            await client.TruncateAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(fileId)), parse.GetValue(size), ct);
            return 0;
        })(command);
        return command;
    }

    public static Command CreateRegenerate()
    {
        var (command, connection) = ClientConnection.NewCommand("regenerate", "Turn an appender file into a normal file and print its new file ID");
        var fileId = new Argument<string>("appenderFileId") { Description = "group/Mxx/HH/LL/name of an appender file" };
        command.Add(fileId);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var renamed = await client.RegenerateAppenderFilenameAsync(ClientConnection.ParseFileId(parse.GetRequiredValue(fileId)), ct);
            await output.WriteLineAsync(renamed.ToString());
            return 0;
        })(command);
        return command;
    }
}

/// <summary>
/// <c>query &lt;fileId&gt; [--json]</c>: the storages a tracker names for a file, as fdfs_test's query_servers: every storage that
/// may serve it (QUERY_FETCH_ALL) and the one that takes its changes (QUERY_UPDATE).
/// </summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("query", "Show the storages a tracker names for a file: those that serve it and the one for changes");
        var fileId = new Argument<string>("fileId") { Description = "group/Mxx/HH/LL/name" };
        var json = JsonOutput.NewOption();
        command.Add(fileId);
        command.Add(json);
        connection.Handle(async (parse, client, output, ct) =>
        {
            var id = ClientConnection.ParseFileId(parse.GetRequiredValue(fileId));
            var fetch = await client.Tracker.QueryFetchAllAsync(id, ct);
            var update = await client.Tracker.QueryUpdateAsync(id, ct);
            if (parse.GetValue(json))
            {
                await JsonOutput.WriteAsync(output, new QueryJson(id.ToString(), fetch.Select(s => new ServerJson(s.Ip, s.Port)).ToList(),
                    new ServerJson(update.Ip, update.Port)), CliJsonContext.Default.QueryJson);
                return 0;
            }

            foreach (var storage in fetch)
            {
                await output.WriteLineAsync($"fetch: {storage.Ip}:{storage.Port}");
            }

            await output.WriteLineAsync($"update: {update.Ip}:{update.Port}");
            return 0;
        })(command);
        return command;
    }
}
