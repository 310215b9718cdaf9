using System.Buffers;
using FastDfs.Protocol;
using FastDfs.ServerCore.Transport;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests;

/// <summary>The tracker session over an in-memory transport: frames cut anywhere and pipelined.</summary>
public sealed class InMemoryFrameTests
{
    private static byte[] Frame(FdfsCommand command, ReadOnlySpan<byte> body)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        new PacketHeader(body.Length, command).WriteTo(frame);
        body.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
        return frame;
    }

    [Fact]
    public async Task Frames_cut_into_single_bytes_and_pipelined_frames_are_answered_in_order()
    {
        await using var tracker = await TestTracker.StartAsync();
        var transport = new PipeTransport();
        var session = tracker.Server.ServeAsync(transport);
        byte[] frames = [.. Frame(FdfsCommand.QueryStoreWithoutGroupOne, []), .. Frame(FdfsCommand.ActiveTest, []), .. Frame(FdfsCommand.ServerListAllGroups, [])];
        foreach (byte b in frames)
        {
            await transport.ClientOutput.WriteAsync(new[] { b }, tracker.Ct);
        }

        // No storage yet: ENOENT, then ACTIVE_TEST's empty OK, then an empty group list.
        byte[] expected = [.. PacketHeaderBytes(0, Errno.ENOENT), .. PacketHeaderBytes(0, 0), .. PacketHeaderBytes(0, 0)];
        var received = new List<byte>();
        while (received.Count < expected.Length)
        {
            var result = await transport.ClientInput.ReadAsync(tracker.Ct);
            received.AddRange(result.Buffer.ToArray());
            transport.ClientInput.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(expected, received);
        await transport.ClientOutput.CompleteAsync();
        await session.WaitAsync(TimeSpan.FromSeconds(10), tracker.Ct);
        await transport.DisposeAsync();
    }

    private static byte[] PacketHeaderBytes(long length, byte status) => PacketHeader.Response(length, status).ToArray();
}
