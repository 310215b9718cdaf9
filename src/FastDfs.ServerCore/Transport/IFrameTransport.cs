using System.IO.Pipelines;
using System.Net;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.ServerCore.Transport;

/// <summary>
/// What a server session needs of its connection: the two pipes plus waiting for input without holding a buffer,
/// sending a file range, and the signals for an aborted connection and a stopping server. A socket
/// (<see cref="SocketConnection"/>) in the servers; pipes in memory (<see cref="PipeTransport"/>) in tests that feed
/// fragmented or malformed frames.
/// </summary>
public interface IFrameTransport : IDuplexPipe
{
    /// <summary>The peer's address (member checks, admin_hosts, logs), or null when unknown.</summary>
    IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Cancelled when the connection is aborted.</summary>
    CancellationToken Closed { get; }

    /// <summary>Cancelled when the connection is aborted or the server stops: ends a wait for the next request.</summary>
    CancellationToken IdleEnd { get; }

    /// <summary>Waits until at least one byte of input (or its end) is there, without holding a receive buffer while idle.</summary>
    ValueTask WaitForInputAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> after what was written
    /// to <see cref="IDuplexPipe.Output"/>; <paramref name="progress"/> runs after each piece (to re-arm a timeout).
    /// </summary>
    ValueTask SendFileAsync(SafeFileHandle file, long offset, long count, Action progress, CancellationToken cancellationToken);

    /// <summary>Ends the connection at once.</summary>
    void Abort();
}
