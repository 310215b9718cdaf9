using System.Runtime.InteropServices;

namespace FastDfs.Storage.Store;

/// <summary>
/// Makes a rename survive a power cut: a state file is written to a temporary name, its data fsynced, renamed
/// over the old one, and then the directory is fsynced so that the rename itself is on disk. Without the
/// first fsync some file systems (XFS, ext4 without auto_da_alloc) may show the new name with no data after a
/// crash; without the second the rename may be lost.
/// </summary>
internal static partial class DurableFiles
{
    private const int ORdonly = 0;
    private const int ODirectory = 0x10000;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> so that a crash leaves the old or the new file whole.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> content)
    {
        string temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, content, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temp, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>fsync of a directory (its entries: creates, renames, deletes); a no-op where it cannot be done.</summary>
    public static void SyncDirectory(string directory) => OnDirectory(directory, Fsync);

    /// <summary>
    /// syncfs of the file system that holds <paramref name="directory"/>: every dirty byte and entry of it reaches the disk.
    /// One call for many files written without fsync (a disk recovery's batch), before a mark vouches for them; a no-op
    /// where it cannot be done.
    /// </summary>
    public static void SyncFileSystemOf(string directory) => OnDirectory(directory, SyncFs);

    /// <summary>Runs <paramref name="call"/> on a descriptor of <paramref name="directory"/> (Linux only; errors ignored).</summary>
    private static void OnDirectory(string directory, Func<int, int> call)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, ORdonly | ODirectory);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = call(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
