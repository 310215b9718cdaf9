using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Binlog;

/// <summary>The torn last line a crash can leave in an append-only text log (the binlog, the trunk binlog).</summary>
internal static class TornLine
{
    /// <summary>
    /// Cuts a last line without its newline (a crash in the middle of a write, or a full disk): appended to, it
    /// would merge with the next record into one invalid line that no peer ever receives. Returns the new length.
    /// </summary>
    public static long Trim(SafeFileHandle file, string path, ILogger logger)
    {
        long length = RandomAccess.GetLength(file);
        if (length == 0)
        {
            return 0;
        }

        var buffer = new byte[4096];
        long end = length;
        while (end > 0)
        {
            int chunk = (int)Math.Min(buffer.Length, end);
            int read = RandomAccess.Read(file, buffer.AsSpan(0, chunk), end - chunk);
            int newline = buffer.AsSpan(0, read).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                long keep = end - chunk + newline + 1;
                if (keep < length)
                {
                    Cut(keep);
                }

                return keep;
            }

            end -= chunk;
        }

        Cut(0);
        return 0;

        void Cut(long keep)
        {
            logger.LogWarning("{Path}: cutting a torn last line of {Bytes} bytes (a crash during a write); it was never complete",
                path, length - keep);
            RandomAccess.SetLength(file, keep);
            RandomAccess.FlushToDisk(file);
        }
    }
}
