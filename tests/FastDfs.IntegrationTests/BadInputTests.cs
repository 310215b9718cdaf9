using System.Buffers.Binary;
using System.Net.Sockets;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests;

/// <summary>Malformed input gets an error status or a closed connection, and the cluster keeps serving.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private FileId _existing;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(ct: Timeouts.Test());
        await using var client = _cluster.CreateClient();
        _existing = await client.UploadAsync("still here"u8.ToArray(), "txt");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static byte[] Frame(long bodyLength, byte command, ReadOnlySpan<byte> body = default)
    {
        var frame = new byte[10 + body.Length];
        BinaryPrimitives.WriteInt64BigEndian(frame, bodyLength);
        frame[8] = command;
        body.CopyTo(frame.AsSpan(10));
        return frame;
    }

    /// <summary>Sends raw bytes; returns the reply header's status, or null when the server closed without one.</summary>
    private static async Task<byte?> SendRawAsync(int port, byte[] bytes, bool halfClose = false)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var ct = Timeouts.Test(20);
        await socket.ConnectAsync("127.0.0.1", port, ct);
        await socket.SendAsync(bytes, ct);
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var header = new byte[10];
        int read = 0;
        while (read < 10)
        {
            int n = await socket.ReceiveAsync(header.AsMemory(read), ct);
            if (n == 0)
            {
                return null;
            }

            read += n;
        }

        return header[9];
    }

    private async Task AssertClusterStillServesAsync()
    {
        await using var client = _cluster.CreateClient();
        Assert.Equal("still here"u8.ToArray(), await client.DownloadBytesAsync(_existing));
        var id = await client.UploadAsync("new"u8.ToArray(), "txt");
        Assert.Equal("new"u8.ToArray(), await client.DownloadBytesAsync(id));
    }

    public static TheoryData<long> AbsurdLengths() => new() { -1, long.MinValue, 1L << 32, 1L << 62 };

    [Theory]
    [MemberData(nameof(AbsurdLengths))]
    public async Task AbsurdBodyLengthsAreRefusedAtOnceByTrackerAndStorage(long length)
    {
        Assert.Null(await SendRawAsync(_cluster.Tracker.EndPoint.Port, Frame(length, (byte)FdfsCommand.QueryStoreWithoutGroupOne)));
        byte? storage = await SendRawAsync(_cluster.Storages[0].EndPoint.Port, Frame(length, (byte)FdfsCommand.DownloadFile));
        Assert.True(storage is null or Errno.EINVAL, $"storage answered {storage}");
        await AssertClusterStillServesAsync();
    }

    [Fact]
    public async Task UnknownCommandsAreEinval()
    {
        Assert.Equal(Errno.EINVAL, await SendRawAsync(_cluster.Tracker.EndPoint.Port, Frame(0, 253)));
        Assert.Equal(Errno.EINVAL, await SendRawAsync(_cluster.Storages[0].EndPoint.Port, Frame(0, 253)));
        await AssertClusterStillServesAsync();
    }

    [Fact]
    public async Task ATruncatedHeaderOrBodyDoesNotHurtTheServers()
    {
        Assert.Null(await SendRawAsync(_cluster.Tracker.EndPoint.Port, [0, 0, 0], halfClose: true));
        // The upload's declared file size (0) does not match pkg_len: refused at once (EINVAL) or closed.
        byte? storage = await SendRawAsync(_cluster.Storages[0].EndPoint.Port, Frame(100, (byte)FdfsCommand.UploadFile, new byte[20]), halfClose: true);
        Assert.True(storage is null or Errno.EINVAL, $"storage answered {storage}");
        await AssertClusterStillServesAsync();
    }

    [Theory]
    [InlineData("M00/00/00/../../../../etc/passwd")]
    [InlineData("M00/00/00/..")]
    [InlineData("M00/../../etc/passwd")]
    [InlineData("../../etc/passwd")]
    [InlineData("M05/00/00/abcdefghijklmnop")]
    public async Task NamesThatTryToLeaveTheStorePathReadNothing(string logicName)
    {
        var request = new Protocol.Messages.DownloadFileRequest(0, 0, "group1", logicName);
        var body = new byte[request.Size];
        request.Write(body);
        byte? status = await SendRawAsync(_cluster.Storages[0].EndPoint.Port, Frame(body.Length, (byte)FdfsCommand.DownloadFile, body));
        Assert.True(status is Errno.EINVAL or Errno.ENOENT or Errno.EISDIR, $"status {status}");
        await AssertClusterStillServesAsync();
    }

    [Fact]
    public async Task AWrongGroupIsEinval()
    {
        // For a malformed name (a well-formed one is looked up under any group's name: files moved between groups).
        var request = new Protocol.Messages.DownloadFileRequest(0, 0, "group9", "M00/ZZ/00/" + _existing.LogicName[10..]);
        var body = new byte[request.Size];
        request.Write(body);
        Assert.Equal(Errno.EINVAL, await SendRawAsync(_cluster.Storages[0].EndPoint.Port, Frame(body.Length, (byte)FdfsCommand.DownloadFile, body)));
        await using var client = _cluster.CreateClient();
        var error = await Assert.ThrowsAsync<Client.FastDfsException>(() => client.DownloadBytesAsync(new FileId("group9", _existing.LogicName)));
        Assert.Equal(Errno.ENOENT, error.ErrorCode); // the tracker knows no group9
        await AssertClusterStillServesAsync();
    }
}
