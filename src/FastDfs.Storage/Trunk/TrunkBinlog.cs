using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>One trunk binlog record: <c>&lt;ts&gt; &lt;A|D&gt; &lt;path&gt; &lt;high&gt; &lt;low&gt; &lt;id&gt; &lt;offset&gt; &lt;size&gt;</c> (spec 13).</summary>
internal readonly record struct TrunkBinlogRecord(long Timestamp, char Op, TrunkBlock Block)
{
    /// <summary>Free space added.</summary>
    public const char Add = 'A';

    /// <summary>Free space removed (taken for an allocation, or merged away).</summary>
    public const char Delete = 'D';

    public string ToLine() => string.Create(CultureInfo.InvariantCulture, $"{Timestamp} {Op} {Block}\n");

    public static bool TryParse(ReadOnlySpan<char> line, out TrunkBinlogRecord record)
    {
        record = default;
        Span<Range> parts = stackalloc Range[9];
        if (line.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries) != 8)
        {
            return false;
        }

        var op = line[parts[1]];
        var n = new long[8];
        for (int i = 0; i < 8; i++)
        {
            if (i != 1 && !long.TryParse(line[parts[i]], NumberStyles.Integer, CultureInfo.InvariantCulture, out n[i]))
            {
                return false;
            }
        }

        if (op.Length != 1 || (op[0] != Add && op[0] != Delete) || n[2] is < 0 or > 255 || n[3] is < 0 or > 255 ||
            n[4] is < 0 or > 255 || n[6] is < 0 or > int.MaxValue || n[7] is <= 0 or > int.MaxValue || n[5] is < 0 or > int.MaxValue)
        {
            return false;
        }

        var file = new TrunkFileKey((int)n[2], (int)n[3], (int)n[4], (int)n[5]);
        record = new TrunkBinlogRecord(n[0], op[0], new TrunkBlock(file, (int)n[6], (int)n[7]));
        return true;
    }
}

/// <summary>
/// <c>&lt;base_path&gt;/data/trunk/binlog</c>: appended without a user-space buffer (each operation's lines go to
/// the OS in one write, so a killed process loses nothing), fsynced on <see cref="Flush"/> and on dispose.
/// Its length is what TRUNK_GET_BINLOG_SIZE reports and the offset TRUNK_SYNC_BINLOG pushes from.
/// </summary>
internal sealed class TrunkBinlog : IDisposable
{
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private FileStream? _file;
    private int _generation;

    /// <param name="clock">Names the backups (local time, as stock); <see cref="TimeProvider.System"/> when null.</param>
    public TrunkBinlog(string dataDirectory, ILogger logger, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        Directory = Path.Combine(dataDirectory, "trunk");
        FilePath = Path.Combine(Directory, "binlog");
        SnapshotPath = Path.Combine(dataDirectory, TrunkSnapshot.FileName);
        _logger = logger;
    }

