using System.Buffers;
using System.IO.Pipelines;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.ServerCore.Transport;

namespace FastDfs.Storage.Tests;

/// <summary>The storage session over an in-memory transport: frames cut anywhere, pipelined, or malformed.</summary>
public sealed class InMemoryFrameTests
{
    internal static byte[] Frame(FdfsCommand command, ReadOnlySpan<byte> body, long? declared = null)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        new PacketHeader(declared ?? body.Length, command).WriteTo(frame);
        body.CopyTo(frame.AsSpan(ProtocolConstants.HeaderSize));
        return frame;
    }

    internal static async Task<(byte Status, byte[] Body)> ReplyAsync(PipeReader reader, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length >= ProtocolConstants.HeaderSize)
            {
                var header = PacketHeader.Read(buffer.Slice(0, ProtocolConstants.HeaderSize).ToArray());
                long total = ProtocolConstants.HeaderSize + header.BodyLength;
                if (buffer.Length >= total)
                {
                    byte[] body = buffer.Slice(ProtocolConstants.HeaderSize, header.BodyLength).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(total));
                    return (header.Status, body);
                }
            }

            Assert.False(result.IsCompleted, "the session closed before a whole reply");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    [Fact]
    public async Task Frames_cut_into_single_bytes_or_pipelined_are_served_and_a_malformed_one_ends_the_session()
    {
        await using var storage = await TestStorage.StartAsync();
        var transport = new PipeTransport();
        var session = storage.Server.ServeAsync(transport);
        var ct = storage.Timeout;
        byte[] content = "delivered one byte at a time"u8.ToArray();

        foreach (byte b in Frame(FdfsCommand.UploadFile, Requests.Upload(content, "txt")))
        {
            await transport.ClientOutput.WriteAsync(new[] { b }, ct);
        }

        var (status, body) = await ReplyAsync(transport.ClientInput, ct);
        Assert.Equal(0, status);
        string name = StoredFileResponse.Parse(body).LogicName;
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(name)));

        // Three requests in one write: three replies, in order (the download sent as a file range).
        byte[] pipelined = [.. Frame(FdfsCommand.ActiveTest, []), .. Frame(FdfsCommand.DownloadFile, Requests.Download(name)), .. Frame(FdfsCommand.ActiveTest, [])];
        await transport.ClientOutput.WriteAsync(pipelined, ct);
        Assert.Equal((byte)0, (await ReplyAsync(transport.ClientInput, ct)).Status);
        var download = await ReplyAsync(transport.ClientInput, ct);
        Assert.Equal(content, download.Body);
        Assert.Equal((byte)0, (await ReplyAsync(transport.ClientInput, ct)).Status);

        // A negative body length: EINVAL, and the session ends.
        await transport.ClientOutput.WriteAsync(Frame(FdfsCommand.UploadFile, [], declared: -5), ct);
        Assert.Equal(Errno.EINVAL, (await ReplyAsync(transport.ClientInput, ct)).Status);
        await session.WaitAsync(TimeSpan.FromSeconds(10), ct);
        await transport.DisposeAsync();
    }

    [Theory]
    [InlineData(FdfsCommand.UploadFile)]
    [InlineData(FdfsCommand.SyncCreateFile)]
    [InlineData(FdfsCommand.SyncAppendFile)]
    public async Task A_body_cut_off_by_the_client_ends_the_session_cleanly_and_leaves_no_file(FdfsCommand command)
    {
        // Found by the in-memory fuzzer: the end of input inside a body left a read pending (and was answered as a disk
        // error), so the session died on its next read instead of ending.
        await using var storage = await TestStorage.StartAsync();
        byte[] content = new byte[5000];
        Random.Shared.NextBytes(content);
        string appender = await storage.UploadAsync([1, 2, 3], "bin", appender: true);
        const string replicaName = "M00/00/00/wKgAAWdXAAAAAAAAAAAAAA1234567.bin";
        byte[] body = command switch
        {
            FdfsCommand.UploadFile => Requests.Upload(content, "bin"),
            FdfsCommand.SyncCreateFile => Sync.SyncBodies.Create(replicaName, content, 1_700_000_000),
            _ => Sync.SyncBodies.Range(appender, 3, content, 1_700_000_000),
        };
        var filesBefore = FilesOutsideTheState(storage);

        var transport = new PipeTransport();
        var session = storage.Server.ServeAsync(transport);
        await transport.ClientOutput.WriteAsync(Frame(command, body).AsMemory(0, ProtocolConstants.HeaderSize + body.Length - 1000), storage.Timeout);
        await transport.ClientOutput.CompleteAsync();
        await session.WaitAsync(TimeSpan.FromSeconds(10), storage.Timeout); // ends, and without an exception
        await transport.DisposeAsync();

        var filesAfter = FilesOutsideTheState(storage);
        Assert.Equal(filesBefore.Order(), filesAfter.Order());
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(storage.FullPath(appender)));
        Assert.Equal(0, (await (await storage.ConnectAsync()).RequestAsync(FdfsCommand.ActiveTest, [])).Status);
    }

    /// <summary>
    /// The files of the base path but the server's own state (binlogs, <c>*.dat</c>, and the <c>*.dat.tmp</c> a state file is
    /// written to before its rename: the stat file is saved every second here, and one seen half-way failed a CI run; the
    /// disk health check's probe file, written and removed every few seconds, failed one too).
    /// </summary>
    private static HashSet<string> FilesOutsideTheState(TestStorage storage) =>
        Directory.EnumerateFiles(storage.BasePath, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("binlog", StringComparison.Ordinal) && !f.EndsWith(".dat", StringComparison.Ordinal) &&
                        !f.EndsWith(".dat.tmp", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith(".data_init_flag", StringComparison.Ordinal) &&
                        Path.GetFileName(f) != ".health_probe")
            .ToHashSet();
}
