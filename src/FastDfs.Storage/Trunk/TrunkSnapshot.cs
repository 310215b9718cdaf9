using System.Globalization;
using System.Text;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// <c>&lt;base_path&gt;/data/storage_trunk.dat</c>, stock's snapshot of the trunk server's free space (spec 13): the first
/// line is the trunk binlog length the snapshot covers, then one trunk binlog line (<c>A</c>) per free block. Start-up
/// loads it and replays only the binlog from that offset on. Written through <c>data/.storage_trunk.dat.tmp</c> and a
/// rename, so a crash leaves the previous snapshot or the new one.
/// </summary>
internal static class TrunkSnapshot
{
    public const string FileName = "storage_trunk.dat";

    public static void Write(string path, long binlogOffset, IEnumerable<TrunkBinlogRecord> blocks)
    {
        var text = new StringBuilder();
        text.Append(binlogOffset.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var block in blocks)
        {
            text.Append(block.ToLine());
        }

        string temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a snapshot; false when there is none or it is not valid (then the whole binlog is replayed).</summary>
    public static bool TryRead(string path, out long binlogOffset, out List<TrunkBinlogRecord> blocks)
    {
        binlogOffset = 0;
        blocks = [];
        if (!File.Exists(path))
        {
            return false;
        }

        string text = File.ReadAllText(path, Encoding.ASCII);
        if (text.Length == 0 || text[^1] != '\n')
        {
            return false;
        }

        var lines = text.AsSpan(0, text.Length - 1);
        bool first = true;
        foreach (var range in lines.Split('\n'))
        {
            var line = lines[range];
            if (first)
            {
                if (!long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out binlogOffset))
                {
                    return false;
                }

                first = false;
                continue;
            }

            if (!TrunkBinlogRecord.TryParse(line, out var record) || record.Op != TrunkBinlogRecord.Add)
            {
                return false;
            }

            blocks.Add(record);
        }

        return !first;
    }

    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
