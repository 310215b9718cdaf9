using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Transport;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.ServerCore.Peers;

/// <summary>How a server opens its connections to the other servers of the cluster.</summary>
/// <param name="BindAddress">the local address to connect from (storage's client_bind with bind_addr, tracker's bind_addr), or null</param>
/// <param name="PeerKey">cluster_secret_key as key bytes: proven right after connecting, or null</param>
public sealed record PeerChannelOptions(TimeSpan ConnectTimeout, TimeSpan NetworkTimeout, IPAddress? BindAddress, byte[]? PeerKey);

/// <summary>
/// One request/reply connection from a server to another server of the cluster: a storage to a tracker (join, beats,
/// reports), to another storage (sync, trunk, anti-entropy), a tracker to a tracker. Connects within connect_timeout
/// from the bind address, proves cluster_secret_key when set, runs each request under network_timeout (re-armed while
/// a file streams), maps network failures to <see cref="IOException"/> naming the peer, and says QUIT when disposed.
/// </summary>
public sealed class PeerChannel : IAsyncDisposable
{
    private const int FileChunkSize = 256 * 1024;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private PeerChannel(TcpClient client, string host, int port, string name, TimeSpan networkTimeout)
    {
        _client = client;
        _stream = client.GetStream();
        Host = host;
        Port = port;
        Name = name;
        NetworkTimeout = networkTimeout;
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>"tracker 10.0.0.1:22122", "storage 10.0.0.2:23000": how messages name the peer.</summary>
    public string Name { get; }

    public TimeSpan NetworkTimeout { get; }

    public IPEndPoint? LocalEndPoint => _client.Client.LocalEndPoint as IPEndPoint;

    /// <param name="role">"tracker" or "storage", for messages</param>
    /// <exception cref="IOException">Cannot connect, or the handshake failed (<see cref="PeerAuthenticationException"/>).</exception>
    public static async Task<PeerChannel> ConnectAsync(string host, int port, PeerChannelOptions options, string role, CancellationToken ct)
    {
        string name = $"{role} {(host.Contains(':') ? $"[{host}]" : host)}:{port}";
        TcpClient client;
        try
        {
            client = await TcpConnector.ConnectAsync(host, port, options.ConnectTimeout, ct, options.BindAddress).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new IOException($"cannot connect to {name}: {e.Message}", e);
        }

        var channel = new PeerChannel(client, host, port, name, options.NetworkTimeout);
        try
        {
            await PeerHandshake.ProveAsync(channel._stream, options.PeerKey, name, options.NetworkTimeout, ct).ConfigureAwait(false);
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return channel;
    }

    /// <summary>Sends one request and reads the reply: its status and body (empty unless the status is 0).</summary>
    /// <exception cref="IOException">The connection failed, timed out, or the reply is not a response of at most <paramref name="maxReplyBody"/> bytes.</exception>
    public async Task<(byte Status, byte[] Body)> RequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, long maxReplyBody,
        CancellationToken ct, byte headerStatus = 0)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(NetworkTimeout);
        try
        {
            await SendRequestAsync(command, body, headerStatus, timeout.Token).ConfigureAwait(false);
            return await ReadReplyAsync(command, maxReplyBody, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new IOException($"{Name}: {command} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Sends <paramref name="fixedPart"/> then <paramref name="length"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/> as one request (network_timeout re-armed after every chunk), and returns the reply's
    /// status. A file that shrinks meanwhile is an <see cref="IOException"/>: the frame cannot be completed.
    /// </summary>
    public async Task<byte> RequestWithFileAsync(FdfsCommand command, ReadOnlyMemory<byte> fixedPart, SafeFileHandle? file, string path,
        long offset, long length, CancellationToken ct, byte headerStatus = 0)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(NetworkTimeout);
        try
        {
            var header = new byte[ProtocolConstants.HeaderSize];
            new PacketHeader(fixedPart.Length + (file is null ? 0 : length), command, headerStatus).WriteTo(header);
            await _stream.WriteAsync(header, timeout.Token).ConfigureAwait(false);
            await _stream.WriteAsync(fixedPart, timeout.Token).ConfigureAwait(false);
            if (file is not null && length > 0)
            {
                await CopyFileRangeAsync(file, path, offset, length, timeout).ConfigureAwait(false);
            }

            var (status, _) = await ReadReplyAsync(command, 64 * 1024, timeout.Token).ConfigureAwait(false);
            return status;
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new IOException($"{Name}: {command} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Sends one request whose reply body is copied to <paramref name="destination"/> (seekable) as it arrives
    /// (network_timeout re-armed after every chunk); returns the reply's status and how many body bytes were copied. A
    /// reply that declares <paramref name="streamedLength"/> is stock's open-ended form: the body runs until the peer closes
    /// and ends with its own length as an i64be, which is checked and cut off again.
    /// </summary>
    /// <param name="headerTimeout">how long the peer may take before its reply starts (it may build the body first), at least network_timeout</param>
    public async Task<(byte Status, long Length)> RequestToStreamAsync(FdfsCommand command, ReadOnlyMemory<byte> body, Stream destination,
        long streamedLength, CancellationToken ct, TimeSpan? headerTimeout = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(headerTimeout is { } wait && wait > NetworkTimeout ? wait : NetworkTimeout);
        try
        {
            await SendRequestAsync(command, body, 0, timeout.Token).ConfigureAwait(false);
            var header = await ReadResponseHeaderAsync(command, timeout.Token).ConfigureAwait(false);
            timeout.CancelAfter(NetworkTimeout);
            if (header.Status != Errno.Ok)
            {
                return (header.Status, 0);
            }

            bool streamed = header.BodyLength == streamedLength;
            var reader = new PeerReplyReader(_stream, streamed ? long.MaxValue : header.BodyLength, timeout, NetworkTimeout);
            var buffer = ArrayPool<byte>.Shared.Rent(FileChunkSize);
            try
            {
                long start = destination.Position;
                long copied = await reader.CopyToAsync(destination, streamed ? long.MaxValue : header.BodyLength, buffer, untilEnd: streamed)
                    .ConfigureAwait(false);
                if (!streamed)
                {
                    return (Errno.Ok, copied);
                }

                // The open-ended form: its last 8 bytes are the length of what came before them.
                long records = copied - sizeof(long);
                var trailer = new byte[sizeof(long)];
                if (records >= 0)
                {
                    destination.Position = start + records;
                    destination.ReadExactly(trailer);
                }

                if (records < 0 || BinaryPrimitives.ReadInt64BigEndian(trailer) != records)
                {
                    throw new IOException($"{Name} ended its {command} reply after {copied} bytes without the matching length");
                }

                destination.SetLength(start + records);
                return (Errno.Ok, records);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new IOException($"{Name}: {command} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Sends one request and hands a successful reply's body to <paramref name="readBody"/>, which must read all of it through
    /// the <see cref="PeerReplyReader"/> (network_timeout re-armed after every read); returns the reply's status.
    /// </summary>
    public async Task<byte> RequestWithReplyReaderAsync(FdfsCommand command, ReadOnlyMemory<byte> body, Func<PeerReplyReader, Task> readBody,
        CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(NetworkTimeout);
        try
        {
            await SendRequestAsync(command, body, 0, timeout.Token).ConfigureAwait(false);
            var header = await ReadResponseHeaderAsync(command, timeout.Token).ConfigureAwait(false);
            if (header.Status != Errno.Ok)
            {
                return header.BodyLength == 0
                    ? header.Status
                    : throw new IOException($"{Name} answered {command} with status {header.Status} and a body of {header.BodyLength} bytes");
            }

            var reader = new PeerReplyReader(_stream, header.BodyLength, timeout, NetworkTimeout, readAhead: true);
            try
            {
                await readBody(reader).ConfigureAwait(false);
                if (reader.Remaining != 0)
                {
                    throw new IOException($"{Name}: {reader.Remaining} bytes of the {command} reply were not read");
                }
            }
            finally
            {
                reader.Release();
            }

            return Errno.Ok;
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new IOException($"{Name}: {command} failed: {e.Message}", e);
        }
    }

    /// <summary>Writes one request frame (header and body) with a pooled buffer.</summary>
    private async Task SendRequestAsync(FdfsCommand command, ReadOnlyMemory<byte> body, byte headerStatus, CancellationToken ct)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(ProtocolConstants.HeaderSize + body.Length);
        try
        {
            new PacketHeader(body.Length, command, headerStatus).WriteTo(frame);
            body.Span.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
            await _stream.WriteAsync(frame.AsMemory(0, ProtocolConstants.HeaderSize + body.Length), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Reads a reply's header; anything but a response with a length of 0 or more is an <see cref="IOException"/>.</summary>
    private async Task<PacketHeader> ReadResponseHeaderAsync(FdfsCommand command, CancellationToken ct)
    {
        var headerBytes = new byte[ProtocolConstants.HeaderSize];
        await _stream.ReadExactlyAsync(headerBytes, ct).ConfigureAwait(false);
        var header = PacketHeader.Read(headerBytes);
        if (header.Cmd != FdfsCommand.Response || header.BodyLength < 0)
        {
            throw new IOException($"{Name} answered {command} with cmd {header.Command}, body {header.BodyLength}");
        }

        return header;
    }

    private async Task<(byte Status, byte[] Body)> ReadReplyAsync(FdfsCommand command, long maxReplyBody, CancellationToken ct)
    {
        var header = await ReadResponseHeaderAsync(command, ct).ConfigureAwait(false);
        if (header.BodyLength > maxReplyBody)
        {
            throw new IOException($"{Name} answered {command} with a body of {header.BodyLength} bytes (at most {maxReplyBody})");
        }

        var reply = header.BodyLength == 0 ? [] : new byte[header.BodyLength];
        await _stream.ReadExactlyAsync(reply, ct).ConfigureAwait(false);
        return (header.Status, header.Status == Errno.Ok ? reply : []);
    }

    private async Task CopyFileRangeAsync(SafeFileHandle file, string path, long offset, long length, CancellationTokenSource timeout)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, FileChunkSize));
        try
        {
            long sent = 0;
            while (sent < length)
            {
                int want = (int)Math.Min(buffer.Length, length - sent);
                int read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, want), offset + sent, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{path} shrank while being sent to {Name}");
                }

                await _stream.WriteAsync(buffer.AsMemory(0, read), timeout.Token).ConfigureAwait(false);
                sent += read;
                timeout.CancelAfter(NetworkTimeout);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsNetworkFailure(Exception e, CancellationToken ct) =>
        e is SocketException or EndOfStreamException || (e is OperationCanceledException && !ct.IsCancellationRequested);

    /// <summary>Drops the socket without a goodbye (a simulated crash).</summary>
    public void Abort() => _client.Dispose();

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A polite goodbye, as stock's threads say it; the socket may already be dead.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await _stream.WriteAsync(new PacketHeader(0, FdfsCommand.Quit).ToArray(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}

/// <summary>
/// Reads a reply body of a known length from a <see cref="PeerChannel"/>, re-arming network_timeout after every read. With a
/// read-ahead buffer it takes the body from the socket in large reads (never past the body's end: the connection goes on),
/// so a reply of many small entries costs a few receive calls, not two per entry.
/// </summary>
public sealed class PeerReplyReader
{
    private const int ReadAheadSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly CancellationTokenSource _timeout;
    private readonly TimeSpan _networkTimeout;
    private byte[]? _ahead;
    private int _aheadStart;
    private int _aheadEnd;

    /// <summary>Body bytes not taken from the socket yet.</summary>
    private long _unread;

    internal PeerReplyReader(Stream stream, long length, CancellationTokenSource timeout, TimeSpan networkTimeout, bool readAhead = false)
    {
        _stream = stream;
        _unread = length;
        _timeout = timeout;
        _networkTimeout = networkTimeout;
        _ahead = readAhead && length > 0 ? ArrayPool<byte>.Shared.Rent((int)Math.Min(ReadAheadSize, length)) : null;
    }

    /// <summary>Body bytes not read yet.</summary>
    public long Remaining => _unread + (_aheadEnd - _aheadStart);

    /// <summary>Gives the read-ahead buffer back (the channel calls it once the body is read).</summary>
    internal void Release()
    {
        if (_ahead is { } ahead)
        {
            _ahead = null;
            ArrayPool<byte>.Shared.Return(ahead);
        }
    }

    /// <summary>Reads up to <paramref name="destination"/>'s length from the buffered bytes or the socket; 0 at the peer's end.</summary>
    private async ValueTask<int> ReadSomeAsync(Memory<byte> destination)
    {
        int buffered = _aheadEnd - _aheadStart;
        if (buffered > 0)
        {
            int n = Math.Min(buffered, destination.Length);
            _ahead.AsSpan(_aheadStart, n).CopyTo(destination.Span);
            _aheadStart += n;
            return n;
        }

        if (_unread == 0)
        {
            return 0;
        }

        int read;
        if (_ahead is { } ahead && destination.Length < ahead.Length)
        {
            read = await _stream.ReadAsync(ahead.AsMemory(0, (int)Math.Min(ahead.Length, _unread)), _timeout.Token).ConfigureAwait(false);
            _aheadStart = 0;
            _aheadEnd = read;
            _unread -= read;
            _timeout.CancelAfter(_networkTimeout);
            return read == 0 ? 0 : await ReadSomeAsync(destination).ConfigureAwait(false);
        }

        read = await _stream.ReadAsync(destination[..(int)Math.Min(destination.Length, _unread)], _timeout.Token).ConfigureAwait(false);
        _unread -= read;
        _timeout.CancelAfter(_networkTimeout);
        return read;
    }

    public async Task ReadExactlyAsync(Memory<byte> destination)
    {
        if (destination.Length > Remaining)
        {
            throw new IOException($"the reply has {Remaining} bytes left, {destination.Length} wanted");
        }

        while (destination.Length > 0)
        {
            int read = await ReadSomeAsync(destination).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException($"the peer closed with {Remaining} reply bytes outstanding");
            }

            destination = destination[read..];
        }
    }

    /// <summary>
    /// Writes the next <paramref name="count"/> bytes into <paramref name="file"/> from its start, with plain synchronous writes
    /// (a file write is cheaper than the thread-pool hop an asynchronous one costs on Linux); returns how many.
    /// </summary>
    /// <param name="offSocketThread">leave the socket's thread before each write (a server that serves clients on these threads)</param>
    /// <param name="afterChunk">awaited after each chunk is written with its size (a rate limit); network_timeout is re-armed after it</param>
    public Task<long> CopyToFileAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long count, byte[] buffer, bool offSocketThread = false,
        Func<int, ValueTask>? afterChunk = null) =>
        CopyChunksAsync(count, buffer, untilEnd: false, async (read, position) =>
        {
            if (offSocketThread)
            {
                await Task.Yield();
            }

            RandomAccess.Write(file, buffer.AsSpan(0, read), position);
            if (afterChunk is not null)
            {
                await afterChunk(read).ConfigureAwait(false);
                _timeout.CancelAfter(_networkTimeout);
            }
        });

    /// <summary>Copies the next <paramref name="count"/> bytes to <paramref name="destination"/> (or, with <paramref name="untilEnd"/>,
    /// everything until the peer closes); returns how many.</summary>
    public Task<long> CopyToAsync(Stream destination, long count, byte[] buffer, bool untilEnd = false) =>
        CopyChunksAsync(count, buffer, untilEnd, (read, _) => destination.WriteAsync(buffer.AsMemory(0, read), _timeout.Token));

    /// <summary>Reads the next <paramref name="count"/> bytes chunk by chunk into <paramref name="buffer"/>, handing each to
    /// <paramref name="consume"/> with its position in the copy; returns how many.</summary>
    private async Task<long> CopyChunksAsync(long count, byte[] buffer, bool untilEnd, Func<int, long, ValueTask> consume)
    {
        if (count > Remaining)
        {
            throw new IOException($"the reply has {Remaining} bytes left, {count} wanted");
        }

        long copied = 0;
        while (copied < count)
        {
            int read = await ReadSomeAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - copied))).ConfigureAwait(false);
            if (read == 0)
            {
                return untilEnd ? copied : throw new EndOfStreamException($"the peer closed with {Remaining} reply bytes outstanding");
            }

            await consume(read, copied).ConfigureAwait(false);
            copied += read;
        }

        return copied;
    }
}
