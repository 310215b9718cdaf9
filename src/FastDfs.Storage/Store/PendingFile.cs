using System.Runtime.InteropServices;
using FastDfs.Protocol;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Store;

/// <summary>
/// A file being received, which gets its final name only once it is complete (a crash never leaves a partial file under
/// a stored name). On Linux it is created without a name (<c>O_TMPFILE</c>) and linked under its final name with
/// <c>linkat</c>, which fails when the name is taken: one directory change per upload where a named temporary file costs
/// two (create, then rename), and nothing is left behind by a crash (the kernel frees an unlinked inode). Elsewhere, or
/// where the file system cannot, it is a hidden temporary file in the same directory, renamed with
/// <see cref="NoReplaceRename"/>.
/// </summary>
internal sealed partial class PendingFile : IDisposable
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkFollow = 0x400;
    private const int OWronly = 1;
    private const int OCloexec = 0x80000;

    /// <summary>0666, less the umask: what File.OpenHandle gives a new file.</summary>
    private const uint NewFileMode = 438;

    /// <summary>Not in <see cref="Errno"/>: no FastDFS reply carries them.</summary>
    private const int EOPNOTSUPP = 95, EISDIR = 21;

    /// <summary>O_TMPFILE includes O_DIRECTORY, whose value differs between architectures; 0 = not used here.</summary>
    private static readonly int s_tmpFile = !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x410000, // __O_TMPFILE 020000000 | O_DIRECTORY 0200000
        Architecture.Arm64 or Architecture.Arm => 0x404000, // __O_TMPFILE 020000000 | O_DIRECTORY 040000
        _ => 0,
    };

    /// <summary>0 = unnamed files are used, 1 = not supported by the store's file system (named temporary files from then on).</summary>
    private static int s_unnamedUnsupported = s_tmpFile == 0 ? 1 : 0;

    /// <summary>0 = linkat(AT_EMPTY_PATH) works (it needs CAP_DAC_READ_SEARCH), 1 = link through /proc/self/fd.</summary>
    private static int s_linkThroughProc;

    /// <summary>The hidden temporary path; null for an unnamed file.</summary>
    private readonly string? _tempPath;
    private bool _published;

    private PendingFile(SafeFileHandle handle, string? tempPath)
    {
        Handle = handle;
        _tempPath = tempPath;
    }

    /// <summary>The open file (write access).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>
    /// Creates a file in <paramref name="directory"/> (which must exist) that has no stored name yet.
    /// <paramref name="sequence"/> (unique within the process) names a temporary file when one is needed.
    /// </summary>
    /// <exception cref="IOException">the disk refused (its errno in <see cref="Exception.HResult"/>)</exception>
    public static PendingFile Create(string directory, long sequence)
    {
        if (Volatile.Read(ref s_unnamedUnsupported) == 0)
        {
            int fd = Open(directory, s_tmpFile | OWronly | OCloexec, NewFileMode);
            if (fd >= 0)
            {
                return new PendingFile(new SafeFileHandle(fd, ownsHandle: true), tempPath: null);
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is EOPNOTSUPP or EISDIR or Errno.EINVAL)
            {
                // A file system (or kernel) without O_TMPFILE: named temporary files from now on.
                Volatile.Write(ref s_unnamedUnsupported, 1);
            }
            else
            {
                throw Failure(errno, $"creating a file in '{directory}'", directory);
            }
        }

        // Unique within the process by the sequence and across restarts by the random part (a crash's leftover, swept at
        // the next start, is not reused meanwhile).
        string tempPath = $"{directory}{Path.DirectorySeparatorChar}.{sequence:x}-{(ulong)Random.Shared.NextInt64():x16}.tmp";
        return new PendingFile(File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None), tempPath);
    }

    /// <summary>
    /// Gives the complete file the name <paramref name="finalPath"/>; false when that name exists (nothing changed, the
    /// file stays pending and may be published under another name).
    /// </summary>
    /// <exception cref="IOException">the disk refused</exception>
    public bool TryPublish(string finalPath)
    {
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        if (_tempPath is not null)
        {
            _published = NoReplaceRename.TryMove(_tempPath, finalPath);
            return _published;
        }

        int result;
        if (Volatile.Read(ref s_linkThroughProc) == 0)
        {
            result = Linkat((int)Handle.DangerousGetHandle(), "", AtFdCwd, finalPath, AtEmptyPath);
            if (result != 0 && Marshal.GetLastPInvokeError() is Errno.ENOENT or Errno.EPERM or Errno.EACCES)
            {
                // Without CAP_DAC_READ_SEARCH the kernel refuses AT_EMPTY_PATH (as ENOENT): the /proc link works for anyone.
                Volatile.Write(ref s_linkThroughProc, 1);
            }
            else
            {
                return Published(result, finalPath);
            }
        }

        result = Linkat(AtFdCwd, $"/proc/self/fd/{Handle.DangerousGetHandle()}", AtFdCwd, finalPath, AtSymlinkFollow);
        return Published(result, finalPath);
    }

    private bool Published(int result, string finalPath)
    {
        if (result == 0)
        {
            _published = true;
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == Errno.EEXIST ? false : throw Failure(errno, $"naming '{finalPath}'", finalPath);
    }

    /// <summary>
    /// Closes the file; one that was not published is gone (an unnamed file with its handle, a temporary one removed; if the
    /// disk refuses that too, the start-up sweep of hidden temporary files removes it).
    /// </summary>
    public void Dispose()
    {
        Handle.Dispose();
        if (_tempPath is not null && !_published)
        {
            try
            {
                File.Delete(_tempPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for LeftoverSweeper.
            }
        }
    }

    private static Exception Failure(int errno, string what, string path) =>
        NativeFileErrors.From(errno, $"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}): {path}", missingIsDirectory: true);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Linkat(int oldDirFd, string oldPath, int newDirFd, string newPath, int flags);
}
