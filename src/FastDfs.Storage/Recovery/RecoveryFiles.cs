using FastDfs.Storage.Store;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// The state of a store path's recovery in progress, in its <c>data/</c> directory and in stock's formats, so a recovery
/// interrupted by a crash resumes where it stood, whichever implementation runs next:
/// <c>.recovery.flag</c> (<c>saved_storage_status</c>, <c>fetch_binlog_done</c>, <c>recovery_threads</c>),
/// <c>.binlog.recovery.&lt;t&gt;</c> (the records worker t fetches) and <c>.recovery.mark.&lt;t&gt;</c>
/// (<c>binlog_offset</c>: the byte offset of its next record).
/// </summary>
internal sealed class RecoveryFiles(string dataDirectory)
{
    public const string FlagFileName = ".recovery.flag";

    /// <summary>The saved status of a recovery decided before the trackers were asked (stock's placeholder).</summary>
    public const int UnknownStatus = 99;

    private const string Remedy = "delete it to fetch the store path's file list again";

    public string DataDirectory => dataDirectory;

    public string FlagPath => Path.Combine(dataDirectory, FlagFileName);

    /// <summary>Where the fetched records land before they are split among the workers.</summary>
    public string FetchedPath => Path.Combine(dataDirectory, ".binlog.recovery.fetch");

    public string BinlogPath(int worker) => Path.Combine(dataDirectory, $".binlog.recovery.{worker}");

    public string MarkPath(int worker) => Path.Combine(dataDirectory, $".recovery.mark.{worker}");

    public bool InProgress => File.Exists(FlagPath);

    /// <summary>What <c>.recovery.flag</c> says.</summary>
    public readonly record struct Flag(int SavedStatus, bool FetchDone, int Threads);

    public Flag? ReadFlag()
    {
        var values = StateFile.TryRead(FlagPath, Remedy);
        return values is null
            ? null
            : new Flag((int)values.GetLong("saved_storage_status", UnknownStatus), values.GetLong("fetch_binlog_done") != 0,
                (int)values.GetLong("recovery_threads", -1));
    }

    public void WriteFlag(Flag flag) => StateFile.WriteAtomic(FlagPath,
    [
        StateFile.Entry("saved_storage_status", flag.SavedStatus),
        StateFile.Entry("fetch_binlog_done", flag.FetchDone ? 1 : 0),
        StateFile.Entry("recovery_threads", flag.Threads),
    ]);

    public long ReadMark(int worker) =>
        StateFile.TryRead(MarkPath(worker), Remedy) is { } values ? Math.Max(0, values.GetLong("binlog_offset")) : 0;

    public void WriteMark(int worker, long offset) => StateFile.WriteAtomic(MarkPath(worker), [StateFile.Entry("binlog_offset", offset)]);

    /// <summary>Removes every file of the recovery (the flag last: until then a restart resumes).</summary>
    public void Finish()
    {
        foreach (string file in Directory.EnumerateFiles(dataDirectory, ".binlog.recovery.*")
                     .Concat(Directory.EnumerateFiles(dataDirectory, ".recovery.mark.*")))
        {
            File.Delete(file);
        }

        File.Delete(FlagPath);
        DurableFiles.SyncDirectory(dataDirectory);
    }
}
