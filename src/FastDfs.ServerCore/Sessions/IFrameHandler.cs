using FastDfs.Protocol;

namespace FastDfs.ServerCore.Sessions;

/// <summary>What a server role plugs into the <see cref="FrameSession"/> loop: its commands, its errno mapping, its metrics.</summary>
public interface IFrameHandler
{
    /// <summary>
    /// Handles one request: reads its body through the session, writes a successful reply to its output and returns
    /// <see cref="Errno.Ok"/>, or returns an errno for the loop to answer with a header-only reply. A
    /// <see cref="ProtocolException"/> is answered with its status.
    /// </summary>
    ValueTask<byte> HandleAsync(PacketHeader request);

    /// <summary>Whether <paramref name="failure"/> is answered with an errno (<paramref name="status"/>) and the connection kept.</summary>
    bool TryMapFailure(PacketHeader request, Exception failure, out byte status);

    /// <summary>After each request (metrics): its status and its <see cref="System.Diagnostics.Stopwatch"/> start timestamp.</summary>
    void OnServed(PacketHeader request, byte status, long startedTimestamp);
}

/// <summary>How a role's connections are framed: deadlines, body limits, and which refusals end a connection.</summary>
public sealed class FrameSessionOptions
{
    /// <summary><c>network_timeout</c>: for a new connection's first request, and for each request's header, body and reply.</summary>
    public required TimeSpan NetworkTimeout { get; init; }

    /// <summary>The largest body processed in memory (from <c>buff_size</c> or <c>max_pkg_size</c>).</summary>
    public required int MaxInMemoryBody { get; init; }

    /// <summary>A larger (or negative) declared body ends the connection before it is read.</summary>
    public long MaxBodyLength { get; init; } = long.MaxValue;

    /// <summary>The reply to a bad declared body length before closing, or null to close without one (stock tracker).</summary>
    public byte? BadLengthStatus { get; init; } = Errno.EINVAL;

    /// <summary>Whether a request answered EINVAL ends the connection (stock storage does; stock tracker does not).</summary>
    public bool CloseOnInvalidRequest { get; init; }

    /// <summary>The most body bytes read and dropped after a refusal to keep the connection; beyond it the reply goes out and the
    /// connection closes (a client that sends its whole body before reading then sees a closed connection).</summary>
    public long MaxSkippedBody { get; init; } = 64L << 20;
}
