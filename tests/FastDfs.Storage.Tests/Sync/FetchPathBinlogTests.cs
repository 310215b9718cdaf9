using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>FETCH_ONE_PATH_BINLOG (26): what a member recovering a disk is told it held, built as stock builds it.</summary>
public sealed class FetchPathBinlogTests
{
    [Fact]
    public async Task The_answer_lists_the_files_still_on_disk_with_renames_as_creates_and_links_with_their_target()
    {
        await using var storage = await TestStorage.StartAsync();
        string kept = await storage.UploadAsync("kept"u8.ToArray(), "txt");
        string deleted = await storage.UploadAsync("deleted"u8.ToArray(), "txt");
        string appender = await storage.UploadAsync("appender"u8.ToArray(), "log", appender: true);
        await using var client = await storage.ConnectAsync();
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.DeleteFile, Requests.GroupAndName(deleted))).Status);
        var (status, body) = await client.RequestAsync(FdfsCommand.RegenerateAppenderFilename, Encoding.ASCII.GetBytes(appender));
        Assert.Equal(0, status);
        string renamed = StoredFileResponse.Parse(body).LogicName;
        // A replica received from a peer (lower case) and a link to it, as SYNC_CREATE_LINK makes them.
        const string replica = "M00/00/00/fwAAAWdXAAAAAAAAAAAAAA1234567.bin";
        const string link = "M00/00/00/fwAAAWdXAAAAAAAAAAAAAA1234567_s.bin";
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(replica, "replica"u8.ToArray(), 1_700_000_000))).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SyncCreateLink, SyncBodies.TwoNames(link, replica, 1_700_000_001))).Status);
        // A replica that arrived whole by SYNC_UPDATE (convergent replication, anti-entropy) has no create record.
        const string updated = "M00/00/00/fwAAAWdXAAAAAAAAAAAAAA7654321.log";
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SyncUpdateFile, SyncBodies.Create(updated, "whole"u8.ToArray(), 1_700_000_002))).Status);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.SyncUpdateFile, SyncBodies.Create(updated, "whole again"u8.ToArray(), 1_700_000_003))).Status);

        (status, body) = await client.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 0).ToArray());
        Assert.Equal(0, status);
        var lines = Encoding.ASCII.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var records = lines.Select(l => l.Split(' ')).ToList();
        Assert.All(records, r => Assert.True(long.Parse(r[0]) > 0));
        Assert.Equal(
            [$"C {kept}", $"C {renamed}", $"c {replica}", $"l {link} M00/{replica[4..]}", $"c {updated}"],
            records.Select(r => string.Join(' ', r.Skip(1))));
        Assert.DoesNotContain(lines, l => l.Contains(deleted) || l.Contains(appender));

        // Refusals: another group, a store path we do not have, a wrong length (EINVAL closes the connection).
        Assert.Equal(Errno.EINVAL, (await client.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 1).ToArray())).Status);
        await using var other = await storage.ConnectAsync();
        Assert.Equal(Errno.EINVAL, (await other.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest("group9", 0).ToArray())).Status);
    }

    [Fact]
    public async Task A_stranger_gets_no_file_list()
    {
        await using var storage = await TestStorage.StartAsync();
        await storage.UploadAsync("secret"u8.ToArray(), "txt");
        var socket = new System.Net.Sockets.TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.9"), 0));
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, storage.Server.EndPoint.Port, storage.Timeout);
        await using var stranger = RawClient.Wrap(socket, storage.Timeout);
        var (status, body) = await stranger.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 0).ToArray());
        Assert.Equal(Errno.EPERM, status);
        Assert.Empty(body);
    }

    [Fact]
    public async Task While_a_member_recovers_a_disk_the_list_is_given_to_its_hosts_default_address_too()
    {
        // A stock storage that recovers connects from its host's default address, not from its registered one.
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync("needed"u8.ToArray(), "txt");
        storage.Server.Context.Group.Apply(new ChangeNotification(ChangeFlags.GroupServers, null, null,
        [
            new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1"),
            new StorageBrief(StorageStatus.Recovery, 0, "10.1.2.3", "10.1.2.3"),
        ]));
        var socket = new System.Net.Sockets.TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.9"), 0));
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, storage.Server.EndPoint.Port, storage.Timeout);
        await using var recovering = RawClient.Wrap(socket, storage.Timeout);
        var (status, body) = await recovering.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 0).ToArray());
        Assert.Equal(0, status);
        Assert.Contains($" C {name}", Encoding.ASCII.GetString(body));

        // The recovery over (the member ACTIVE again): refused.
        storage.Server.Context.Group.Apply(new ChangeNotification(ChangeFlags.GroupServers, null, null,
        [
            new StorageBrief(StorageStatus.Active, 0, "127.0.0.1", "127.0.0.1"),
            new StorageBrief(StorageStatus.Active, 0, "10.1.2.3", "10.1.2.3"),
        ]));
        (status, _) = await recovering.RequestAsync(FdfsCommand.FetchOnePathBinlog, new FetchPathBinlogRequest(TestStorage.Group, 0).ToArray());
        Assert.Equal(Errno.EPERM, status);
    }

    [Fact]
    public async Task FETCH_FILES_answers_many_files_in_one_reply_with_ENOENT_for_a_missing_one()
    {
        await using var storage = await TestStorage.StartAsync();
        string a = await storage.UploadAsync("first file"u8.ToArray(), "txt");
        string b = await storage.UploadAsync(new byte[300_000], "bin"); // beyond one sendfile piece of the small-reply path
        const string missing = "M00/00/00/fwAAAWdXAAAAAAAAAAAAAA0000000.bin";
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FetchFilesRequest.Command, new FetchFilesRequest(TestStorage.Group, [a, missing, b]).ToArray());
        Assert.Equal(0, status);
        var rest = body.AsSpan();
        Assert.Equal((byte)0, rest[0]);
        Assert.Equal(10, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(rest[1..]));
        Assert.Equal("first file"u8.ToArray(), rest.Slice(9, 10).ToArray());
        rest = rest[19..];
        Assert.Equal(Errno.ENOENT, rest[0]);
        Assert.Equal(0, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(rest[1..]));
        rest = rest[9..];
        Assert.Equal((byte)0, rest[0]);
        Assert.Equal(300_000, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(rest[1..]));
        Assert.Equal(9 + 300_000, rest.Length);

        // The same connection serves on; a malformed list is EINVAL.
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
        Assert.Equal(Errno.EINVAL, (await client.RequestAsync(FetchFilesRequest.Command, new byte[18])).Status);
    }
}
