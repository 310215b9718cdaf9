namespace FastDfs.Storage.Store;

/// <summary>
/// <c>base_path/data/.data_init_flag</c> (spec 15): first-join time, old-data sync state, last address and
/// the store path marks, with the keys in stock's order so stock can take the directory over.
/// </summary>
internal sealed class DataInitFlag
{
    public const string FileName = ".data_init_flag";

    private readonly string _path;
    private readonly object _gate = new();

    private DataInitFlag(string path, int storePathCount)
    {
        _path = path;
        StorePathMarks = new string[storePathCount];
    }

    /// <summary>True when the file did not exist at start: a new storage (JOIN with init_flag=1).</summary>
    public bool WasCreated { get; private set; }

    public long StorageJoinTime { get; set; }
    public bool SyncOldDone { get; set; }
    public string SyncSrcServer { get; set; } = string.Empty;
    public long SyncUntilTimestamp { get; set; }
    public string LastIpAddr { get; set; } = string.Empty;
    public long LastServerPort { get; set; }
    public long CurrentTrunkFileId { get; set; }
    public long TrunkLastCompressTime { get; set; }
    public long TrunkBinlogCompressStage { get; set; }
    public string[] StorePathMarks { get; }

    public static DataInitFlag LoadOrCreate(string dataDirectory, int storePathCount, long now)
    {
        var flag = new DataInitFlag(Path.Combine(dataDirectory, FileName), storePathCount);
        var values = StateFile.TryRead(flag._path,
            "restore it from a backup; delete it only to make this storage join its group again as a new, empty member");
        if (values is null)
        {
            flag.WasCreated = true;
            flag.StorageJoinTime = now;
            return flag;
        }

        if (!values.ContainsKey("storage_join_time") || !values.ContainsKey("sync_old_done") ||
            !values.ContainsKey("sync_src_server"))
        {
            throw new InvalidDataException($"{flag._path} lacks storage_join_time, sync_old_done or sync_src_server");
        }

        flag.StorageJoinTime = values.GetLong("storage_join_time");
        flag.SyncOldDone = values.GetLong("sync_old_done") != 0;
        flag.SyncSrcServer = values.GetString("sync_src_server");
        flag.SyncUntilTimestamp = values.GetLong("sync_until_timestamp");
        flag.LastIpAddr = values.GetString("last_ip_addr");
        flag.LastServerPort = values.GetLong("last_server_port");
        flag.CurrentTrunkFileId = values.GetLong("current_trunk_file_id");
        flag.TrunkLastCompressTime = values.GetLong("trunk_last_compress_time");
        flag.TrunkBinlogCompressStage = values.GetLong("trunk_binlog_compress_stage");
        for (int i = 0; i < storePathCount; i++)
        {
            flag.StorePathMarks[i] = values.GetString("store_path_mark" + i);
        }

        return flag;
    }

    public void Save()
    {
        lock (_gate)
        {
            var entries = new List<KeyValuePair<string, string>>
            {
                StateFile.Entry("storage_join_time", StorageJoinTime),
                StateFile.Entry("sync_old_done", SyncOldDone ? 1 : 0),
                StateFile.Entry("sync_src_server", SyncSrcServer),
                StateFile.Entry("sync_until_timestamp", SyncUntilTimestamp),
                StateFile.Entry("last_ip_addr", LastIpAddr),
                StateFile.Entry("last_server_port", LastServerPort),
                StateFile.Entry("current_trunk_file_id", CurrentTrunkFileId),
                StateFile.Entry("trunk_last_compress_time", TrunkLastCompressTime),
                StateFile.Entry("trunk_binlog_compress_stage", TrunkBinlogCompressStage),
            };
            for (int i = 0; i < StorePathMarks.Length; i++)
            {
                if (!string.IsNullOrEmpty(StorePathMarks[i]))
                {
                    entries.Add(StateFile.Entry("store_path_mark" + i, StorePathMarks[i]));
                }
            }

            StateFile.WriteAtomic(_path, entries);
        }
    }
}
