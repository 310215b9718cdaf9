using FastDfs.Protocol.Messages;
using FastDfs.Storage.Sync;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// LIST_FILES with <see cref="ListFilesOptions.TrunkStored"/>: the files stored inside trunk files. A slot header holds
/// no name, so they are found as the scrub finds them: the binlog's create records (this storage's and its peers'),
/// each name once, kept when its slot still holds it (a deleted file's slot no longer matches its name). Pages follow the
/// binlog, the cursor is a binlog position; a prefix (<c>M00/3A</c>...) filters the names.
/// </summary>
internal sealed class TrunkFileLister(StorageState state, TrunkStore trunk, ILogger logger)
{
    public (List<ListedFile> Files, string NextCursor) Page(string prefix, string cursor, int max, CancellationToken ct)
    {
        var files = new List<ListedFile>();
        // A storage that never stored a trunk file has nothing to find: no walk through its binlog.
        if (!state.Parameters.Trunk.UseTrunkFile && !Directory.Exists(Path.Combine(state.DataDirectory, "trunk")))
        {
            return (files, "");
        }

        var position = ParseCursor(cursor);
        var end = state.Binlog.End;
        var reader = new BinlogReader(state.Binlog, logger);
        while (position < end && files.Count < max)
        {
            ct.ThrowIfCancellationRequested();
            var entries = reader.Read(position, 1024);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                position = entry.Next;
                if (entry.Record is { UpperOp: 'C' } record && record.FileName.StartsWith(prefix, StringComparison.Ordinal) &&
                    trunk.IsTrunkName(record.FileName, out _))
                {
                    using var view = trunk.Open(record.FileName);
                    if (view is not null)
                    {
                        files.Add(new ListedFile(record.FileName, view.FileSize, record.Timestamp, ListedFileKind.Trunk, false, 0));
                    }
                }

                if (files.Count >= max)
                {
                    break;
                }
            }
        }

        return (files, position < end ? $"{position.Index}:{position.Offset}" : "");
    }

    private static BinlogPosition ParseCursor(string cursor)
    {
        if (cursor.Length == 0)
        {
            return default;
        }

        int colon = cursor.IndexOf(':');
        return colon > 0 && int.TryParse(cursor.AsSpan(0, colon), out int index) && long.TryParse(cursor.AsSpan(colon + 1), out long offset)
               && index >= 0 && offset >= 0
            ? new BinlogPosition(index, offset)
            : throw new Protocol.ProtocolException($"LIST_FILES trunk cursor '{cursor}' is not a binlog position");
    }
}
