using FastDfs.Protocol.FileIds;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// The size and CRC32 a FastDFS name promises for its content (<see cref="FileNameCodec.TryGetContentPromise"/>):
/// metadata files never promise anything. A copy counts as damaged only when it has the promised size and another CRC32.
/// </summary>
internal static class NameChecksum
{
    public static bool TryGetExpected(string logicName, out long size, out uint crc32)
    {
        size = 0;
        crc32 = 0;
        return !logicName.EndsWith("-m", StringComparison.Ordinal) && FileNameCodec.TryGetContentPromise(logicName, out size, out crc32);
    }
}
