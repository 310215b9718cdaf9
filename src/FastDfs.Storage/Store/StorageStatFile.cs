using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Store;

/// <summary><c>base_path/data/storage_stat.dat</c> (spec 15): the counters and round-robin state, in stock key order.</summary>
internal static class StorageStatFile
{
    public const string FileName = "storage_stat.dat";

    private static readonly (string Key, C Counter)[] CounterKeys =
    [
        ("total_upload_count", C.TotalUploadCount), ("success_upload_count", C.SuccessUploadCount),
        ("total_append_count", C.TotalAppendCount), ("success_append_count", C.SuccessAppendCount),
        ("total_modify_count", C.TotalModifyCount), ("success_modify_count", C.SuccessModifyCount),
        ("total_truncate_count", C.TotalTruncateCount), ("success_truncate_count", C.SuccessTruncateCount),
        ("total_download_count", C.TotalDownloadCount), ("success_download_count", C.SuccessDownloadCount),
        ("last_source_update", C.LastSourceUpdate), ("last_sync_update", C.LastSyncUpdate),
        ("total_set_meta_count", C.TotalSetMetaCount), ("success_set_meta_count", C.SuccessSetMetaCount),
        ("total_delete_count", C.TotalDeleteCount), ("success_delete_count", C.SuccessDeleteCount),
        ("total_get_meta_count", C.TotalGetMetaCount), ("success_get_meta_count", C.SuccessGetMetaCount),
        ("total_create_link_count", C.TotalCreateLinkCount), ("success_create_link_count", C.SuccessCreateLinkCount),
        ("total_delete_link_count", C.TotalDeleteLinkCount), ("success_delete_link_count", C.SuccessDeleteLinkCount),
        ("total_upload_bytes", C.TotalUploadBytes), ("success_upload_bytes", C.SuccessUploadBytes),
        ("total_append_bytes", C.TotalAppendBytes), ("success_append_bytes", C.SuccessAppendBytes),
        ("total_modify_bytes", C.TotalModifyBytes), ("success_modify_bytes", C.SuccessModifyBytes),
        ("total_download_bytes", C.TotalDownloadBytes), ("success_download_bytes", C.SuccessDownloadBytes),
        ("total_sync_in_bytes", C.TotalSyncInBytes), ("success_sync_in_bytes", C.SuccessSyncInBytes),
        ("total_sync_out_bytes", C.TotalSyncOutBytes), ("success_sync_out_bytes", C.SuccessSyncOutBytes),
        ("total_file_open_count", C.TotalFileOpenCount), ("success_file_open_count", C.SuccessFileOpenCount),
        ("total_file_read_count", C.TotalFileReadCount), ("success_file_read_count", C.SuccessFileReadCount),
        ("total_file_write_count", C.TotalFileWriteCount), ("success_file_write_count", C.SuccessFileWriteCount),
    ];

    /// <summary>Loads the counters; a damaged file is reported and the counters start from zero (they are statistics only).</summary>
    public static void Load(string dataDirectory, StorageStatCounters counters, SubdirDistributor distributor, ILogger logger)
    {
        Dictionary<string, string>? values;
        try
        {
            values = StateFile.TryRead(Path.Combine(dataDirectory, FileName), "the upload and download counters start from zero");
        }
        catch (InvalidDataException e)
        {
            logger.LogWarning("{Message}", e.Message);
            return;
        }

        if (values is null)
        {
            return;
        }

        foreach (var (key, counter) in CounterKeys)
        {
            counters[counter] = values.GetLong(key);
        }

        distributor.Restore(
            values.GetLong("dist_path_index_high"), values.GetLong("dist_path_index_low"), values.GetLong("dist_write_file_count"));
    }

    public static void Save(string dataDirectory, StorageStatCounters counters, SubdirDistributor distributor)
    {
        var entries = new List<KeyValuePair<string, string>>(CounterKeys.Length + 3);
        foreach (var (key, counter) in CounterKeys)
        {
            entries.Add(StateFile.Entry(key, counters[counter]));
        }

        var (high, low, count) = distributor.Snapshot();
        entries.Add(StateFile.Entry("dist_path_index_high", high));
        entries.Add(StateFile.Entry("dist_path_index_low", low));
        entries.Add(StateFile.Entry("dist_write_file_count", count));
        StateFile.WriteAtomic(Path.Combine(dataDirectory, FileName), entries);
    }

    /// <summary>A cheap fingerprint of everything the file holds, to skip writes when nothing changed.</summary>
    public static long Fingerprint(StorageStatCounters counters, SubdirDistributor distributor)
    {
        long hash = 17;
        foreach (var (_, counter) in CounterKeys)
        {
            hash = hash * 31 + counters[counter];
        }

        var (high, low, count) = distributor.Snapshot();
        return ((hash * 31 + high) * 31 + low) * 31 + count;
    }
}
