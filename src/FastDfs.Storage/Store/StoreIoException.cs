using FastDfs.Protocol;

namespace FastDfs.Storage.Store;

/// <summary>
/// Reading or writing stored data failed (a full disk, an I/O error, a read-only file system), as opposed to the
/// network: the request is answered with the errno and the connection keeps serving. Deliberately not an
/// <see cref="IOException"/>, which the session takes for a lost client.
/// </summary>
internal sealed class StoreIoException(byte status, string message, Exception inner) : Exception(message, inner)
{
    /// <summary>The errno the client gets (ENOSPC, EIO, EROFS...).</summary>
    public byte Status { get; } = status;

    public static StoreIoException From(IOException e, string what) => new(ErrnoOf(e), $"{what}: {e.Message}", e);

    private const int EDQUOT = 122;
    public const byte EROFS = 30;

    /// <summary>
    /// .NET puts the errno of a failed file call in <see cref="Exception.HResult"/> on Unix. Only the disk's own answers
    /// pass through (ENOSPC, a quota as ENOSPC, EROFS, EFBIG); anything else is EIO: a disk's EINVAL, EEXIST or ENOENT would
    /// mean something else to a FastDFS peer (EINVAL closes a sync connection, ENOENT/EEXIST are benign answers).
    /// </summary>
    public static byte ErrnoOf(IOException e) => e.HResult switch
    {
        Errno.ENOSPC or EDQUOT => Errno.ENOSPC,
        EROFS => EROFS,
        Errno.EFBIG => Errno.EFBIG,
        _ => Errno.EIO,
    };
}
