using System.Globalization;
using System.Text;
using FastDfs.Storage.Store;
using FastDfs.Storage.Sync;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Binlog;

/// <summary>Binlog record operations (spec 12.2); upper case = originated on this storage.</summary>
internal static class BinlogOp
{
    public const char Create = 'C';
    public const char Delete = 'D';
    public const char Append = 'A';
    public const char Modify = 'M';
    public const char Truncate = 'T';
    public const char Update = 'U';
    public const char Link = 'L';
    public const char Rename = 'R';
}

/// <summary>
/// Writes <c>data/sync/binlog.NNN</c> in stock's line format. Unlike stock (which keeps up to 16 KB in its
/// own buffer), every record is handed to the OS at once, so a killed process loses no record and the
/// sync workers see it immediately; the file is fsynced every <c>sync_binlog_buff_interval</c> and on stop.
/// A new file starts once the current one reaches 1 GiB.
/// </summary>
internal sealed class BinlogWriter : IDisposable
{
    public const long MaxFileSize = 1L << 30;

    private readonly string _syncDirectory;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly MemoryStream _pending = new();
    private FileStream _file;
    private int _index;
    private int _compressIndex;
    private long _length;
    private bool _unsynced;
    private bool _abandoned;

    public BinlogWriter(string dataDirectory, ILogger logger)
    {
        _syncDirectory = Path.Combine(dataDirectory, "sync");
        _logger = logger;
        Directory.CreateDirectory(_syncDirectory);
        var index = StateFile.TryRead(IndexPath);
        _index = (int)(index?.GetLong("current_write") ?? 0);
        _compressIndex = (int)(index?.GetLong("current_compress") ?? 0);
        if (index is null)
        {
            SaveIndex();
        }

        _file = OpenCurrent();
    }

    /// <summary>Raised after every record (outside the lock): sync workers wake up instead of polling.</summary>
    public event Action? Appended;

    public string SyncDirectory => _syncDirectory;

    /// <summary>Index of the binlog file being written (readers move on past older files).</summary>
    public int CurrentIndex
    {
        get
        {
            lock (_gate)
            {
                return _index;
            }
        }
    }

    public string CurrentPath => FilePath(_index);

    /// <summary>The position just past the last record written.</summary>
    public Sync.BinlogPosition End
    {
        get
        {
            lock (_gate)
            {
                return new Sync.BinlogPosition(_index, _length + _pending.Length);
            }
        }
    }

    public string FilePathOf(int index) => FilePath(index);

    private string IndexPath => Path.Combine(_syncDirectory, "binlog_index.dat");

    private string FilePath(int index) => Path.Combine(_syncDirectory, "binlog." + index.ToString("D3", CultureInfo.InvariantCulture));

    /// <summary>Appends one record; returns the binlog position just past it (for sync_ack_replicas).</summary>
    public BinlogPosition Write(long timestamp, char op, string logicName, string? extra = null)
    {
        string line = extra is null
            ? $"{timestamp} {op} {logicName}\n"
            : $"{timestamp} {op} {logicName} {extra}\n";
        var bytes = Encoding.ASCII.GetBytes(line);
        BinlogPosition end;
        lock (_gate)
        {
            if (_abandoned)
            {
                return new BinlogPosition(_index, _length);
            }

            _pending.Write(bytes);
            WritePendingLocked();
            end = new BinlogPosition(_index, _length + _pending.Length);
            if (_pending.Length == 0 && _length >= MaxFileSize)
            {
                RollLocked();
            }
        }

        Appended?.Invoke();
        return end;
    }

    /// <summary>Makes the written records durable (fsync); retries records a failed write kept back.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_abandoned)
            {
                return;
            }

            WritePendingLocked();
            if (!_unsynced)
            {
                return;
            }

            try
            {
                _file.Flush(flushToDisk: true);
                _unsynced = false;
            }
            catch (IOException e)
            {
                _logger.LogError(e, "binlog fsync of {Path} failed", CurrentPath);
            }
        }
    }

    private void WritePendingLocked()
    {
        if (_pending.Length == 0)
        {
            return;
        }

        try
        {
            _file.Write(_pending.GetBuffer(), 0, (int)_pending.Length);
            _length += _pending.Length;
            _pending.SetLength(0);
            _unsynced = true;
        }
        catch (IOException e)
        {
            // Keep the records; the next write or flush retries them.
            _logger.LogError(e, "binlog write to {Path} failed", CurrentPath);
        }
    }

    private void RollLocked()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _index++;
        SaveIndex();
        _file = OpenCurrent();
    }

    private FileStream OpenCurrent()
    {
        var file = new FileStream(FilePath(_index), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        _length = file.Length;
        return file;
    }

    private void SaveIndex() =>
        StateFile.WriteAtomic(IndexPath, [StateFile.Entry("current_write", _index), StateFile.Entry("current_compress", _compressIndex)]);

    /// <summary>Stops writing without a final fsync: a simulated process kill (tests).</summary>
    internal void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            _file.Dispose();
        }
    }

    public void Dispose()
    {
        Flush();
        lock (_gate)
        {
            _abandoned = true;
            _file.Dispose();
        }
    }
}
