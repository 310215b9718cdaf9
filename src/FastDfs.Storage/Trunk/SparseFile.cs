using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Sparse-file primitives for trunk files on Linux: punching holes (the blocks of freed slots go back to the
/// file system while the file keeps its size and every other slot its offset) and measuring how many bytes
/// of a file are really allocated. Elsewhere, or on a file system without hole support, punching reports
/// false and the space simply stays allocated until the slot is reused, as in stock.
/// </summary>
internal static partial class SparseFile
{
    public const int PageSize = 4096;

    private const int FallocFlKeepSize = 0x01;
    private const int FallocFlPunchHole = 0x02;
    private const int SeekData = 3;
    private const int SeekHole = 4;

    private static volatile bool s_punchUnsupported;

    /// <summary>Whether hole punching has worked or not yet been tried on this host.</summary>
    public static bool PunchSupported => OperatingSystem.IsLinux() && !s_punchUnsupported;

    /// <summary>
    /// Deallocates the whole pages inside [<paramref name="start"/>, <paramref name="end"/>); the partial pages
    /// at either end are left alone because they may hold a neighbour's bytes. Returns the bytes punched.
    /// </summary>
    public static long PunchHole(SafeFileHandle handle, long start, long end)
    {
        long first = (start + PageSize - 1) / PageSize * PageSize;
        long last = end / PageSize * PageSize;
        if (last <= first || !PunchSupported)
        {
            return 0;
        }

        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            if (Fallocate(fd, FallocFlPunchHole | FallocFlKeepSize, first, last - first) == 0)
            {
                return last - first;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is 95 or 38) // EOPNOTSUPP, ENOSYS: this file system keeps its blocks.
            {
                s_punchUnsupported = true;
            }

            return 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Bytes of the file backed by data extents (SEEK_DATA/SEEK_HOLE), or its length if unknown.</summary>
    public static long AllocatedBytes(SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        if (!OperatingSystem.IsLinux())
        {
            return length;
        }

        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            long total = 0;
            long position = 0;
            while (position < length)
            {
                long data = Lseek(fd, position, SeekData);
                if (data < 0)
                {
                    // ENXIO: no data after position. Anything else: the call is unsupported here.
                    return Marshal.GetLastPInvokeError() == 6 ? total : length;
                }

                long hole = Lseek(fd, data, SeekHole);
                if (hole < 0)
                {
                    return length;
                }

                total += hole - data;
                position = hole;
            }

            return total;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [DllImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static extern int Fallocate(int fd, int mode, long offset, long length);

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long Lseek(int fd, long offset, int whence);
}
