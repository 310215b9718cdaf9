using System.CommandLine;
using FastDfs.Cli.Commands;

namespace FastDfs.Cli;

/// <summary>Composes the <c>fdfs</c> command tree: one line per command (family) below.</summary>
public static class CliApp
{
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("FastDFS.NET: servers and client tools for FastDFS-protocol clusters");

        // Client commands (talk to a tracker given by --tracker or --config client.conf).
        root.Add(UploadCommand.Create());
        root.Add(DownloadCommand.Create());
        root.Add(DeleteCommand.Create());
        root.Add(InfoCommand.Create());
        root.Add(MetaCommand.Create());
        root.Add(AppendCommand.Create());
        root.Add(AppenderCommands.CreateModify());
        root.Add(AppenderCommands.CreateTruncate());
        root.Add(AppenderCommands.CreateRegenerate());
        root.Add(QueryCommand.Create());
        root.Add(ListCommand.Create());
        root.Add(RebalanceCommand.Create());
        root.Add(MonitorCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(ScrubCommand.Create());
        root.Add(CheckCommand.Create());

        // Daemons.
        root.Add(ServerCommands.CreateTracker());
        root.Add(ServerCommands.CreateStorage());
        root.Add(ServerCommands.CreateServer());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/> with the given output writers (used by tests and hosts).</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default) =>
        BuildRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, ct);
}
