using System.Globalization;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Store;

namespace FastDfs.Storage.Sync;

/// <summary>
/// A peer's sync progress, <c>data/sync/&lt;peer_ip&gt;_&lt;port&gt;.mark</c> (spec 12.3): the next binlog byte
/// to push, whether this storage is the peer's old-data source and whether that phase is done. Keys are
/// written in stock's order so either implementation can resume the other's marks.
/// </summary>
internal sealed class SyncMark
{
    public int BinlogIndex { get; set; }
    public long BinlogOffset { get; set; }
    public bool NeedSyncOld { get; set; }
    public bool SyncOldDone { get; set; }
    public long UntilTimestamp { get; set; }
    public long ScanRowCount { get; set; }
    public long SyncRowCount { get; set; }

    public BinlogPosition Position
    {
        get => new(BinlogIndex, BinlogOffset);
        set
        {
            BinlogIndex = value.Index;
            BinlogOffset = value.Offset;
        }
    }

    /// <summary>
    /// The mark file name. Stock uses the peer's IP and the group port; we use the peer's own port, which
    /// is the same in a stock group and keeps several storages of one host apart.
    /// </summary>
    public static string FileName(string peerIp, int peerPort) =>
        peerIp + "_" + peerPort.ToString(CultureInfo.InvariantCulture) + ".mark";

    /// <summary>Reads a mark file; null when it is missing.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid mark (empty, torn, or negative position).</exception>
    public static SyncMark? TryLoad(string path)
    {
        const string remedy = "restore it, or delete it to push this storage's binlog to that peer again from the start " +
            "(safe: the peer answers EEXIST for what it already has)";
        var values = StateFile.TryRead(path, remedy);
        if (values is null)
        {
            return null;
        }

        var mark = new SyncMark
        {
            BinlogIndex = (int)(values.GetLongOrNull("binlog_index") ?? -1),
            BinlogOffset = values.GetLongOrNull("binlog_offset") ?? -1,
            NeedSyncOld = values.GetLong("need_sync_old") != 0,
            SyncOldDone = values.GetLong("sync_old_done") != 0,
            UntilTimestamp = values.GetLong("until_timestamp"),
            ScanRowCount = values.GetLong("scan_row_count"),
            SyncRowCount = values.GetLong("sync_row_count"),
        };
        if (mark.BinlogIndex < 0 || mark.BinlogOffset < 0)
        {
            throw new InvalidDataException($"{path} has no valid binlog_index/binlog_offset: {remedy}");
        }

        return mark;
    }

    /// <summary>
    /// Whether this mark was made for the old-data assignment the tracker names now (SYNC_SRC_REQ answer,
    /// null = no source): the same <c>until</c> and the same answer to "are we the source". A peer that was
    /// wiped or re-assigned gets a new <c>until</c>; the same one means our progress towards it still holds.
    /// </summary>
    public bool IsFor(SyncSourceBody? assignment, string myId) => assignment is { } body
        ? UntilTimestamp == body.UntilTimestamp && NeedSyncOld == (body.SrcId == myId)
        : UntilTimestamp == 0 && !NeedSyncOld;

    public void Save(string path) => StateFile.WriteAtomic(path, ToEntries());

    public IEnumerable<KeyValuePair<string, string>> ToEntries() =>
    [
        StateFile.Entry("binlog_index", BinlogIndex),
        StateFile.Entry("binlog_offset", BinlogOffset),
        StateFile.Entry("need_sync_old", NeedSyncOld ? 1 : 0),
        StateFile.Entry("sync_old_done", SyncOldDone ? 1 : 0),
        StateFile.Entry("until_timestamp", UntilTimestamp),
        StateFile.Entry("scan_row_count", ScanRowCount),
        StateFile.Entry("sync_row_count", SyncRowCount),
    ];
}
