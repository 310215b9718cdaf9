namespace FastDfs.Protocol;

/// <summary>Linux errno values used as FastDFS response status codes.</summary>
public static class Errno
{
    public const byte Ok = 0;
    public const byte EPERM = 1;
    public const byte ENOENT = 2;
    public const byte EINTR = 4;
    public const byte EIO = 5;

    /// <summary>FastDFS.NET: metadata larger than the storage keeps for one file (SET_METADATA).</summary>
    public const byte E2BIG = 7;
    public const byte EAGAIN = 11;
    public const byte ENOMEM = 12;
    public const byte EACCES = 13;
    public const byte EFAULT = 14;
    public const byte EBUSY = 16;
    public const byte EEXIST = 17;
    public const byte EISDIR = 21;
    public const byte EINVAL = 22;
    public const byte EFBIG = 27;
    public const byte ENOSPC = 28;
    public const byte ENAMETOOLONG = 36;
    public const byte ENONET = 64;

    /// <summary>FastDFS.NET: a replica's bytes do not match the size and CRC32 its name encodes (checked replication).</summary>
    public const byte EBADMSG = 74;
    public const byte EOPNOTSUPP = 95;
    public const byte ETIMEDOUT = 110;
    public const byte EALREADY = 114;

    /// <summary>strerror()-style text, as the stock tools print it.</summary>
    public static string Describe(int code) => code switch
    {
        0 => "Success",
        EPERM => "Operation not permitted",
        ENOENT => "No such file or directory",
        EINTR => "Interrupted system call",
        EIO => "Input/output error",
        E2BIG => "Argument list too long",
        EAGAIN => "Resource temporarily unavailable",
        ENOMEM => "Cannot allocate memory",
        EACCES => "Permission denied",
        EFAULT => "Bad address",
        EBUSY => "Device or resource busy",
        EEXIST => "File exists",
        EISDIR => "Is a directory",
        EINVAL => "Invalid argument",
        EFBIG => "File too large",
        ENOSPC => "No space left on device",
        ENAMETOOLONG => "File name too long",
        ENONET => "Machine is not on the network",
        EBADMSG => "Bad message",
        EOPNOTSUPP => "Operation not supported",
        ETIMEDOUT => "Connection timed out",
        EALREADY => "Operation already in progress",
        _ => $"Unknown error {code}",
    };
}
