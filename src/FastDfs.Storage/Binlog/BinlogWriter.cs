using System.Globalization;
using System.Text;
using FastDfs.Storage.Store;
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
/// Writes <c>data/sync/binlog.NNN</c> in stock's line format. Records are buffered (16 KB as stock) and
/// written + fsynced every <c>sync_binlog_buff_interval</c>, when the buffer nearly fills, and on stop.
/// A new file starts once the current one reaches 1 GiB (checked at each flush).
/// </summary>
internal sealed class BinlogWriter : IDisposable
{
    public const long MaxFileSize = 1L << 30;
    private const int BufferSize = 16 * 1024;
    private const int LineReserve = 256;

    private readonly string _syncDirectory;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly MemoryStream _buffer = new(BufferSize);
    private FileStream _file;
    private int _index;
    private int _compressIndex;

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

    public string CurrentPath => FilePath(_index);

    private string IndexPath => Path.Combine(_syncDirectory, "binlog_index.dat");

    private string FilePath(int index) => Path.Combine(_syncDirectory, "binlog." + index.ToString("D3", CultureInfo.InvariantCulture));

    public void Write(long timestamp, char op, string logicName, string? extra = null)
    {
        string line = extra is null
            ? $"{timestamp} {op} {logicName}\n"
            : $"{timestamp} {op} {logicName} {extra}\n";
        var bytes = Encoding.ASCII.GetBytes(line);
        lock (_gate)
        {
            _buffer.Write(bytes);
            if (_buffer.Length > BufferSize - LineReserve)
            {
                FlushLocked();
            }
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            FlushLocked();
        }
    }

    private void FlushLocked()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        try
        {
            _file.Write(_buffer.GetBuffer(), 0, (int)_buffer.Length);
            _file.Flush(flushToDisk: true);
            _buffer.SetLength(0);
            if (_file.Length >= MaxFileSize)
            {
                _file.Dispose();
                _index++;
                SaveIndex();
                _file = OpenCurrent();
            }
        }
        catch (IOException e)
        {
            // Keep the records buffered; the next flush retries.
            _logger.LogError(e, "binlog write to {Path} failed", CurrentPath);
        }
    }

    private FileStream OpenCurrent() =>
        new(FilePath(_index), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);

    private void SaveIndex() =>
        StateFile.WriteAtomic(IndexPath, [StateFile.Entry("current_write", _index), StateFile.Entry("current_compress", _compressIndex)]);

    public void Dispose()
    {
        lock (_gate)
        {
            FlushLocked();
            _file.Dispose();
        }
    }
}
