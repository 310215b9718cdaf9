using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Trunk;

/// <summary>Identity of one trunk file: store path, sub-directories and the group-wide trunk file id.</summary>
internal readonly record struct TrunkFileKey(int StorePathIndex, int SubHigh, int SubLow, int TrunkId)
{
    /// <summary>The trunk file name: the id as 6 zero-padded decimal digits (spec 9.7).</summary>
    public string FileName => TrunkId.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Path under <c>&lt;store_path&gt;/data</c>.</summary>
    public string RelativePath => $"{SubHigh:X2}/{SubLow:X2}/{FileName}";
}

/// <summary>
/// A byte range of a trunk file: a slot handed to a file or a free block. The fields are those of the
/// trunk binlog line and of <c>FDFSTrunkInfoBuff</c> (spec 2.4, 13).
/// </summary>
internal readonly record struct TrunkBlock(TrunkFileKey File, int Offset, int Size)
{
    public long End => (long)Offset + Size;

    public TrunkLocation Location => new(File.TrunkId, Offset, Size);

    public static TrunkBlock FromName(FileNameInfo info)
    {
        var location = info.Trunk ?? throw new ArgumentException("not a trunk file name", nameof(info));
        return new TrunkBlock(new TrunkFileKey(info.StorePathIndex, info.SubHigh, info.SubLow, location.TrunkId), location.Offset, location.AllocSize);
    }

    /// <summary>The wire form (FDFSTrunkInfoBuff): path and sub-directories are single bytes there.</summary>
    public TrunkSlotInfo ToSlotInfo() =>
        new((byte)File.StorePathIndex, (byte)File.SubHigh, (byte)File.SubLow, File.TrunkId, Offset, Size);

    public static TrunkBlock FromSlotInfo(TrunkSlotInfo info) =>
        new(new TrunkFileKey(info.StorePathIndex, info.SubPathHigh, info.SubPathLow, info.TrunkFileId), info.Offset, info.AllocSize);

    public override string ToString() =>
        $"{File.StorePathIndex} {File.SubHigh} {File.SubLow} {File.TrunkId} {Offset} {Size}";
}
