using FastDfs.Cli;
using FastDfs.Cli.StockTools;

// Started through a link named like a stock tool (fdfs_upload_file ...): that tool's arguments.
if (StockToolNames.InvokedPath() is { } invoked && StockToolNames.Tools.TryGetValue(Path.GetFileName(invoked), out var tool))
{
    if (tool.Runner is { } runner)
    {
        return await runner(new StockToolRun(invoked, args, Console.Out, Console.Error, CancellationToken.None));
    }

    if (StockToolNames.Translate(invoked, args, out string? usage) is not { } translated)
    {
        Console.Error.WriteLine(usage);
        return 1;
    }

    StockToolNames.Active = true;
    StockToolNames.ErrorPrefix = StockToolNames.FailurePrefixOf(invoked, args);
    args = translated;
}

return await CliApp.BuildRootCommand().Parse(args).InvokeAsync();
