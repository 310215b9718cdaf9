using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Http;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The HTTP port's reader of trunk-stored files: a 60-character trunk name is served from its slot (data after the
/// 24-byte slot header) while the slot header on disk still matches the name, as DOWNLOAD_FILE does.
/// </summary>
internal sealed class TrunkHttpReader(StorageContext ctx) : IStoredFileReader
{
    public bool TryLocate(string logicName, in StoredFilePath stored, out StoredFileLocation location)
    {
        location = default;
        using var view = ctx.Trunk.Open(logicName);
        if (view is null)
        {
            return false;
        }

        location = new StoredFileLocation(
            ctx.Trunk.Files.FullPath(view.Slot.File), view.DataOffset, view.FileSize, DateTimeOffset.FromUnixTimeSeconds(view.Header.Mtime));
        return true;
    }
}
