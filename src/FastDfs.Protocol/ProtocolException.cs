namespace FastDfs.Protocol;

/// <summary>A malformed frame or field; <see cref="Status"/> is the errno a server answers with.</summary>
public class ProtocolException(string message, byte status = Errno.EINVAL) : Exception(message)
{
    public byte Status { get; } = status;
}
