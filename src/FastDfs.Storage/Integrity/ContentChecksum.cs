using System.Buffers;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Integrity;

/// <summary>CRC32 of stored bytes, read with one pooled buffer (whole files and trunk slots alike).</summary>
internal static class ContentChecksum
{
    private const int BufferSize = 256 * 1024;

    /// <summary>
    /// CRC32 of <paramref name="length"/> bytes from <paramref name="offset"/>, or null when the file is shorter.
    /// <paramref name="throttle"/>, when given, is told of every buffer read (the scrub's rate limit).
    /// </summary>
    public static async ValueTask<uint?> ComputeAsync(SafeFileHandle handle, long offset, long length, Func<int, CancellationToken, ValueTask>? throttle,
        CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long done = 0;
            while (done < length)
            {
                int want = (int)Math.Min(BufferSize, length - done);
                if (throttle is not null)
                {
                    await throttle(want, cancellationToken).ConfigureAwait(false);
                }

                int read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), offset + done, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }

                crc.Append(buffer.AsSpan(0, read));
                done += read;
            }

            return crc.GetCurrentHashAsUInt32();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether a whole file holds exactly the bytes its name promises; null when the name promises nothing.</summary>
    public static async ValueTask<bool?> FileMatchesNameAsync(string logicName, string fullPath, CancellationToken cancellationToken)
    {
        if (!NameChecksum.TryGetExpected(logicName, out long size, out uint crc))
        {
            return null;
        }

        using var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        if (RandomAccess.GetLength(handle) != size)
        {
            return false;
        }

        return await ComputeAsync(handle, 0, size, null, cancellationToken).ConfigureAwait(false) == crc;
    }
}
