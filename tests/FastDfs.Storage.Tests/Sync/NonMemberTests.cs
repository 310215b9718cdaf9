using System.Net;
using System.Net.Sockets;
using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>Storage-to-storage commands from a host that is not a member of the group are refused and change nothing.</summary>
public sealed class NonMemberTests
{
    private static async Task<RawClient> ConnectFromAsync(TestStorage storage, string address)
    {
        var client = new TcpClient(new IPEndPoint(IPAddress.Parse(address), 0));
        await client.ConnectAsync(IPAddress.Loopback, storage.Server.EndPoint.Port, storage.Timeout);
        return RawClient.Wrap(client, storage.Timeout);
    }

    [Fact]
    public async Task A_strangers_sync_and_trunk_commands_are_refused_with_eperm()
    {
        await using var storage = await TestStorage.StartAsync();
        string victim = await storage.UploadAsync("precious"u8.ToArray());
        await using var stranger = await ConnectFromAsync(storage, "127.0.0.9");

        var (status, _) = await stranger.RequestAsync(FdfsCommand.SyncUpdateFile, SyncBodies.Create(victim, "overwritten"u8.ToArray(), 1795479441));
        Assert.Equal(Errno.EPERM, status);
        (status, _) = await stranger.RequestAsync(FdfsCommand.SyncDeleteFile, SyncBodies.Delete(victim, 1795479441));
        Assert.Equal(Errno.EPERM, status);
        (status, _) = await stranger.RequestAsync(FdfsCommand.SyncTruncateFile, SyncBodies.Truncate(victim, 8, 0, 1795479441));
        Assert.Equal(Errno.EPERM, status);
        (status, _) = await stranger.RequestAsync(FdfsCommand.ReportServerId, new byte[ProtocolConstants.StorageIdMaxSize]);
        Assert.Equal(Errno.EPERM, status);
        (status, _) = await stranger.RequestAsync(FdfsCommand.TrunkFreeSpace, new byte[16 + 15]);
        Assert.Equal(Errno.EPERM, status);
        Assert.Equal("precious"u8.ToArray(), await File.ReadAllBytesAsync(storage.FullPath(victim)));

        // The stranger may still be a client (upload, download), and a member still syncs.
        (status, _) = await stranger.RequestAsync(FdfsCommand.DownloadFile, Requests.Download(victim));
        Assert.Equal(0, status);
        await using var member = await storage.ConnectAsync();
        (status, _) = await member.RequestAsync(FdfsCommand.SyncDeleteFile, SyncBodies.Delete(victim, 1795479441));
        Assert.Equal(0, status);
    }

    [Fact]
    public async Task The_administration_commands_answer_only_members_trackers_and_admin_hosts()
    {
        await using var storage = await TestStorage.StartAsync();
        await storage.UploadAsync("listed"u8.ToArray());
        var listing = ListFiles.Request(TestStorage.Group, ListFilesOptions.None, 100, "", "");
        await using (var stranger = await ConnectFromAsync(storage, "127.0.0.9"))
        {
            Assert.Equal(Errno.EPERM, (await stranger.RequestAsync(ListFiles.Command, listing)).Status);
            Assert.Equal(Errno.EPERM, (await stranger.RequestAsync(IntegrityQuery.Command, [])).Status);
            Assert.Equal(Errno.EPERM, (await stranger.RequestAsync(ScrubStart.Command, new byte[8])).Status);
        }

        // 127.0.0.1 is in the default admin_hosts (and plays a member here).
        await using var admin = await storage.ConnectAsync();
        var (status, body) = await admin.RequestAsync(ListFiles.Command, listing);
        Assert.Equal(0, status);
        Assert.Single(ListFiles.ParseResponse(body).Files);
    }
}
