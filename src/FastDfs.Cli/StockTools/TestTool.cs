using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Cli.StockTools;

/// <summary>
/// <c>fdfs_test &lt;config_file&gt; &lt;operation&gt; ...</c> and <c>fdfs_test1</c> (the same with file IDs instead of
/// group name + remote file name): stock's all-in-one test client, with its operations, arguments and output lines.
/// <list type="bullet">
/// <item><c>upload &lt;local_filename&gt; [FILE | BUFF | CALLBACK]</c>: the storages the tracker offers, the one it
/// chooses, the upload (with four metadata items), the file's attributes and URL, then a slave file of it (prefix
/// <c>_big</c>, <c>1024x1024</c> or <c>-small</c> / <c>_small</c> by the upload kind) and the same for it.</item>
/// <item><c>download|getmeta|delete|query_servers &lt;group_name&gt; &lt;remote_filename&gt;</c> (fdfs_test1: <c>&lt;file_id&gt;</c>),
/// download with an optional local file name, <c>setmeta ... &lt;O|M&gt; name1=value1,name2=value2</c>.</item>
/// </list>
/// The three upload kinds send the same bytes (stock differs only in how its client library reads the file); the
/// label lines name the kind given. Unlike stock, a failed operation exits with its errno (stock exits 0 after a
/// failed download, getmeta, setmeta or delete).
/// </summary>
internal sealed class TestTool
{
    private readonly StockToolRun _run;
    private readonly bool _fileIdApi;
    private readonly FastDfsClient _client;

    private TestTool(StockToolRun run, bool fileIdApi, FastDfsClient client)
    {
        _run = run;
        _fileIdApi = fileIdApi;
        _client = client;
    }

    private TextWriter Out => _run.Output;

    private IReadOnlyList<string> Args => _run.Args;

    public static async Task<int> RunAsync(StockToolRun run, bool fileIdApi)
    {
        await run.Output.WriteAsync(StockText.TestBanner);
        if (run.Args.Count < 2)
        {
            await run.Output.WriteLineAsync($"Usage: {run.InvokedPath} <config_file> <operation>");
            await run.Output.WriteLineAsync("\toperation: upload, download, getmeta, setmeta, delete and query_servers");
            return 1;
        }

        var (client, exit) = await StockText.OpenAsync(run, run.Args[0]);
        if (client is null)
        {
            return exit;
        }

        await using (client)
        {
            var tool = new TestTool(run, fileIdApi, client);
            try
            {
                return run.Args[1] switch
                {
                    "upload" => await tool.UploadAsync(),
                    "download" or "getmeta" or "setmeta" or "query_servers" or "delete" => await tool.FileOperationAsync(run.Args[1]),
                    _ => await tool.InvalidAsync(run.Args[1]),
                };
            }
            catch (FastDfsConnectionException e)
            {
                return await StockText.ConnectionFailedAsync(run, e);
            }
        }
    }

    private async Task<int> InvalidAsync(string operation)
    {
        await Out.WriteLineAsync($"invalid operation: {operation}");
        return Errno.EINVAL;
    }

