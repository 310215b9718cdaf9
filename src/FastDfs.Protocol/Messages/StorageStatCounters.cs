namespace FastDfs.Protocol.Messages;

/// <summary>
/// FDFSStorageStatBuff (348 bytes, spec 2.2): connection counts and the 42 i64 counters a storage
/// reports in its heartbeat and the tracker returns in LIST_STORAGE.
/// </summary>
public sealed class StorageStatCounters
{
    public const int Size = ProtocolConstants.StorageStatBuffSize;
    public const int CounterCount = 42;

    /// <summary>Index of each i64 counter in wire order.</summary>
    public enum Counter
    {
        TotalUploadCount, SuccessUploadCount, TotalAppendCount, SuccessAppendCount,
        TotalModifyCount, SuccessModifyCount, TotalTruncateCount, SuccessTruncateCount,
        TotalSetMetaCount, SuccessSetMetaCount, TotalDeleteCount, SuccessDeleteCount,
        TotalDownloadCount, SuccessDownloadCount, TotalGetMetaCount, SuccessGetMetaCount,
        TotalCreateLinkCount, SuccessCreateLinkCount, TotalDeleteLinkCount, SuccessDeleteLinkCount,
        TotalUploadBytes, SuccessUploadBytes, TotalAppendBytes, SuccessAppendBytes,
        TotalModifyBytes, SuccessModifyBytes, TotalDownloadBytes, SuccessDownloadBytes,
        TotalSyncInBytes, SuccessSyncInBytes, TotalSyncOutBytes, SuccessSyncOutBytes,
        TotalFileOpenCount, SuccessFileOpenCount, TotalFileReadCount, SuccessFileReadCount,
        TotalFileWriteCount, SuccessFileWriteCount,
        LastSourceUpdate, LastSyncUpdate, LastSyncedTimestamp, LastHeartBeatTime,
    }

    private readonly long[] _values = new long[CounterCount];

    public int ConnectionAllocCount { get; set; }
    public int ConnectionCurrentCount { get; set; }
    public int ConnectionMaxCount { get; set; }

    public long this[Counter counter]
    {
        get => Interlocked.Read(ref _values[(int)counter]);
        set => Interlocked.Exchange(ref _values[(int)counter], value);
    }

    public void Increment(Counter counter, long by = 1) => Interlocked.Add(ref _values[(int)counter], by);

    public void CopyFrom(StorageStatCounters other)
    {
        for (int i = 0; i < CounterCount; i++)
        {
            _values[i] = other[(Counter)i];
        }

        ConnectionAllocCount = other.ConnectionAllocCount;
        ConnectionCurrentCount = other.ConnectionCurrentCount;
        ConnectionMaxCount = other.ConnectionMaxCount;
    }

    public void Write(Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.WriteInt32(ConnectionAllocCount);
        w.WriteInt32(ConnectionCurrentCount);
        w.WriteInt32(ConnectionMaxCount);
        for (int i = 0; i < CounterCount; i++)
        {
            w.WriteInt64(this[(Counter)i]);
        }
    }

    public static StorageStatCounters Parse(ReadOnlySpan<byte> buffer)
    {
        var r = new SpanReader(buffer);
        var stats = new StorageStatCounters
        {
            ConnectionAllocCount = r.ReadInt32(),
            ConnectionCurrentCount = r.ReadInt32(),
            ConnectionMaxCount = r.ReadInt32(),
        };
        for (int i = 0; i < CounterCount; i++)
        {
            stats[(Counter)i] = r.ReadInt64();
        }

        return stats;
    }
}
