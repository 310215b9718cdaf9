using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Tests.Infrastructure;

/// <summary>Request bodies and queries the tests send as a client would.</summary>
public static class Frames
{
    public static byte[] Group(string name)
    {
        var body = new byte[ProtocolConstants.GroupNameMaxLen];
        FixedString.Write(body, name);
        return body;
    }

    public static byte[] GroupAnd(string group, string text)
    {
        var body = new byte[ProtocolConstants.GroupNameMaxLen + text.Length];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), group);
        System.Text.Encoding.ASCII.GetBytes(text, body.AsSpan(ProtocolConstants.GroupNameMaxLen));
        return body;
    }

    /// <summary>group[16] + storage id[16], as SYNC_SRC_REQ sends them.</summary>
    public static byte[] GroupAndId(string group, string id)
    {
        var body = new byte[ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), group);
        FixedString.Write(body.AsSpan(ProtocolConstants.GroupNameMaxLen), id);
        return body;
    }

    /// <summary>A normal 44-character logic name uploaded to <paramref name="sourceIp"/> at <paramref name="timestamp"/>.</summary>
    public static string FileName(string sourceIp, long timestamp, bool appender = false) =>
        FileNameCodec.BuildLogicName(0, 0, 0, FileNameCodec.SourceFromIp(sourceIp), (int)timestamp,
            FileNameCodec.MakeSizeField(appender ? 0 : 14, appender, trunk: false, random23: 12345), 0x1234, "000.txt");

    public static async Task<QueryStoreResponse> QueryStoreAsync(this RawConnection c, string? group = null)
    {
        var body = group is null
            ? await c.RequestOkAsync(FdfsCommand.QueryStoreWithoutGroupOne)
            : await c.RequestOkAsync(FdfsCommand.QueryStoreWithGroupOne, Group(group));
        Assert.Equal(40, body.Length);
        return QueryStoreResponse.Parse(body);
    }

    public static async Task<List<StorageStat>> ListStoragesAsync(this RawConnection c, string group, string? id = null)
    {
        var body = await c.RequestOkAsync(FdfsCommand.ServerListStorage, id is null ? Group(group) : GroupAnd(group, id));
        return StorageStat.ParseList(body);
    }

    public static async Task<StorageStatus> StatusOfStorageAsync(this RawConnection c, string group, string id) =>
        (await c.ListStoragesAsync(group, id)).Single().Status;
}
