using System.Buffers;
using System.IO.Pipelines;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.ServerCore.Sessions;
using FastDfs.ServerCore.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.ServerCore.Tests;

/// <summary>The shared frame loop, in memory, with a scripted handler: what both servers rely on it for.</summary>
public sealed class FrameSessionTests
{
    private static readonly CancellationToken Ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    /// <summary>A handler whose behaviour per command is set by the test; records what the loop told it.</summary>
    private sealed class ScriptedHandler(FrameSession session) : IFrameHandler
    {
        public readonly List<(FdfsCommand Command, byte Status)> Served = [];

        public Func<FrameSession, PacketHeader, ValueTask<byte>> Handle { get; set; } = (_, _) => ValueTask.FromResult(Errno.Ok);

        public ValueTask<byte> HandleAsync(PacketHeader request) => Handle(session, request);

        public bool TryMapFailure(PacketHeader request, Exception failure, out byte status)
        {
            status = Errno.EIO;
            return failure is IOException { Message: "disk" };
        }

        public void OnServed(PacketHeader request, byte status, long startedTimestamp) => Served.Add((request.Cmd, status));
    }

    private static FrameSessionOptions Options(bool closeOnInvalid = true, byte? badLength = Errno.EINVAL, double timeoutSeconds = 30,
        long maxBody = long.MaxValue, long maxSkipped = 64L << 20) => new()
    {
        NetworkTimeout = TimeSpan.FromSeconds(timeoutSeconds),
        MaxInMemoryBody = 1024,
        MaxBodyLength = maxBody,
        BadLengthStatus = badLength,
        CloseOnInvalidRequest = closeOnInvalid,
        MaxSkippedBody = maxSkipped,
    };

    private static (PipeTransport Transport, FrameSession Session, ScriptedHandler Handler) Start(FrameSessionOptions options)
    {
        var transport = new PipeTransport();
        var session = new FrameSession(transport, options, NullLogger.Instance);
        return (transport, session, new ScriptedHandler(session));
    }

