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

    /// <summary>.NET puts the errno of a failed file call in <see cref="Exception.HResult"/> on Unix; anything else counts as EIO.</summary>
    public static byte ErrnoOf(IOException e) => e.HResult is > 0 and < 256 ? (byte)e.HResult : Errno.EIO;
}
