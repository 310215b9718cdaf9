using FastDfs.Cli;

// Started through a link named like a stock tool (fdfs_upload_file ...): that tool's arguments.
if (StockToolNames.InvokedPath() is { } invoked && StockToolNames.Tools.ContainsKey(Path.GetFileName(invoked)))
{
    if (StockToolNames.Translate(invoked, args, out string? usage) is not { } translated)
    {
        Console.Error.WriteLine(usage);
        return 1;
    }

    StockToolNames.ErrorPrefix = StockToolNames.FailurePrefixOf(invoked, args);
    args = translated;
}

return await CliApp.BuildRootCommand().Parse(args).InvokeAsync();
