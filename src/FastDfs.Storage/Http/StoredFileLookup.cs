using FastDfs.Protocol.FileIds;
using FastDfs.Storage.Store;

namespace FastDfs.Storage.Http;

/// <summary>Where the bytes of a stored file are: <see cref="Length"/> bytes at <see cref="Offset"/> of
/// <see cref="PhysicalPath"/> (a plain file: offset 0; a trunk-stored file: its slot in the trunk file).</summary>
internal readonly record struct StoredFileLocation(string PhysicalPath, long Offset, long Length, DateTimeOffset LastModified);

/// <summary>One way files are stored. Readers are asked in turn; a reader answers false for names it does
/// not handle (a trunk reader for non-trunk names) or files it does not have.</summary>
internal interface IStoredFileReader
{
    bool TryLocate(string logicName, in StoredFilePath stored, out StoredFileLocation location);
}

/// <summary>A file stored as itself: <c>&lt;store_path&gt;/data/HH/LL/name</c> (following a slave's symbolic
/// link, which never leads outside the store path).</summary>
internal sealed class PlainFileReader(StorePathSet paths) : IStoredFileReader
{
    public bool TryLocate(string logicName, in StoredFilePath stored, out StoredFileLocation location)
    {
        location = default;
        var root = paths[stored.StorePathIndex].DataDirectory + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(paths.FullPath(stored));
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            return false;
        }

        var info = new FileInfo(full);
        if (info.LinkTarget is not null)
        {
            if (info.ResolveLinkTarget(returnFinalTarget: true) is not FileInfo target ||
                !Path.GetFullPath(target.FullName).StartsWith(root, StringComparison.Ordinal))
            {
                return false;
            }

            info = target;
        }

        if (!info.Exists)
        {
            return false;
        }

        location = new StoredFileLocation(info.FullName, 0, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        return true;
    }
}

/// <summary>
/// Maps a logic name to its bytes. The plain reader is always there; other storage layouts (trunk files)
/// register with <see cref="AddReader"/> and are asked first.
/// </summary>
internal sealed class StoredFileLookup
{
    private volatile IStoredFileReader[] _readers;

    public StoredFileLookup(StorePathSet paths)
    {
        _readers = [new PlainFileReader(paths)];
    }

    public void AddReader(IStoredFileReader reader) => _readers = [reader, .. _readers];

    /// <summary>Where the bytes of <paramref name="logicName"/> (parsed into <paramref name="stored"/>) are, if this storage has them.</summary>
    public bool TryLocate(string logicName, in StoredFilePath stored, out StoredFileLocation location)
    {
        location = default;
        foreach (var reader in _readers)
        {
            if (reader.TryLocate(logicName, stored, out location))
            {
                return true;
            }
        }

        return false;
    }
}
