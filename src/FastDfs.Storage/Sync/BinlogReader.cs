using System.Text;
using FastDfs.Storage.Binlog;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Sync;

/// <summary>A binlog line read by a sync worker: the parsed record (null when unparsable) and the position after it.</summary>
internal readonly record struct BinlogEntry(BinlogRecord? Record, BinlogPosition Next);

/// <summary>
/// Reads complete binlog lines from a position, moving on to the next <c>binlog.NNN</c> once a file is
/// exhausted and a newer one exists. Only what the writer has flushed is visible; a half-written last
/// line is left for the next read.
/// </summary>
internal sealed class BinlogReader(BinlogWriter writer, ILogger logger)
{
    private const int ChunkSize = 64 * 1024;

    public List<BinlogEntry> Read(BinlogPosition from, int maxRecords)
    {
        var entries = new List<BinlogEntry>();
        var position = from;
        while (entries.Count < maxRecords)
        {
            int before = entries.Count;
            position = ReadFile(position, maxRecords, entries);
            if (entries.Count > before)
            {
                continue;
            }

            // Nothing more in this file: move to the next one if the writer has started it.
            if (position.Index < writer.CurrentIndex && IsExhausted(position))
            {
                position = new BinlogPosition(position.Index + 1, 0);
                entries.Add(new BinlogEntry(null, position));
                continue;
            }

            break;
        }

        return entries;
    }

    private bool IsExhausted(BinlogPosition position)
    {
        var info = new FileInfo(writer.FilePathOf(position.Index));
        return !info.Exists || info.Length <= position.Offset;
    }

    private BinlogPosition ReadFile(BinlogPosition position, int maxRecords, List<BinlogEntry> entries)
    {
        string path = writer.FilePathOf(position.Index);
        if (!File.Exists(path))
        {
            return position;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        if (file.Length <= position.Offset)
        {
            return position;
        }

        file.Position = position.Offset;
        var buffer = new byte[ChunkSize];
        int filled = 0;
        long offset = position.Offset;
        while (entries.Count < maxRecords)
        {
            int read = file.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            int start = 0;
            while (entries.Count < maxRecords)
            {
                int newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                if (newline < 0)
                {
                    break;
                }

                string line = Encoding.ASCII.GetString(buffer, start, newline - start);
                offset += newline - start + 1;
                BinlogRecord? record = null;
                if (BinlogRecord.TryParse(line, out var parsed))
                {
                    record = parsed;
                }
                else
                {
                    logger.LogWarning("binlog {Path}: skipping invalid line '{Line}'", path, line);
                }

                entries.Add(new BinlogEntry(record, new BinlogPosition(position.Index, offset)));
                start = newline + 1;
            }

            Array.Copy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            if (read == 0 || filled == buffer.Length)
            {
                // End of the flushed data (or an absurd line without newline, which a later read will not fix either).
                if (filled == buffer.Length)
                {
                    offset += filled;
                    logger.LogWarning("binlog {Path}: skipping an over-long line", path);
                    entries.Add(new BinlogEntry(null, new BinlogPosition(position.Index, offset)));
                }

                break;
            }
        }

        return new BinlogPosition(position.Index, offset);
    }
}
