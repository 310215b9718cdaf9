using System.Runtime.InteropServices;
using FastDfs.Protocol;

namespace FastDfs.Storage.Store;

/// <summary>
/// Gives a fully written temporary file its final name unless that name is taken. On Linux one
/// <c>renameat2(RENAME_NOREPLACE)</c> call does it atomically; <see cref="File.Move(string, string, bool)"/>
/// would add three <c>lstat</c> path walks (source twice, target once) before its <c>rename</c>, a fifth of
/// the file-system work of a small upload, and check-then-rename is not atomic either. Elsewhere, or where
/// the file system refuses the flag, it falls back to <see cref="File.Move(string, string, bool)"/>.
/// </summary>
internal static partial class NoReplaceRename
{
    private const int AtFdCwd = -100;
    private const uint RenameNoReplace = 1;

    /// <summary>Not in <see cref="Errno"/>: no FastDFS reply carries it.</summary>
    private const int ENOSYS = 38;

    /// <summary>0 = native call usable, 1 = not available here (use File.Move).</summary>
    private static int s_unsupported = OperatingSystem.IsLinux() ? 0 : 1;

    /// <summary>Renames <paramref name="source"/> to <paramref name="target"/>; false when the target exists (nothing changed).</summary>
    public static bool TryMove(string source, string target)
    {
        if (Volatile.Read(ref s_unsupported) == 0)
        {
            if (Renameat2(AtFdCwd, source, AtFdCwd, target, RenameNoReplace) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case Errno.EEXIST:
                    return false;
                case ENOSYS or Errno.EINVAL:
                    // Old kernel or a file system without RENAME_NOREPLACE: File.Move from now on.
                    Volatile.Write(ref s_unsupported, 1);
                    break;
                default:
                    throw Failure(errno, source, target);
            }
        }

        try
        {
            File.Move(source, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target) || Directory.Exists(target))
        {
            return false;
        }
    }

    private static Exception Failure(int errno, string source, string target) =>
        NativeFileErrors.From(errno, $"rename '{source}' to '{target}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Renameat2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);
}
