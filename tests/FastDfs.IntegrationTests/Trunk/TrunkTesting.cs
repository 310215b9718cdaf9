using FastDfs.Client;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Hosting;
using FastDfs.Storage.Trunk;

namespace FastDfs.IntegrationTests.Trunk;

/// <summary>What the trunk cluster tests share: the tracker's trunk settings and how to read a storage's role and a file ID.</summary>
internal static class TrunkTesting
{
    public const int SlotMaxSize = 64 * 1024;

    /// <summary>Trunk mode with small slots and trunk files, so a test fills several trunk files quickly.</summary>
    public static TrackerConfig WithTrunk(TrackerConfig tracker, int trunkFileSize) => tracker with
    {
        UseTrunkFile = true,
        SlotMinSize = 256,
        SlotMaxSize = SlotMaxSize,
        TrunkAllocAlignmentSize = 256,
        TrunkFileSize = trunkFileSize,
        TrunkFreeSpaceMerge = true,
        CheckActiveInterval = 5,
    };

    public static TrunkServerRole Role(StorageServer storage) => storage.Context.Trunk.Locator.Resolve();

    public static bool IsTrunk(FileId id) => FileNameCodec.Decode(id.LogicName).IsTrunk;
}
