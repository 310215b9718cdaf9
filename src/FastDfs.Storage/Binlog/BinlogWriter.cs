using System.Globalization;
using System.Text;
using FastDfs.Storage.Store;
using FastDfs.Storage.Sync;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

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
/// <para>
/// Records are written at an explicit offset, the end of the last complete write: a write that fails half-way
/// (ENOSPC) is cut off again and retried whole, so a line is never torn by a retry. A torn last line left by a
/// crash is cut off at start. The fsync runs outside the lock that writers take (group commit): writers go on
/// appending while the disk flushes.
/// </para>
/// </summary>
internal sealed class BinlogWriter : IDisposable
{
    public const long MaxFileSize = 1L << 30;
    public const string IndexFileName = "binlog_index.dat";

    private readonly string _syncDirectory;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    /// <summary>One fsync at a time; never taken inside <see cref="_gate"/>.</summary>
    private readonly Lock _flushGate = new();
    private readonly MemoryStream _pending = new();
    private SafeFileHandle _file;
    private int _index;
    private int _compressIndex;
    private long _length;
    private bool _unsynced;
    private bool _abandoned;
    private bool _writeFailing;

    public BinlogWriter(string dataDirectory, ILogger logger)
    {
        _syncDirectory = Path.Combine(dataDirectory, "sync");
        _logger = logger;
        Directory.CreateDirectory(_syncDirectory);
        (_index, _compressIndex) = LoadIndex();
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
    public BinlogPosition End
    {
        get
        {
            lock (_gate)
            {
                return new BinlogPosition(_index, _length + _pending.Length);
            }
        }
    }

    public string FilePathOf(int index) => FilePath(index);

    private string IndexPath => Path.Combine(_syncDirectory, IndexFileName);

    private string FilePath(int index) => Path.Combine(_syncDirectory, "binlog." + index.ToString("D3", CultureInfo.InvariantCulture));

    /// <summary>Appends one record; returns the binlog position just past it.</summary>
    public BinlogPosition Write(long timestamp, char op, string logicName, string? extra = null) =>
        WriteRecord(timestamp, op, logicName, extra).End;

    /// <summary>Appends one record; returns where it starts and the position just past it (for sync_ack_replicas).</summary>
    public (BinlogPosition Start, BinlogPosition End) WriteRecord(long timestamp, char op, string logicName, string? extra = null)
    {
        string line = extra is null
            ? $"{timestamp} {op} {logicName}\n"
            : $"{timestamp} {op} {logicName} {extra}\n";
        var bytes = Encoding.ASCII.GetBytes(line);
        BinlogPosition start, end;
        lock (_gate)
        {
            if (_abandoned)
            {
                return (new BinlogPosition(_index, _length), new BinlogPosition(_index, _length));
            }

            start = new BinlogPosition(_index, _length + _pending.Length);
            _pending.Write(bytes);
            WritePendingLocked();
            end = new BinlogPosition(_index, _length + _pending.Length);
            if (_pending.Length == 0 && _length >= MaxFileSize)
            {
                RollLocked();
            }
        }

        Appended?.Invoke();
        return (start, end);
    }

    /// <summary>
    /// Makes the written records durable (fsync) and retries records a failed write kept back. The fsync holds
    /// only <see cref="_flushGate"/>: records written meanwhile are simply in the next flush.
    /// </summary>
    public void Flush()
    {
        lock (_flushGate)
        {
            SafeFileHandle file;
            bool added = false;
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

                _unsynced = false;
                file = _file;
                // A roll may dispose this handle while we flush it: the reference keeps the descriptor open until we are done.
                file.DangerousAddRef(ref added);
            }

            try
            {
                RandomAccess.FlushToDisk(file);
            }
            catch (IOException e)
            {
                lock (_gate)
                {
                    _unsynced = true;
                }

                _logger.LogError(e, "binlog fsync of {Path} failed", CurrentPath);
            }
            finally
            {
                if (added)
                {
                    file.DangerousRelease();
                }
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
            RandomAccess.Write(_file, _pending.GetBuffer().AsSpan(0, (int)_pending.Length), _length);
            _length += _pending.Length;
            _pending.SetLength(0);
            _unsynced = true;
            if (_writeFailing)
            {
                _writeFailing = false;
                _logger.LogInformation("binlog {Path}: writing again", CurrentPath);
            }
        }
        catch (IOException e)
        {
            // Keep the records for the next write or flush, and cut off what part of them reached the file, so the
            // retry (written at the same offset) never leaves a partial line in front of the whole one.
            if (!_writeFailing)
            {
                _logger.LogError(e, "binlog write to {Path} failed; the records are kept and written again", CurrentPath);
                _writeFailing = true;
            }

            try
            {
                RandomAccess.SetLength(_file, _length);
            }
            catch (IOException)
            {
                // The retry overwrites the same offset anyway.
            }
        }
    }

    /// <summary>
    /// Starts the next binlog file: the new file is opened and the index saved before the old file is let go, so a
    /// failure (a full disk) leaves the writer on the old file, which may grow past 1 GiB until a roll succeeds.
    /// </summary>
    private void RollLocked()
    {
        SafeFileHandle? next = null;
        long nextLength;
        long oldLength = _length;
        try
        {
            RandomAccess.FlushToDisk(_file);
            _index++;
            next = OpenCurrent();
            nextLength = _length;
            SaveIndex();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            next?.Dispose();
            _index--;
            _length = oldLength;
            _logger.LogError(e, "starting binlog file {Index} failed; going on with {Path}", _index + 1, CurrentPath);
            return;
        }

        _file.Dispose();
        _file = next;
        _length = nextLength;
    }

    private SafeFileHandle OpenCurrent()
    {
        string path = FilePath(_index);
        var file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            _length = TornLine.Trim(file, path, _logger);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return file;
    }

    /// <summary>
    /// Reads <c>binlog_index.dat</c>. Missing with no binlog yet: a new storage. Missing while binlog files exist, or
    /// damaged: an error that says what to write, never a silent restart at <c>binlog.000</c> (which would mix new
    /// records into the oldest file and make every sync mark point at the wrong place).
    /// </summary>
    private (int Index, int CompressIndex) LoadIndex()
    {
        int highest = Directory.EnumerateFiles(_syncDirectory, "binlog.*")
            .Select(p => Path.GetFileName(p)["binlog.".Length..])
            .Select(suffix => suffix.Length is >= 3 and <= 6 && int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1)
            .DefaultIfEmpty(-1)
            .Max();
        string remedy = highest >= 0
            ? $"write it with the lines 'current_write={highest}' and 'current_compress=0' (binlog.{highest:D3} is the newest binlog here)"
            : "write it with the lines 'current_write=0' and 'current_compress=0'";
        var values = StateFile.TryRead(IndexPath, remedy);
        if (values is null)
        {
            if (highest >= 0)
            {
                throw new InvalidDataException($"{IndexPath} is missing although binlog files exist: {remedy}");
            }

            _index = 0;
            _compressIndex = 0;
            SaveIndex();
            return (0, 0);
        }

        long? write = values.GetLongOrNull("current_write");
        if (write is not (>= 0 and <= 999_999))
        {
            throw new InvalidDataException($"{IndexPath} has no valid current_write: {remedy}");
        }

        return ((int)write, (int)values.GetLong("current_compress"));
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