    private async Task<int> UploadAsync()
    {
        if (Args.Count < 3)
        {
            await Out.WriteLineAsync($"Usage: {_run.InvokedPath} <config_file> upload <local_filename> [FILE | BUFF | CALLBACK] ");
            return Errno.EINVAL;
        }

        string local = Args[2];
        string kind = Args.Count > 3 ? Args[3] switch { "BUFF" => "filebuff", "CALLBACK" => "callback", _ => "filename" } : "filename";
        string slavePrefix = kind switch { "filebuff" => "1024x1024", "callback" => _fileIdApi ? "_small" : "-small", _ => "_big" };

        // The storages the tracker would take an upload on: any group (fdfs_test), group1 (fdfs_test1). Not printed when
        // the tracker refuses.
        string listGroup = _fileIdApi ? "group1" : "";
        try
        {
            var all = await _client.Tracker.QueryStoreAllAsync(listGroup, _run.Ct);
            var list = new System.Text.StringBuilder($"tracker_query_storage_store_list_{(_fileIdApi ? "with" : "without")}_group: \n");
            for (int i = 0; i < all.Storages.Count; i++)
            {
                list.Append($"\tserver {i + 1}. group_name={listGroup}, ip_addr={all.Storages[i].Ip}, port={all.Storages[i].Port}\n");
            }

            await Out.WriteLineAsync(list.ToString());
        }
        catch (FastDfsException e) when (e is not FastDfsConnectionException)
        {
        }

        var (queried, errno) = await StockText.QueryStoreAsync(_client, Out, _run.Ct);
        if (queried is not { } store)
        {
            return errno;
        }

        var storage = _client.GetStorage(store.Storage);
        string? ext = StockText.Extension(local);

        // fdfs_test names the call after it, fdfs_test1 before.
        string label = $"storage_upload_by_{kind}";
        if (_fileIdApi)
        {
            await Out.WriteLineAsync(label);
        }

        FileId master;
        try
        {
            master = await UploadWithMetadataAsync(storage, local, ext, store.StorePathIndex);
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            if (!_fileIdApi)
            {
                await Out.WriteLineAsync(label);
            }

            await Out.WriteLineAsync(StockText.Fail("upload file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }

        if (!_fileIdApi)
        {
            await Out.WriteLineAsync(label);
        }

        await WriteUploadedAsync(master, store.Storage.Ip);

        label = $"storage_upload_slave_by_{kind}";
        if (_fileIdApi)
        {
            await Out.WriteLineAsync(label);
        }

        FileId slave;
        try
        {
            await using var content = OpenLocal(local);
            slave = await _client.UploadSlaveAsync(master, slavePrefix, ext, content, content.Length, StockText.TestMetadata, _run.Ct);
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            if (!_fileIdApi)
            {
                await Out.WriteLineAsync(label);
            }

            await Out.WriteLineAsync(StockText.Fail("upload slave file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }

        if (!_fileIdApi)
        {
            await Out.WriteLineAsync(label);
        }

        await WriteUploadedAsync(slave, store.Storage.Ip);

        // The slave's name is the master's with the prefix (and the extension) added: say so when the storage named it otherwise.
        var expected = new FileId(master.Group, FileNameCodec.BuildSlaveName(master.LogicName, slavePrefix, ext));
        if (expected != slave)
        {
            await Out.WriteLineAsync(_fileIdApi
                ? $"slave_file_id={expected}\nfile_id={slave}\nnot equal!"
                : $"slave_filename={expected.LogicName}\nremote_filename={slave.LogicName}\nnot equal!");
        }

        return await ActiveTestsAsync(storage);
    }

    /// <summary>An upload on the storage the tracker chose, then its metadata (stock's storage_upload_by_filename with a meta list).</summary>
    private async Task<FileId> UploadWithMetadataAsync(StorageClient storage, string local, string? ext, byte storePathIndex)
    {
        await using var content = OpenLocal(local);
        var id = await storage.UploadAsync(content, content.Length, string.IsNullOrEmpty(ext) ? null : ext, (sbyte)storePathIndex, _run.Ct);
        await storage.SetMetadataAsync(id, StockText.TestMetadata, MetadataOp.Overwrite, _run.Ct);
        return id;
    }

    internal static FileStream OpenLocal(string path) => Directory.Exists(path)
        ? throw new FastDfsException(Errno.EISDIR)
        : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);

    /// <summary>fdfs_test: the name; both: the attributes (decoded from the name, or asked for a slave) and the URL.</summary>
    private async Task WriteUploadedAsync(FileId id, string storageIp)
    {
        if (!_fileIdApi)
        {
            await Out.WriteLineAsync($"group_name={id.Group}, remote_filename={id.LogicName}");
        }

        await Out.WriteAsync((await AttributesAsync(_client, id, crc32: true, _run.Ct)).Text);
        await Out.WriteLineAsync($"example file url: {Url(_client, storageIp, id)}");
    }

    /// <summary>
    /// The attribute lines of the test programs (stock's fdfs_get_file_info): source address, create time, size and,
    /// with <paramref name="crc32"/>, the CRC32 as an unsigned number; zeros when they cannot be had, as stock prints.
    /// </summary>
    internal static async Task<(string Text, long Size)> AttributesAsync(FastDfsClient client, FileId id, bool crc32, CancellationToken ct)
    {
        FastDfsFileInfo? info;
        try
        {
            info = await client.GetFileInfoAsync(id, ct);
        }
        catch (FastDfsException e) when (e is not FastDfsConnectionException)
        {
            info = null;
        }

        string lines = $"source ip address: {info?.SourceIpAddress ?? ""}\n" +
            $"file timestamp={StockText.Time(info?.CreateTimestamp ?? 0)}\n" +
            $"file size={info?.FileSize ?? 0}\n";
        return (crc32 ? lines + $"file crc32={info?.Crc32 ?? 0}\n" : lines, info?.FileSize ?? 0);
    }

    /// <summary>The URL the test programs print: <c>http://host/file_id</c>, with stock's anti-steal token when client.conf asks for tokens.</summary>
    internal static string Url(FastDfsClient client, string host, FileId id)
    {
        string url = $"http://{host}/{id}";
        if (client.Options.AntiStealSecretKey is { Length: > 0 } secret)
        {
            long ts = client.Options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
            url += $"?token={Protocol.Http.AntiStealToken.Compute(id.ToString(), secret, ts)}&ts={ts}";
        }

        return url;
    }

    private async Task<int> FileOperationAsync(string operation)
    {
        int idArgs = _fileIdApi ? 1 : 2;
        if (Args.Count < 2 + idArgs)
        {
            await Out.WriteLineAsync($"Usage: {_run.InvokedPath} <config_file> {operation} {(_fileIdApi ? "<file_id>" : "<group_name> <remote_filename>")}");
            return Errno.EINVAL;
        }

        string idText = _fileIdApi ? Args[2] : $"{Args[2]}/{Args[3]}";
        string named = _fileIdApi ? $"file_id={Args[2]}" : $"group_name={Args[2]}, filename={Args[3]}";
        var rest = Args.Skip(2 + idArgs).ToList();

        // The storage for the operation: every one that holds the file (query_servers), the source for changes
        // (fdfs_test's setmeta and delete), else one to read from.
        StorageEndpoint storageEndpoint;
        FileId id = default;
        try
        {
            id = FileId.TryParse(idText, out var parsed) ? parsed : throw new FastDfsException(Errno.EINVAL);
            if (operation == "query_servers")
            {
                var servers = await _client.Tracker.QueryFetchAllAsync(id, _run.Ct);
                var list = new System.Text.StringBuilder($"server list ({servers.Count}):\n");
                foreach (var server in servers)
                {
                    list.Append($"\t{StockText.Ip(server.Ip)}:{server.Port}\n");
                }

                await Out.WriteLineAsync(list.ToString());
                return 0;
            }

            storageEndpoint = !_fileIdApi && operation is "setmeta" or "delete"
                ? await _client.Tracker.QueryUpdateAsync(id, _run.Ct)
                : await _client.Tracker.QueryFetchAsync(id, _run.Ct);
        }
        catch (FastDfsException e) when (e is not FastDfsConnectionException)
        {
            string call = operation == "query_servers" ? (_fileIdApi ? "tracker_query_storage_list1" : "tracker_query_storage_list") : "tracker_query_storage_fetch";
            await Out.WriteLineAsync($"{call} fail, {named}, {FastDfsException.FormatErrno(StockText.ErrnoOf(e))}");
            return StockText.ErrnoOf(e);
        }

        await Out.WriteLineAsync($"storage={StockText.Ip(storageEndpoint.Ip)}:{storageEndpoint.Port}");
        var storage = _client.GetStorage(storageEndpoint);
        int result = operation switch
        {
            "download" => await DownloadAsync(storage, id, rest),
            "getmeta" => await GetMetadataAsync(storage, id),
            "setmeta" => await SetMetadataAsync(id, rest),
            _ => await DeleteAsync(id),
        };
        if (result == -1)
        {
            return Errno.EINVAL; // setmeta's usage: printed, no test of the connections after it
        }

        int active = await ActiveTestsAsync(storage);
        return result != 0 ? result : active;
    }

    private async Task<int> DownloadAsync(StorageClient storage, FileId id, List<string> rest)
    {
        // No local name: the remote file's own name. (A name of CALLBACK is stock's download through a callback into a
        // file of that name: the same file here.)
        string local = rest.Count > 0 ? rest[0] : id.LogicName[(id.LogicName.LastIndexOf('/') + 1)..];

        // Into a temporary file renamed on success: a failed download leaves an existing file as it was.
        string full = Path.GetFullPath(local);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.part");
        try
        {
            long size;
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
                {
                    size = await storage.DownloadAsync(id, file, 0, 0, _run.Ct);
                }

                File.Move(temp, full, overwrite: true);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }

            await Out.WriteLineAsync($"download file success, file size={size}, file save to {local}");
            return 0;
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await Out.WriteLineAsync(StockText.Fail("download file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }
    }

    private async Task<int> GetMetadataAsync(StorageClient storage, FileId id)
    {
        try
        {
            // fdfs_test asks the storage it printed, fdfs_test1 one the tracker names again (stock passes no storage there).
            var items = _fileIdApi ? await _client.GetMetadataAsync(id, _run.Ct) : await storage.GetMetadataAsync(id, _run.Ct);
            var text = new System.Text.StringBuilder($"get meta data success, meta count={items.Count}\n");
            foreach (var item in items)
            {
                text.Append($"{item.Name}={item.Value}\n");
            }

            await Out.WriteAsync(text.ToString());
            return 0;
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await Out.WriteLineAsync(StockText.Fail("getmeta", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }
    }

    /// <summary>setmeta's arguments: the op flag's first character (O overwrite, M merge; others go as they are and the storage refuses them), name=value pairs split at commas.</summary>
    private async Task<int> SetMetadataAsync(FileId id, List<string> rest)
    {
        if (rest.Count < 2)
        {
            await Out.WriteLineAsync(
                $"Usage: {_run.InvokedPath} <config_file> setmeta {(_fileIdApi ? "<file_id>" : "<group_name> <remote_filename>")} <op_flag> <metadata_list>\n" +
                "\top_flag: O for overwrite, M for merge\n" +
                "\tmetadata_list: name1=value1,name2=value2,...");
            return -1;
        }

        var op = (MetadataOp)(rest[0].Length > 0 ? (byte)rest[0][0] : (byte)0);
        var items = rest[1].Split(',')
            .Where(pair => pair.Contains('=', StringComparison.Ordinal))
            .Select(pair => new MetadataItem(pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]))
            .ToList();
        try
        {
            await _client.SetMetadataAsync(id, items, op, _run.Ct);
            await Out.WriteLineAsync("set meta data success");
            return 0;
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await Out.WriteLineAsync(StockText.Fail("setmeta", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }
    }

    private async Task<int> DeleteAsync(FileId id)
    {
        try
        {
            await _client.DeleteAsync(id, _run.Ct);
            await Out.WriteLineAsync("delete file success");
            return 0;
        }
        catch (Exception e) when (StockText.IsCallFailure(e))
        {
            await Out.WriteLineAsync(StockText.Fail("delete file", StockText.ErrnoOf(e)));
            return StockText.ErrnoOf(e);
        }
    }

    /// <summary>The closing ACTIVE_TEST to the tracker and the storage used; a line for each that fails, the last failure's errno.</summary>
    private async Task<int> ActiveTestsAsync(StorageClient storage)
    {
        int result = 0;
        try
        {
            await _client.Tracker.ActiveTestAsync(_run.Ct);
        }
        catch (FastDfsException e)
        {
            var tracker = e is FastDfsConnectionException c ? c.Endpoint : _client.Options.Trackers[0];
            result = StockText.ErrnoOf(e);
            await Out.WriteLineAsync($"active_test to tracker server {StockText.Ip(tracker.Host)}:{tracker.Port} fail, errno: {result}");
        }

        try
        {
            await storage.ActiveTestAsync(_run.Ct);
        }
        catch (FastDfsException e)
        {
            result = StockText.ErrnoOf(e);
            await Out.WriteLineAsync($"active_test to storage server {StockText.Ip(storage.Endpoint.Host)}:{storage.Endpoint.Port} fail, errno: {result}");
        }

        return result;
    }
}
