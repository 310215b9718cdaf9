using FastDfs.Protocol.FileIds;

namespace FastDfs.Storage.Integrity;

/// <summary>
/// The size and CRC32 a FastDFS name promises for its content (spec 9.2-9.3). Only some names promise it: a normal
/// file and a trunk-stored file do; an appender file (changed after its name was made), a slave file (its name carries
/// the master's) and a metadata file do not.
/// </summary>
internal static class NameChecksum
{
    public static bool TryGetExpected(string logicName, out long size, out uint crc32)
    {
        size = 0;
        crc32 = 0;
        if (logicName.EndsWith("-m", StringComparison.Ordinal) ||
            !FileNameCodec.TryDecode(logicName, out var info) || info.IsAppender || info.IsSlave)
        {
            return false;
        }

        size = info.FileSize;
        crc32 = info.Crc32;
        return true;
    }
}
