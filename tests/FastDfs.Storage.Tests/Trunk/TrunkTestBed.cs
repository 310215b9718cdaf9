using FastDfs.Storage.Store;
using FastDfs.Storage.Trunk;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FastDfs.Storage.Tests.Trunk;

/// <summary>A trunk space manager over a temporary store path, without a server.</summary>
internal sealed class TrunkTestBed : IDisposable
{
    private int _nextId;

    public TrunkTestBed(TrunkSettings settings, string? basePath = null, int startId = 0, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1795479568));
        BasePath = basePath ?? Directory.CreateTempSubdirectory("fdfs-trunk-").FullName;
        Settings = settings;
        _nextId = startId;
        var paths = new StorePathSet(TestStorage.MakeConfig(BasePath, subdirs: 2));
        paths.EnsureDirectories();
        Files = new TrunkFileStore(paths);
        Binlog = new TrunkBinlog(Path.Combine(BasePath, "data"), NullLogger.Instance, Time);
        Manager = new TrunkSpaceManager(() => Settings, Binlog, new CountingIds(this), Files, _ => (0, 0), () => Clock, NullLogger.Instance);
        Manager.Load();
    }

    public string BasePath { get; }
    public TrunkSettings Settings { get; set; }
    public TrunkFileStore Files { get; }
    public TrunkBinlog Binlog { get; }
    public TrunkSpaceManager Manager { get; }
    public long Clock { get; set; } = 1795479568;

    /// <summary>The trunk binlog's clock (it names the backups by the second): moved by the tests, never slept for.</summary>
    public FakeTimeProvider Time { get; }
    public int LastId => _nextId;

    public static TrunkSettings StockSample(int trunkFileSize = 64 << 20, bool merge = false) => new()
    {
        UseTrunkFile = true,
        SlotMinSize = 256,
        SlotMaxSize = 1 << 20,
        AllocAlignmentSize = 256,
        TrunkFileSize = trunkFileSize,
        FreeSpaceMerge = merge,
    };

    /// <summary>Binlog lines without their timestamps.</summary>
    public string[] BinlogLinesWithoutTime()
    {
        string path = Path.Combine(BasePath, "data", "trunk", "binlog");
        return File.Exists(path) ? File.ReadAllLines(path).Select(l => l[(l.IndexOf(' ') + 1)..]).ToArray() : [];
    }

    /// <summary>Allocates and confirms a slot for a file of <paramref name="fileSize"/> bytes.</summary>
    public TrunkBlock Store(long fileSize)
    {
        var slot = Manager.AllocateAsync(0, (int)fileSize + TrunkSlotHeader.Size, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        Manager.ConfirmAsync(slot, true, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return slot;
    }

    public void Free(TrunkBlock slot) => Manager.FreeAsync(slot, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>A second manager over the same directory, as after a restart.</summary>
    public TrunkTestBed Reopen()
    {
        Manager.Dispose();
        return new TrunkTestBed(Settings, BasePath, _nextId, Time);
    }

    public void Dispose()
    {
        Manager.Dispose();
        try
        {
            Directory.Delete(BasePath, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private sealed class CountingIds(TrunkTestBed bed) : ITrunkFileIdSequence
    {
        public ValueTask<int> NextAsync(CancellationToken cancellationToken) => ValueTask.FromResult(++bed._nextId);
    }
}