    private static byte[] Frame(FdfsCommand command, int bodyLength, long? declared = null)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + bodyLength];
        new PacketHeader(declared ?? bodyLength, command).WriteTo(frame);
        for (int i = 0; i < bodyLength; i++)
        {
            frame[ProtocolConstants.HeaderSize + i] = (byte)(i + 101);
        }

        return frame;
    }

    /// <summary>Everything the session sent until it closed its side.</summary>
    private static async Task<byte[]> AllRepliesAsync(PipeTransport transport)
    {
        var received = new List<byte>();
        while (true)
        {
            var result = await transport.ClientInput.ReadAsync(Ct);
            received.AddRange(result.Buffer.ToArray());
            transport.ClientInput.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return [.. received];
            }
        }
    }

    private static async Task<byte[]> RunToEndAsync(PipeTransport transport, FrameSession session, ScriptedHandler handler, params byte[][] frames)
    {
        foreach (var frame in frames)
        {
            await transport.ClientOutput.WriteAsync(frame, Ct);
        }

        await transport.ClientOutput.CompleteAsync();
        await session.RunAsync(handler).WaitAsync(Ct);
        await transport.Output.CompleteAsync();
        return await AllRepliesAsync(transport);
    }

    private static byte[] Status(byte status) => PacketHeader.Response(0, status).ToArray();

    [Fact]
    public async Task What_a_handler_leaves_of_a_body_is_dropped_and_the_next_frame_is_read_from_its_own_header()
    {
        var (transport, session, handler) = Start(Options());
        handler.Handle = async (s, request) =>
        {
            if (request.Cmd == FdfsCommand.UploadFile)
            {
                var first = await s.ReadBodyAsync(3);
                Assert.Equal(new byte[] { 101, 102, 103 }, first.ToArray());
                return Errno.ENOENT; // 97 body bytes left unread
            }

            return Errno.Ok;
        };

        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.UploadFile, 100), Frame(FdfsCommand.DeleteFile, 0));
        Assert.Equal(Status(Errno.ENOENT), replies);
        Assert.Equal([(FdfsCommand.UploadFile, Errno.ENOENT), (FdfsCommand.DeleteFile, Errno.Ok)], handler.Served);
    }

    [Fact]
    public async Task A_refusal_with_more_body_than_may_be_dropped_is_answered_and_closes()
    {
        var (transport, session, handler) = Start(Options(maxSkipped: 50));
        handler.Handle = (_, _) => ValueTask.FromResult(Errno.ENOSPC);
        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.UploadFile, 100), Frame(FdfsCommand.ActiveTest, 0));
        Assert.Equal(Status(Errno.ENOSPC), replies);
        Assert.Single(handler.Served);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EINVAL_closes_the_connection_only_when_the_role_says_so(bool closeOnInvalid)
    {
        var (transport, session, handler) = Start(Options(closeOnInvalid));
        handler.Handle = (_, request) => request.Cmd == FdfsCommand.SetMetadata
            ? throw new ProtocolException("bad fields")
            : ValueTask.FromResult(Errno.Ok);
        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.SetMetadata, 10), Frame(FdfsCommand.ActiveTest, 0));
        Assert.Equal(Status(Errno.EINVAL), replies);
        Assert.Equal(closeOnInvalid ? 1 : 2, handler.Served.Count);
    }

    [Fact]
    public async Task A_failure_the_role_maps_is_answered_with_its_errno_and_the_connection_serves_on()
    {
        var (transport, session, handler) = Start(Options());
        handler.Handle = (_, request) => request.Cmd == FdfsCommand.UploadFile
            ? throw new IOException("disk")
            : ValueTask.FromResult(Errno.ENOENT);
        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.UploadFile, 5), Frame(FdfsCommand.DeleteFile, 5));
        Assert.Equal([.. Status(Errno.EIO), .. Status(Errno.ENOENT)], replies);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(2000L)]
    public async Task A_bad_declared_length_is_refused_before_any_body_with_or_without_a_reply(long declared)
    {
        foreach (byte? refusal in new byte?[] { Errno.EINVAL, null })
        {
            var (transport, session, handler) = Start(Options(badLength: refusal, maxBody: 1000));
            bool handled = false;
            handler.Handle = (_, _) =>
            {
                handled = true;
                return ValueTask.FromResult(Errno.Ok);
            };

            byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.UploadFile, 0, declared), Frame(FdfsCommand.ActiveTest, 0));
            Assert.Equal(refusal is { } status ? Status(status) : [], replies);
            Assert.False(handled);
        }
    }

    [Fact]
    public async Task QUIT_ends_the_session_and_later_frames_are_not_read()
    {
        var (transport, session, handler) = Start(Options());
        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.Quit, 0), Frame(FdfsCommand.ActiveTest, 0));
        Assert.Empty(replies);
        Assert.Empty(handler.Served);
    }

    [Fact]
    public async Task A_silent_new_connection_ends_after_network_timeout_and_a_served_one_may_idle_longer()
    {
        var (transport, session, handler) = Start(Options(timeoutSeconds: 0.3));
        await session.RunAsync(handler).WaitAsync(Ct); // nothing sent: ends by itself

        (transport, session, handler) = Start(Options(timeoutSeconds: 0.3));
        var run = session.RunAsync(handler);
        await transport.ClientOutput.WriteAsync(Frame(FdfsCommand.ActiveTest, 0), Ct);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.False(run.IsCompleted, "a served connection idling between requests was closed");
        await transport.ClientOutput.WriteAsync(Frame(FdfsCommand.ActiveTest, 0), Ct);
        await transport.ClientOutput.CompleteAsync();
        await run.WaitAsync(Ct);
        Assert.Equal(2, handler.Served.Count);
    }

    [Fact]
    public async Task A_half_sent_header_or_body_ends_the_session_after_network_timeout()
    {
        var (transport, session, handler) = Start(Options(timeoutSeconds: 0.3));
        handler.Handle = async (s, request) =>
        {
            await s.ReadBodyAsync((int)request.BodyLength);
            return Errno.Ok;
        };
        var run = session.RunAsync(handler);
        await transport.ClientOutput.WriteAsync(Frame(FdfsCommand.SetMetadata, 20)[..15], Ct); // header + 5 of 20 body bytes
        await run.WaitAsync(Ct);
        Assert.Empty(handler.Served);

        (transport, session, handler) = Start(Options(timeoutSeconds: 0.3));
        run = session.RunAsync(handler);
        await transport.ClientOutput.WriteAsync(Frame(FdfsCommand.ActiveTest, 0)[..4], Ct);
        await run.WaitAsync(Ct);
        Assert.Empty(handler.Served);
    }

    [Fact]
    public async Task In_memory_bodies_are_bounded_and_a_short_body_is_refused()
    {
        var (transport, session, handler) = Start(Options());
        handler.Handle = async (s, request) =>
        {
            if (request.Cmd == FdfsCommand.SetMetadata)
            {
                await s.ReadSmallBodyAsync(request, minimum: 1); // 2000 > MaxInMemoryBody: EINVAL before reading
            }
            else
            {
                await s.ReadBodyAsync(8); // only 4 declared
            }

            return Errno.Ok;
        };

        byte[] replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.SetMetadata, 2000));
        Assert.Equal(Status(Errno.EINVAL), replies);

        (transport, session, handler) = Start(Options(closeOnInvalid: false));
        handler.Handle = async (s, _) =>
        {
            await s.ReadBodyAsync(8);
            s.Output.WriteStatus(Errno.Ok);
            return Errno.Ok;
        };
        replies = await RunToEndAsync(transport, session, handler, Frame(FdfsCommand.DeleteFile, 4), Frame(FdfsCommand.DeleteFile, 8));
        Assert.Equal([.. Status(Errno.EINVAL), .. PacketHeader.Response(0, 0).ToArray()], replies);
    }
}
