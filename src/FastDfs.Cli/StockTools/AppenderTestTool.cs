using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.StockTools;

/// <summary>
/// <c>fdfs_appender_test &lt;config_file&gt; &lt;local_filename&gt; [FILE | BUFF | CALLBACK]</c> and
/// <c>fdfs_appender_test1</c>: stock's appender-file test, with its output lines. On the storage the tracker chooses:
/// upload the file as an appender file (with four metadata items), truncate it (to half its size; fdfs_appender_test1:
/// to 0), append the file, overwrite from the end with it (modify), printing the file's attributes after each step
/// and, on stderr, <c>file size: X != Y!!!</c> when a size is not the expected one. The URL line names the tracker's
/// host, as stock's does. Unlike stock, a failed truncate prints its real errno and exits with it (stock prints
/// <c>error no: 0</c> and exits 0).
/// </summary>
internal static class AppenderTestTool
{
    public static async Task<int> RunAsync(StockToolRun run, bool fileIdApi)
    {
        var o = run.Output;
        await o.WriteAsync(StockText.TestBanner);
        if (run.Args.Count < 2)
        {
            await o.WriteLineAsync($"Usage: {run.InvokedPath} <config_file> <local_filename> [FILE | BUFF | CALLBACK]");
            return 1;
        }

        var (client, exit) = await StockText.OpenAsync(run, run.Args[0]);
        if (client is null)
        {
            return exit;
        }

        await using (client)
        {
            try
            {
                return await RunStepsAsync(run, client, fileIdApi);
            }
            catch (FastDfsConnectionException e)
            {
                return await StockText.ConnectionFailedAsync(run, e);
            }
        }
    }

    private static async Task<int> RunStepsAsync(StockToolRun run, FastDfsClient client, bool fileIdApi)
    {
        var o = run.Output;
        var ct = run.Ct;
        string local = run.Args[1];
        string kind = run.Args.Count > 2 ? run.Args[2] switch { "BUFF" => "filebuff", "CALLBACK" => "callback", _ => "filename" } : "filename";

        // The labels: the file-ID calls end in 1, except the FILE kind's append and modify, whose lines stock left unchanged.
        string Label(string call, bool plainForFile = false) =>
            $"storage_{call}_by_{kind}{(fileIdApi && !(plainForFile && kind == "filename") ? "1" : "")}";

        var (queried, errno) = await StockText.QueryStoreAsync(client, o, ct);
        if (queried is not { } store)
        {
            return errno;
        }

        var storage = client.GetStorage(store.Storage);
        string? ext = StockText.Extension(local);

        FileId id;
        long fileSize;
        try
        {
            await using var content = TestTool.OpenLocal(local);
            fileSize = content.Length;
            id = await storage.UploadAppenderAsync(content, fileSize, string.IsNullOrEmpty(ext) ? null : ext, (sbyte)store.StorePathIndex, ct);
            await storage.SetMetadataAsync(id, StockText.TestMetadata, MetadataOp.Overwrite, ct);
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await o.WriteLineAsync(Label("upload_appender"));
            await o.WriteLineAsync(StockText.Fail("upload file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }

        await o.WriteLineAsync(Label("upload_appender"));
        await o.WriteLineAsync(fileIdApi ? $"fild_id={id}" : $"group_name={id.Group}, remote_filename={id.LogicName}");
        string url = TestTool.Url(client, client.Options.Trackers[0].Host, id);
        await o.WriteAsync((await TestTool.AttributesAsync(client, id, crc32: true, ct)).Text);
        await o.WriteLineAsync($"file url: {url}");

        long truncated = fileIdApi ? 0 : fileSize / 2;
        try
        {
            await storage.TruncateAsync(id, truncated, ct);
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await o.WriteLineAsync(StockText.Fail("truncate file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }

        var (text, size) = await TestTool.AttributesAsync(client, id, crc32: true, ct);
        await o.WriteAsync(text);
        await o.WriteLineAsync($"file url: {url}");
        await CheckSizeAsync(run, size, truncated);

        long expected = truncated + fileSize;
        int result = await StepAsync(run, Label("append", plainForFile: true), "append file", async () =>
        {
            await using var content = TestTool.OpenLocal(local);
            await storage.AppendAsync(id, content, content.Length, ct);
        });
        if (result != 0)
        {
            return result;
        }

        await o.WriteLineAsync("append file successfully.");
        (text, size) = await TestTool.AttributesAsync(client, id, crc32: false, ct);
        await o.WriteAsync(text);
        await CheckSizeAsync(run, size, expected);

        // Overwrite from the end (fdfs_appender_test: at the size the storage reports, fdfs_appender_test1: at the local
        // file's size): the file grows by one more copy.
        long offset = fileIdApi ? fileSize : size;
        result = await StepAsync(run, Label("modify", plainForFile: true), "modify file", async () =>
        {
            await using var content = TestTool.OpenLocal(local);
            await storage.ModifyAsync(id, offset, content, content.Length, ct);
        });
        if (result != 0)
        {
            return result;
        }

        await o.WriteLineAsync("modify file successfully.");
        (text, size) = await TestTool.AttributesAsync(client, id, crc32: false, ct);
        await o.WriteAsync(text);
        await CheckSizeAsync(run, size, expected + fileSize);
        return 0;
    }

    /// <summary>One change: the call, its label line after it, and its failure line.</summary>
    private static async Task<int> StepAsync(StockToolRun run, string label, string what, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await run.Output.WriteLineAsync(label);
            await run.Output.WriteLineAsync(StockText.Fail(what, StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }

        await run.Output.WriteLineAsync(label);
        return 0;
    }

    private static async Task CheckSizeAsync(StockToolRun run, long size, long expected)
    {
        if (size != expected)
        {
            await run.Error.WriteLineAsync($"file size: {size} != {expected}!!!");
        }
    }
}
