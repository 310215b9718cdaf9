using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;
using FastDfs.Storage.Tracking;
using FastDfs.TestSupport;

namespace FastDfs.Storage.Tests;

/// <summary>A store path on a real file system of a few MB that fills up while a file is being written to it.</summary>
public class DiskFullTests
{
    private const int MB = 1024 * 1024;

    private static async Task<(StorageServer Server, string BasePath)> StartAsync(SmallFileSystem small)
    {
        string basePath = Directory.CreateTempSubdirectory("fdfs-storage-").FullName;
        var config = TestStorage.MakeConfig(basePath) with
        {
            StorePaths = [new StorePath(small.Path), new StorePath(basePath)],
        };
        var server = new StorageServer(config);
        await server.StartAsync();
        // No tracker: allow the small path to be used up to its last byte.
        server.Context.Parameters = TrackerParameters.Default with { ReservedSpace = ReservedSpace.FromMegabytes(0) };
        return (server, basePath);
    }

    [Fact]
    public async Task A_disk_filling_up_mid_upload_answers_enospc_leaves_nothing_and_the_connection_serves_on()
    {
        using var small = SmallFileSystem.Mount(8);
        var (server, basePath) = await StartAsync(small);
        try
        {
            await using var client = await RawClient.ConnectAsync(server.EndPoint.Port, CancellationToken.None);
            var content = new byte[3 * MB];
            new Random(7).NextBytes(content);
            var body = Requests.Upload(content, "bin", storePath: 0);
            int first = UploadFileRequest.FixedSize + MB;
            await client.SendAsync(FdfsCommand.UploadFile, body[..first], declaredLength: body.Length);

            // Once the storage has written part of the file, the disk fills up under it.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!OpenFiles.PendingUnder(Path.Combine(small.Path, "data")).Any(f => f.Length > 0))
            {
                Assert.True(DateTime.UtcNow < deadline, "the upload never reached the disk");
                await Task.Delay(20);
            }

            string filler = small.Fill();
            await client.SendRawAsync(body[first..]);
            var (status, reply) = await client.ReceiveAsync();
            Assert.Equal(Errno.ENOSPC, status);
            Assert.Empty(reply);
            // Nothing of the upload is left on the small path: no temporary file, no half-written file, nothing held open.
            Assert.Empty(OpenFiles.PendingUnder(small.Path));
            Assert.DoesNotContain(Directory.EnumerateFiles(small.Path, "*", SearchOption.AllDirectories),
                f => f != filler && Path.GetFileName(f) != ".fastdfs_vars");

            // The same connection uploads to the other path, then wherever the storage chooses.
            var (okStatus, okBody) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload("fits"u8.ToArray(), "txt", storePath: 1));
            Assert.Equal(0, okStatus);
            string name = StoredFileResponse.Parse(okBody).LogicName;
            Assert.StartsWith("M01/", name);
            Assert.Equal("fits"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(basePath, "data", name[4..])));
            (okStatus, _) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload(new byte[100_000], "bin"));
            Assert.Equal(0, okStatus);

            // Room again: the small path takes uploads again.
            File.Delete(filler);
            await Task.Delay(600); // the free-space measurement is reused for half a second
            var (againStatus, againBody) = await client.RequestAsync(FdfsCommand.UploadFile, Requests.Upload(content, "bin", storePath: 0));
            Assert.Equal(0, againStatus);
            Assert.StartsWith("M00/", StoredFileResponse.Parse(againBody).LogicName);
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(basePath, recursive: true);
        }
    }

    [Fact]
    public async Task An_append_on_a_full_disk_answers_enospc_and_leaves_the_file_as_it_was()
    {
        using var small = SmallFileSystem.Mount(8);
        var (server, basePath) = await StartAsync(small);
        try
        {
            await using var client = await RawClient.ConnectAsync(server.EndPoint.Port, CancellationToken.None);
            var (status, body) = await client.RequestAsync(FdfsCommand.UploadAppenderFile, Requests.Upload("head"u8.ToArray(), "log", storePath: 0));
            Assert.Equal(0, status);
            string name = StoredFileResponse.Parse(body).LogicName;
            string filler = small.Fill();

            (status, _) = await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(name, new byte[2 * MB]));
            Assert.Equal(Errno.ENOSPC, status);
            string path = Path.Combine(small.Path, "data", name[4..]);
            Assert.Equal("head"u8.ToArray(), await File.ReadAllBytesAsync(path));

            File.Delete(filler);
            (status, _) = await client.RequestAsync(FdfsCommand.AppendFile, Requests.Append(name, "tail"u8.ToArray()));
            Assert.Equal(0, status);
            Assert.Equal("headtail"u8.ToArray(), await File.ReadAllBytesAsync(path));
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(basePath, recursive: true);
        }
    }
}
