using FastDfs.Cli;

return await CliApp.BuildRootCommand().Parse(args).InvokeAsync();
