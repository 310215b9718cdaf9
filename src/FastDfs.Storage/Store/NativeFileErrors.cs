using FastDfs.Protocol;

namespace FastDfs.Storage.Store;

/// <summary>The exceptions .NET's own file calls throw for an errno, for the file system calls made directly (libc).</summary>
internal static class NativeFileErrors
{
    /// <param name="missingIsDirectory">ENOENT means a missing directory (a create in it), not a missing file</param>
    public static Exception From(int errno, string message, bool missingIsDirectory = false) => errno switch
    {
        Errno.ENOENT => missingIsDirectory ? new DirectoryNotFoundException(message) : new FileNotFoundException(message),
        Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException(message),
        _ => new IOException(message, errno),
    };
}
