using System.Globalization;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The trunk keys a storage receives from its tracker with PARAMETER_REQ (spec 4.15, 17.2), with the stock
/// storage-side defaults for a key the tracker did not send and the same adjustments the stock storage
/// applies (slot_min_size raised to the alignment).
/// </summary>
internal sealed record TrunkSettings
{
    public const int SlotHeaderSize = TrunkSlotHeader.Size;

    public static readonly TrunkSettings Default = new();

    public bool UseTrunkFile { get; init; }
    public int SlotMinSize { get; init; } = 256;
    public int SlotMaxSize { get; init; } = 16 << 20;
    public int AllocAlignmentSize { get; init; }
    public int TrunkFileSize { get; init; } = 64 << 20;
    public bool FreeSpaceMerge { get; init; }
    public bool DeleteUnusedTrunkFiles { get; init; }
    public bool CreateFileAdvance { get; init; }
    public string CreateFileTimeBase { get; init; } = "02:00";
    public int CreateFileInterval { get; init; } = 86400;
    public long CreateFileSpaceThreshold { get; init; }
    public bool InitCheckOccupying { get; init; }
    public bool InitReloadFromBinlog { get; init; }
    public int CompressBinlogMinInterval { get; init; }
    public int CompressBinlogInterval { get; init; }
    public string CompressBinlogTimeBase { get; init; } = "03:00";
    public int BinlogMaxBackups { get; init; }

    /// <summary>Reads the trunk keys out of the parsed PARAMETER_REQ reply.</summary>
    public static TrunkSettings FromParameters(IReadOnlyDictionary<string, string> values)
    {
        bool Flag(string key, bool fallback) =>
            values.TryGetValue(key, out var v) ? v is "1" or "true" or "yes" or "on" : fallback;

        long Long(string key, long fallback) =>
            values.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : fallback;

        int Int(string key, int fallback) => (int)Math.Clamp(Long(key, fallback), int.MinValue, int.MaxValue);

        string Text(string key, string fallback) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : fallback;

        int trunkFileSize = Int("trunk_file_size", Default.TrunkFileSize);
        if (trunkFileSize <= 0)
        {
            trunkFileSize = Default.TrunkFileSize;
        }

        int alignment = Math.Max(0, Int("trunk_alloc_alignment_size", 0));
        int slotMin = Math.Max(1, Int("slot_min_size", Default.SlotMinSize));
        if (slotMin < alignment)
        {
            slotMin = alignment;
        }

        return new TrunkSettings
        {
            UseTrunkFile = Flag("use_trunk_file", false),
            SlotMinSize = slotMin,
            SlotMaxSize = Int("slot_max_size", trunkFileSize / 4),
            AllocAlignmentSize = alignment,
            TrunkFileSize = trunkFileSize,
            FreeSpaceMerge = Flag("trunk_free_space_merge", false),
            DeleteUnusedTrunkFiles = Flag("delete_unused_trunk_files", false),
            CreateFileAdvance = Flag("trunk_create_file_advance", false),
            CreateFileTimeBase = Text("trunk_create_file_time_base", Default.CreateFileTimeBase),
            CreateFileInterval = Int("trunk_create_file_interval", Default.CreateFileInterval),
            CreateFileSpaceThreshold = Long("trunk_create_file_space_threshold", 0),
            InitCheckOccupying = Flag("trunk_init_check_occupying", false),
            InitReloadFromBinlog = Flag("trunk_init_reload_from_binlog", false),
            CompressBinlogMinInterval = Int("trunk_compress_binlog_min_interval", 0),
            CompressBinlogInterval = Int("trunk_compress_binlog_interval", 0),
            CompressBinlogTimeBase = Text("trunk_compress_binlog_time_base", Default.CompressBinlogTimeBase),
            BinlogMaxBackups = Int("trunk_binlog_max_backups", 0),
        };
    }

    /// <summary>True when an upload of <paramref name="fileSize"/> bytes goes into a trunk slot (spec 5.1, 13).</summary>
    public bool FitsSlot(long fileSize) => fileSize >= 0 && fileSize + SlotHeaderSize <= SlotMaxSize;

    /// <summary>Slot size for a file: max(slot_min_size, size + 24) rounded up to the alignment (spec 13).</summary>
    public int AllocSizeFor(long fileSize)
    {
        long size = Math.Max(SlotMinSize, fileSize + SlotHeaderSize);
        if (AllocAlignmentSize > 0)
        {
            size = (size + AllocAlignmentSize - 1) / AllocAlignmentSize * AllocAlignmentSize;
        }

        return (int)size;
    }
}
