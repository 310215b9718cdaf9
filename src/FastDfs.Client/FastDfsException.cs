using FastDfs.Protocol;

namespace FastDfs.Client;

/// <summary>
/// A FastDFS operation failed. For a server reply <see cref="ErrorCode"/> is the errno status it sent
/// (message <c>error no: 2, error info: No such file or directory</c>, as the stock tools print it).
/// </summary>
public class FastDfsException : Exception
{
    public FastDfsException(int errorCode)
        : this(errorCode, FormatErrno(errorCode))
    {
    }

    public FastDfsException(int errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Linux errno of the failure (server status, or the socket/timeout errno for connection failures).</summary>
    public int ErrorCode { get; }

    /// <summary>True when the server answered with an errno status (not a connection or protocol failure).</summary>
    public virtual bool IsServerError => true;

    public static string FormatErrno(int errorCode) => $"error no: {errorCode}, error info: {Errno.Describe(errorCode)}";
}

/// <summary>Connecting to, writing to or reading from a server failed, or the network timeout expired.</summary>
public sealed class FastDfsConnectionException(FastDfsEndpoint endpoint, int errorCode, string message, Exception? innerException = null)
    : FastDfsException(errorCode, message, innerException)
{
    /// <summary>The server the failure concerns.</summary>
    public FastDfsEndpoint Endpoint { get; } = endpoint;

    /// <summary>True when the failure was the connect or network timeout.</summary>
    public bool IsTimeout => ErrorCode == Errno.ETIMEDOUT;

    public override bool IsServerError => false;
}

/// <summary>A server reply did not follow the protocol (wrong command byte, unexpected body size...).</summary>
public sealed class FastDfsProtocolException(FastDfsEndpoint endpoint, string message, Exception? innerException = null)
    : FastDfsException(Errno.EINVAL, $"{endpoint}: {message}", innerException)
{
    public FastDfsEndpoint Endpoint { get; } = endpoint;

    public override bool IsServerError => false;
}
