using System.Net;
using System.Net.Sockets;
using System.Buffers;
using CsCheck;
using FastDfs.Protocol;
using FastDfs.ServerCore.Transport;

namespace FastDfs.TestSupport.Fuzzing;

/// <summary>
/// Fuzzes a running server over real sockets: each case is a connection that sends one to four generated frames, closes
/// its sending side and reads until the server closes. Properties: the server ends every such connection promptly (no
/// hang), answers ACTIVE_TEST on a new connection after every case, logs no unexpected exception, and allocates within
/// a bound of what it was sent (no buffer sized by a length field).
/// </summary>
public static class SessionFuzzer
{
    /// <summary>Longest a server may keep a connection whose client has finished sending.</summary>
    private static readonly TimeSpan CaseDeadline = TimeSpan.FromSeconds(10);

    public static Gen<byte[][]> Conversations(byte[] commands, IReadOnlyList<byte[]> bodies) =>
        FuzzInputs.Frame(commands, bodies).Array[1, 4];

    /// <summary>
    /// Runs <paramref name="iterations"/> cases one at a time (log and allocation checks are per case). Returns how many
    /// cases got at least one reply byte (a run whose frames all bounce off means the generator is broken).
    /// </summary>
    public static async Task<Statistics> RunAsync(IPEndPoint server, Gen<byte[][]> conversations, ErrorLog log, long iterations)
    {
        var statistics = new Statistics();
        await conversations.SampleAsync(frames => OneCaseAsync(server, frames, log, statistics), iter: iterations, threads: 1,
            print: frames => string.Join(" | ", frames.Select(FuzzInputs.Hex)));
        return statistics;
    }

    /// <summary>Conversations with the pieces they are delivered in: each number is the length of the next piece.</summary>
    public static Gen<(byte[][] Frames, int[] Pieces)> FragmentedConversations(byte[] commands, IReadOnlyList<byte[]> bodies) =>
        Gen.Select(Conversations(commands, bodies), Gen.Int[1, 48].Array[1, 12]);

    /// <summary>
    /// The same properties in memory (<see cref="PipeTransport"/>), with the bytes delivered in generated pieces that cut
    /// headers and bodies anywhere: <paramref name="serve"/> runs the role's session on the transport; it must end
    /// promptly once the input ends, log nothing unexpected and allocate within bounds.
    /// </summary>
    public static async Task<Statistics> RunFragmentedAsync(Func<PipeTransport, Task> serve, Gen<(byte[][] Frames, int[] Pieces)> conversations,
        ErrorLog log, long iterations)
    {
        var statistics = new Statistics();
        await conversations.SampleAsync(c => OneFragmentedCaseAsync(serve, c.Frames, c.Pieces, log, statistics), iter: iterations, threads: 1,
            print: c => string.Join(" | ", c.Frames.Select(FuzzInputs.Hex)) + " in pieces " + string.Join(",", c.Pieces));
        return statistics;
    }

    private static async Task OneFragmentedCaseAsync(Func<PipeTransport, Task> serve, byte[][] frames, int[] pieces, ErrorLog log,
        Statistics statistics)
    {
        statistics.Cases++;
        int errorsBefore = log.Count;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        byte[] bytes = [.. frames.SelectMany(f => f)];
        await using var transport = new PipeTransport();
        using var timeout = new CancellationTokenSource(CaseDeadline);
        var session = serve(transport);
        var replies = DrainAsync(transport.ClientInput, timeout.Token);
        int offset = 0, next = 0;
        while (offset < bytes.Length && !session.IsCompleted)
        {
            // The last piece length repeats until everything is delivered.
            int length = Math.Min(pieces[Math.Min(next++, pieces.Length - 1)], bytes.Length - offset);
            var flushed = await transport.ClientOutput.WriteAsync(bytes.AsMemory(offset, length), timeout.Token);
            offset += length;
            if (flushed.IsCompleted)
            {
                break; // the session stopped reading
            }
        }

        await transport.ClientOutput.CompleteAsync();
        try
        {
            await session.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"the session was still running {CaseDeadline.TotalSeconds} s after its input ended");
        }

        await transport.Output.CompleteAsync();
        long replied = await replies;
        if (replied >= ProtocolConstants.HeaderSize)
        {
            statistics.Answered++;
        }

        if (log.Count > errorsBefore)
        {
            throw new InvalidOperationException("the server logged: " + string.Join(Environment.NewLine, log.Errors.Skip(errorsBefore)));
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        if (allocated > (64L << 20) + 16L * bytes.Length)
        {
            throw new InvalidOperationException($"{allocated} bytes allocated for a case that sent {bytes.Length}");
        }
    }

    /// <summary>Reads the session's replies as they come (so a large reply never blocks it) and counts them.</summary>
    private static async Task<long> DrainAsync(System.IO.Pipelines.PipeReader replies, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            var result = await replies.ReadAsync(ct);
            total += result.Buffer.Length;
            replies.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return total;
            }
        }
    }

    /// <summary>What a run did: cases, cases the server answered, distinct reply statuses seen.</summary>
    public sealed class Statistics
    {
        public long Cases;
        public long Answered;
        public readonly HashSet<byte> Statuses = [];
    }

    private static async Task OneCaseAsync(IPEndPoint server, byte[][] frames, ErrorLog log, Statistics statistics)
    {
        statistics.Cases++;
        int errorsBefore = log.Count;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        long sent = frames.Sum(f => (long)f.Length);
        using (var timeout = new CancellationTokenSource(CaseDeadline))
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, timeout.Token);
            try
            {
                foreach (var frame in frames)
                {
                    await socket.SendAsync(frame, SocketFlags.None, timeout.Token);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The server closed first (it refused a frame): fine.
            }

            var buffer = new byte[64 * 1024];
            try
            {
                int n, total = 0;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
                {
                    if (total == 0 && n >= ProtocolConstants.HeaderSize)
                    {
                        statistics.Answered++;
                        statistics.Statuses.Add(buffer[9]);
                    }

                    total += n;
                }
            }
            catch (SocketException)
            {
                // Reset: closed with our bytes unread.
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException($"the server kept the connection {CaseDeadline.TotalSeconds} s after the client finished sending");
            }
        }

        await ExpectActiveAsync(server);
        if (log.Count > errorsBefore)
        {
            throw new InvalidOperationException("the server logged: " + string.Join(Environment.NewLine, log.Errors.Skip(errorsBefore)));
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        // The whole process: the client here, the server's session, its timers. Far below a declared absurd length.
        if (allocated > (64L << 20) + 16 * sent)
        {
            throw new InvalidOperationException($"{allocated} bytes allocated for a case that sent {sent}");
        }
    }

    /// <summary>ACTIVE_TEST on a new connection must be answered with status 0.</summary>
    public static async Task ExpectActiveAsync(IPEndPoint server)
    {
        using var timeout = new CancellationTokenSource(CaseDeadline);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, timeout.Token);
        await socket.SendAsync(FuzzInputs.Build((byte)FdfsCommand.ActiveTest, [], 0), SocketFlags.None, timeout.Token);
        var reply = new byte[ProtocolConstants.HeaderSize];
        int read = 0;
        while (read < reply.Length)
        {
            int n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new InvalidOperationException("ACTIVE_TEST after the case: connection closed");
            }

            read += n;
        }

        var header = PacketHeader.Read(reply);
        if (header.Status != 0 || header.BodyLength != 0)
        {
            throw new InvalidOperationException($"ACTIVE_TEST after the case answered status {header.Status}, length {header.BodyLength}");
        }
    }
}