    /// <summary>
    /// At start, before anything is appended: a crash can leave half a line, which appended to would swallow the next
    /// record. Only the writing instance may call this (a read-only instance would cut a line being written).
    /// </summary>
    public void TrimTornTail()
    {
        lock (_gate)
        {
            if (_file is null && File.Exists(FilePath))
            {
                using var file = File.OpenHandle(FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                Binlog.TornLine.Trim(file, FilePath, _logger);
            }
        }
    }

    public string Directory { get; }
    public string FilePath { get; }

    /// <summary><c>data/storage_trunk.dat</c>: the free-space snapshot that covers this binlog up to an offset.</summary>
    public string SnapshotPath { get; }

    /// <summary>Bumped whenever the binlog is replaced or truncated: a core loaded before no longer matches it.</summary>
    public int Generation
    {
        get
        {
            lock (_gate)
            {
                return _generation;
            }
        }
    }

    /// <summary>Current length in bytes (0 when the file does not exist).</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _file?.Length ?? (File.Exists(FilePath) ? new FileInfo(FilePath).Length : 0);
            }
        }
    }

    public void Append(IReadOnlyList<TrunkBinlogRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        var text = new StringBuilder(records.Count * 40);
        foreach (var record in records)
        {
            text.Append(record.ToLine());
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        lock (_gate)
        {
            _file ??= Open();
            _file.Write(bytes);
        }
    }

    /// <summary>TRUNK_SYNC_BINLOG receiver: appends the trunk server's raw lines as they came.</summary>
    public void AppendRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            _file ??= Open();
            _file.Write(bytes);
        }
    }

    /// <summary>
    /// TRUNK_TRUNCATE_BINLOG_FILE receiver: the trunk server is about to push its binlog from the start. The old binlog
    /// is kept as <c>binlog.&lt;datetime&gt;</c> when <paramref name="maxBackups"/> &gt; 0; the snapshot goes (it described the old one).
    /// </summary>
    public void Truncate(int maxBackups = 0)
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
            _generation++;
            System.IO.Directory.CreateDirectory(Directory);
            TrunkSnapshot.Delete(SnapshotPath);
            Backup(maxBackups);
            using (new FileStream(FilePath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }
        }
    }

    /// <summary>
    /// Compaction: the binlog becomes <paramref name="records"/> (the free space now), written to a temporary file,
    /// fsynced and renamed over the binlog; the old one is kept as <c>binlog.&lt;datetime&gt;</c> when
    /// <paramref name="maxBackups"/> &gt; 0. Returns the new length.
    /// </summary>
    public long ReplaceWith(IReadOnlyList<TrunkBinlogRecord> records, int maxBackups)
    {
        var text = new StringBuilder(records.Count * 40);
        foreach (var record in records)
        {
            text.Append(record.ToLine());
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        lock (_gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            string temp = FilePath + ".compress.tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            _file?.Flush(flushToDisk: true);
            _file?.Dispose();
            _file = null;
            _generation++;
            Backup(maxBackups);
            File.Move(temp, FilePath, overwrite: true);
            return bytes.Length;
        }
    }

    /// <summary>The backups <c>binlog.&lt;yyyyMMddHHmmss&gt;</c>, oldest first.</summary>
    public List<string> Backups() =>
        System.IO.Directory.Exists(Directory)
            ? [.. System.IO.Directory.EnumerateFiles(Directory, "binlog.*").Where(IsBackupName).Order(StringComparer.Ordinal)]
            : [];

    private static bool IsBackupName(string path)
    {
        string name = Path.GetFileName(path);
        return name.Length == "binlog.".Length + 14 && name.StartsWith("binlog.", StringComparison.Ordinal) &&
               name["binlog.".Length..].All(char.IsAsciiDigit);
    }

    /// <summary>Copies the binlog to <c>binlog.&lt;datetime&gt;</c> and keeps the newest <paramref name="maxBackups"/> copies.</summary>
    private void Backup(int maxBackups)
    {
        if (maxBackups <= 0 || !File.Exists(FilePath))
        {
            return;
        }

        string backup = FilePath + "." + _clock.GetLocalNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        if (!File.Exists(backup))
        {
            File.Copy(FilePath, backup);
        }

        var backups = Backups();
        foreach (var old in backups.Take(Math.Max(0, backups.Count - maxBackups)))
        {
            File.Delete(old);
        }
    }

    /// <summary>Up to <paramref name="maxBytes"/> raw bytes from <paramref name="offset"/>, cut after the last complete line.</summary>
    public byte[] ReadRaw(long offset, int maxBytes)
    {
        Flush();
        if (!File.Exists(FilePath))
        {
            return [];
        }

        using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset >= stream.Length)
        {
            return [];
        }

        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[(int)Math.Min(maxBytes, stream.Length - offset)];
        stream.ReadExactly(buffer);
        int complete = Array.LastIndexOf(buffer, (byte)'\n') + 1;
        return complete == buffer.Length ? buffer : buffer[..complete];
    }

    public void Flush()
    {
        lock (_gate)
        {
            try
            {
                _file?.Flush(flushToDisk: true);
            }
            catch (IOException e)
            {
                _logger.LogError(e, "fsync of {Path} failed", FilePath);
            }
        }
    }

    /// <summary>Reads the records from <paramref name="offset"/> on; a torn last line (no newline) is ignored.</summary>
    public List<TrunkBinlogRecord> ReadFrom(long offset)
    {
        // No fsync first: the writer's stream is unbuffered, so every record is already in the page cache that this
        // read sees (an fsync here cost a disk flush per reload of a member's figures).
        var records = new List<TrunkBinlogRecord>();
        if (!File.Exists(FilePath))
        {
            return records;
        }

        using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string text = reader.ReadToEnd();
        int complete = text.LastIndexOf('\n') + 1;
        if (complete < text.Length)
        {
            _logger.LogWarning("{Path}: ignoring a torn last line of {Count} bytes", FilePath, text.Length - complete);
        }

        int lineNumber = 0;
        foreach (var range in text.AsSpan(0, complete).Split('\n'))
        {
            var line = text.AsSpan(range);
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (TrunkBinlogRecord.TryParse(line, out var record))
            {
                records.Add(record);
            }
            else
            {
                _logger.LogWarning("{Path}: skipping invalid line {Line} after offset {Offset}: '{Text}'", FilePath, lineNumber, offset, line.ToString());
            }
        }

        return records;
    }

    private FileStream Open()
    {
        System.IO.Directory.CreateDirectory(Directory);
        return new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.None);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_file is not null)
            {
                try
                {
                    _file.Flush(flushToDisk: true);
                }
                catch (IOException e)
                {
                    _logger.LogError(e, "fsync of {Path} failed", FilePath);
                }

                _file.Dispose();
                _file = null;
            }
        }
    }
}
