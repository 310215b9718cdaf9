using FastDfs.Storage.Store;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The trunk files on this storage's disks: <c>&lt;store_path&gt;/data/&lt;HH&gt;/&lt;LL&gt;/&lt;6-digit id&gt;</c>, created sparse at
/// their full size (as stock's ftruncate), slot headers, and giving freed blocks back to the file system.
/// </summary>
internal sealed class TrunkFileStore(StorePathSet paths)
{
    private long _reclaimedBytes;

    public long ReclaimedBytes => Interlocked.Read(ref _reclaimedBytes);

    public string FullPath(TrunkFileKey file) =>
        Path.Combine(paths.SubdirPath(file.StorePathIndex, file.SubHigh, file.SubLow), file.FileName);

    public bool IsValidPath(TrunkFileKey file) =>
        file.StorePathIndex >= 0 && file.StorePathIndex < paths.Count &&
        file.SubHigh < paths.SubdirCount && file.SubLow < paths.SubdirCount;

    public bool Exists(TrunkFileKey file) => File.Exists(FullPath(file));

    /// <summary>Creates the trunk file at <paramref name="size"/> bytes without writing them (a sparse file).</summary>
    public void Create(TrunkFileKey file, long size)
    {
        using var handle = File.OpenHandle(FullPath(file), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.SetLength(handle, size);
    }

    /// <summary>Deletes an entirely free trunk file (delete_unused_trunk_files); readers with an open handle finish their read.</summary>
    public void Delete(TrunkFileKey file) => File.Delete(FullPath(file));

    /// <summary>Creates the trunk file if a slot arrives for a file this disk does not have yet.</summary>
    public void EnsureExists(TrunkFileKey file, long size)
    {
        try
        {
            Create(file, size);
        }
        catch (IOException) when (File.Exists(FullPath(file)))
        {
            // Already there.
        }
    }

    public long Length(TrunkFileKey file)
    {
        var info = new FileInfo(FullPath(file));
        return info.Exists ? info.Length : 0;
    }

    /// <summary>Opened for asynchronous use: only so that a download can hand it to sendfile (SendPacketsElement requires it).</summary>
    public SafeFileHandle OpenRead(TrunkFileKey file) =>
        File.OpenHandle(FullPath(file), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);

    public SafeFileHandle OpenWrite(TrunkFileKey file) =>
        File.OpenHandle(FullPath(file), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>The header at the start of a block, or null when the file is missing or too short.</summary>
    public TrunkSlotHeader? ReadHeader(TrunkBlock block)
    {
        if (!Exists(block.File))
        {
            return null;
        }

        using var handle = OpenRead(block.File);
        return ReadHeader(handle, block.Offset);
    }

    public static TrunkSlotHeader? ReadHeader(SafeFileHandle handle, long offset)
    {
        Span<byte> buffer = stackalloc byte[TrunkSlotHeader.Size];
        return RandomAccess.Read(handle, buffer, offset) == TrunkSlotHeader.Size ? TrunkSlotHeader.Read(buffer) : null;
    }

    public static void WriteHeader(SafeFileHandle handle, long offset, in TrunkSlotHeader header)
    {
        Span<byte> buffer = stackalloc byte[TrunkSlotHeader.Size];
        header.Write(buffer);
        RandomAccess.Write(handle, buffer, offset);
    }

    /// <summary>Zeroes a slot header: the file stored there stops existing (spec 5.4).</summary>
    public static void ClearHeader(SafeFileHandle handle, long offset)
    {
        Span<byte> zeros = stackalloc byte[TrunkSlotHeader.Size];
        zeros.Clear();
        RandomAccess.Write(handle, zeros, offset);
    }

    /// <summary>
    /// Beyond stock: deallocates the pages touched by a freed <paramref name="slot"/> that lie wholly inside its
    /// free <paramref name="extent"/> (the slot merged with its free neighbours), so deleted files give their
    /// disk blocks back while pages shared with a live neighbour stay. Callers hold the free-space lock, so no
    /// part of the extent can be handed out meanwhile.
    /// </summary>
    public long Reclaim(TrunkBlock slot, TrunkBlock extent)
    {
        if (!SparseFile.PunchSupported || !Exists(extent.File))
        {
            return 0;
        }

        const int page = SparseFile.PageSize;
        long start = Math.Max(extent.Offset, slot.Offset / page * page);
        long end = Math.Min(extent.End, (slot.End + page - 1) / page * page);
        using var handle = OpenWrite(extent.File);
        long punched = SparseFile.PunchHole(handle, start, end);
        Interlocked.Add(ref _reclaimedBytes, punched);
        return punched;
    }

    /// <summary>Bytes of the trunk file really allocated on disk.</summary>
    public long DiskBytes(TrunkFileKey file)
    {
        if (!Exists(file))
        {
            return 0;
        }

        using var handle = OpenRead(file);
        return SparseFile.AllocatedBytes(handle);
    }
}
