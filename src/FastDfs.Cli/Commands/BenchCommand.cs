using System.CommandLine;
using System.Globalization;
using FastDfs.Bench;
using FastDfs.Client;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using Spectre.Console;

namespace FastDfs.Cli.Commands;

/// <summary>
/// <c>bench [upload|download|mixed]</c>: a load generator for any FastDFS-protocol cluster (ours or stock),
/// like <c>weed benchmark</c>: ops/s, MB/s, latency percentiles, errors by errno, server CPU per op, with a
/// live progress bar on a terminal and a JSON summary for scripts.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var (command, connection) = ClientConnection.NewCommand("bench", "Load-test a FastDFS cluster: upload, download or mixed workloads");
        var workload = new Argument<string>("workload")
        {
            Description = "upload, download (uploads a working set first unless --file-ids) or mixed",
            DefaultValueFactory = _ => "upload",
        };
        workload.AcceptOnlyFromAmong("upload", "download", "mixed");
        var concurrency = new Option<int>("--concurrency", "-n") { Description = "Concurrent clients (one connection each)", DefaultValueFactory = _ => 8 };
        var size = new Option<string>("--size", "-s") { Description = "File size (4KB) or range (1KB-64KB)", DefaultValueFactory = _ => "4KB" };
        var count = new Option<long?>("--count") { Description = "Operations to run (default 1000 unless --duration)" };
        var duration = new Option<string?>("--duration", "-d") { Description = "Run for this long (e.g. 30s, 2m, 500ms)" };
        var readPercent = new Option<int>("--read-percent") { Description = "Mixed workload: percentage of downloads", DefaultValueFactory = _ => 80 };
        var files = new Option<int>("--files") { Description = "Working set uploaded before download/mixed runs (default: up to 100 files, at most 1 GB)" };
        var fileIds = new Option<string?>("--file-ids") { Description = "Download these file IDs (one per line) instead of uploading a working set" };
        var saveIds = new Option<string?>("--save-ids") { Description = "Write the file IDs uploaded by the run to this file" };
        var cleanup = new Option<bool>("--cleanup") { Description = "Delete every file the run uploaded (working set included) when it ends" };
        var ext = new Option<string>("--ext") { Description = "Extension of uploaded files (empty for none)", DefaultValueFactory = _ => "bin" };
        var group = new Option<string?>("--group", "-g") { Description = "Upload to this group" };
        var firstKey = new Option<long>("--seed") { Description = "Key of the first file (content is derived from it)" };
        var json = new Option<string?>("--json") { Description = "Write the JSON summary to this file ('-' = stdout, replacing the text summary)" };
        var serverPids = new Option<string?>("--server-pid") { Description = "Server process ids (PID[,PID]) whose CPU time per op and RSS are reported" };
        var noProgress = new Option<bool>("--no-progress") { Description = "No live progress display" };
        var io = new Option<string>("--io")
        {
            Description = "blocking: a thread per client, blocking socket calls (least CPU per operation); async: asynchronous sockets on the thread pool",
            DefaultValueFactory = _ => "blocking",
        };
        io.AcceptOnlyFromAmong("blocking", "async");
        command.Add(workload);
        command.Add(concurrency);
        command.Add(size);
        command.Add(count);
        command.Add(duration);
        command.Add(readPercent);
        command.Add(files);
        command.Add(fileIds);
        command.Add(saveIds);
        command.Add(cleanup);
        command.Add(ext);
        command.Add(group);
        command.Add(firstKey);
        command.Add(json);
        command.Add(serverPids);
        command.Add(noProgress);
        command.Add(io);

        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var (min, max) = ByteSize.ParseRange(parse.GetValue(size)!);
                string? idsPath = parse.GetValue(fileIds);
                string? extension = parse.GetValue(ext);
                var options = new BenchOptions
                {
                    Workload = Enum.Parse<BenchWorkload>(parse.GetValue(workload)!, ignoreCase: true),
                    Concurrency = parse.GetValue(concurrency),
                    MinSize = min,
                    MaxSize = max,
                    Count = parse.GetValue(count),
                    Duration = parse.GetValue(duration) is { } d ? ParseDuration(d) : null,
                    ReadPercent = parse.GetValue(readPercent),
                    WorkingSetFiles = parse.GetValue(files),
                    FileIds = idsPath is null ? null : await ReadFileIdsAsync(idsPath, ct),
                    Ext = string.IsNullOrEmpty(extension) ? null : extension,
                    Group = parse.GetValue(group),
                    FirstKey = parse.GetValue(firstKey),
                    ServerPids = ParsePids(parse.GetValue(serverPids)),
                    BlockingSockets = parse.GetValue(io) == "blocking",
                };
                options.Validate();

                var clientOptions = connection.ResolveOptions(parse);
                clientOptions = clientOptions with
                {
                    UseConnectionPool = true,
                    MaxConnectionsPerEndpoint = Math.Max(clientOptions.MaxConnectionsPerEndpoint, options.Concurrency),
                    BlockingSockets = options.BlockingSockets,
                };
                await using var client = new FastDfsClient(clientOptions);
                string? savePath = parse.GetValue(saveIds);
                bool deleteAfter = parse.GetValue(cleanup);
                if (deleteAfter && savePath is not null)
                {
                    throw new ArgumentException("--save-ids and --cleanup do not go together: the saved IDs would name deleted files");
                }

                var runner = new BenchRunner(client, options) { KeepUploadedIds = savePath is not null || deleteAfter };
                string? jsonTarget = parse.GetValue(json);
                bool showProgress = !parse.GetValue(noProgress) && jsonTarget != "-" &&
                    ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
                BenchResult result;
                try
                {
                    var run = runner.RunAsync(ct);
                    if (showProgress)
                    {
                        await ShowProgressAsync(runner.Progress, options, run);
                    }

                    result = await run;
                }
                catch when (deleteAfter)
                {
                    // Stopped (Ctrl+C) or failed: what it uploaded so far still goes.
                    await CleanUpAsync(runner, error);
                    throw;
                }

                if (savePath is not null)
                {
                    await File.WriteAllLinesAsync(savePath, runner.UploadedIds.Select(id => id.ToString()), ct);
                }

                if (jsonTarget == "-")
                {
                    using var buffer = new MemoryStream();
                    result.WriteJson(buffer);
                    await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                }
                else
                {
                    await output.WriteAsync(result.Format());
                    if (jsonTarget is not null)
                    {
                        await using var file = File.Create(jsonTarget);
                        result.WriteJson(file);
                    }
                }

                long cleanupFailures = deleteAfter ? await CleanUpAsync(runner, error) : 0;

                return result.Errors == 0 && result.Ops > 0 && cleanupFailures == 0 ? 0 : 1;
            }
            catch (FastDfsException ex)
            {
                await error.WriteLineAsync(ex.Message);
                return ex.ErrorCode is > 0 and < 256 ? ex.ErrorCode : 1;
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or ConfigException)
            {
                await error.WriteLineAsync($"fdfs: {ex.Message}");
                return 2;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"fdfs: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// <c>--cleanup</c>: deletes what the run uploaded, with a token of its own (the run's may be cancelled: Ctrl+C), and
    /// says how many on stderr (stdout may be the JSON summary). Returns the number that could not be deleted.
    /// </summary>
    private static async Task<long> CleanUpAsync(BenchRunner runner, TextWriter error)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var (deleted, failed) = await runner.DeleteUploadedAsync(limit.Token);
        await error.WriteLineAsync(failed == 0
            ? $"cleanup: {deleted} files uploaded by the run deleted"
            : $"cleanup: {deleted} files uploaded by the run deleted, {failed} could not be deleted");
        return failed;
    }

    /// <summary>Durations such as <c>30s</c>, <c>2m</c>, <c>500ms</c>, <c>1h</c> or plain seconds.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            throw new FormatException($"invalid duration '{text}': expected e.g. 30s, 2m, 500ms");
        }

        return TimeSpan.FromSeconds(value * scale);
    }

    private static int[] ParsePids(string? text) => string.IsNullOrWhiteSpace(text)
        ? []
        : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0
                ? pid
                : throw new FormatException($"invalid process id '{p}'"))
            .ToArray();

    private static async Task<IReadOnlyList<FileId>> ReadFileIdsAsync(string path, CancellationToken ct)
    {
        var ids = new List<FileId>();
        foreach (string line in await File.ReadAllLinesAsync(path, ct))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                ids.Add(ClientConnection.ParseFileId(line.Trim()));
            }
        }

        return ids;
    }

    /// <summary>A Spectre.Console progress bar fed from the live counters until the run ends.</summary>
    private static Task ShowProgressAsync(BenchProgress progress, BenchOptions options, Task run) =>
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 100);
                while (!run.IsCompleted)
                {
                    long ops = progress.Ops;
                    double seconds = Math.Max(progress.Elapsed.TotalSeconds, 1e-3);
                    if (progress.Phase == "preparing")
                    {
                        task.Description = $"preparing working set: {progress.Prepared}/{options.EffectiveWorkingSet} files";
                        task.Value = 100.0 * progress.Prepared / Math.Max(1, options.EffectiveWorkingSet);
                    }
                    else
                    {
                        task.Description = Markup.Escape(
                            $"{options.Workload.ToString().ToLowerInvariant()}: {ops} ops, {ops / seconds:0} ops/s, {progress.Bytes / seconds / (1 << 20):0.0} MB/s, {progress.Errors} errors");
                        task.Value = options.Duration is { } d && options.Count is null
                            ? Math.Min(100, 100 * seconds / d.TotalSeconds)
                            : 100.0 * ops / Math.Max(1, options.EffectiveCount);
                    }

                    await Task.WhenAny(run, Task.Delay(250));
                }

                task.Value = task.MaxValue;
            });
}
