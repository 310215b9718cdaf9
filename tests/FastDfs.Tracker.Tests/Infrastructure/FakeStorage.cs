using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Tests.Infrastructure;

/// <summary>Sends what a real storage sends on its long-lived tracker connection (JOIN, BEAT, DISK_USAGE...).</summary>
public sealed class FakeStorage(RawConnection connection, string group, int port, int storePathCount, long uploadPriority)
    : IAsyncDisposable
{
    public RawConnection Connection { get; } = connection;
    public string Group { get; } = group;
    public int Port { get; } = port;

    public StorageJoinResponse Joined { get; private set; }

    /// <summary>The tracker list sent in JOIN (the trackers learn their peers from it): by default the one connected to.</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [$"127.0.0.1:{connection.RemoteEndPoint.Port}"];

    /// <summary>When the storage process started (JOIN's up_time, unix seconds).</summary>
    public long UpTime { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10;

    public StorageJoinRequest Request(bool initFlag, sbyte status) => new()
    {
        GroupName = Group,
        StoragePort = Port,
        StorePathCount = storePathCount,
        SubdirCountPerPath = 256,
        UploadPriority = uploadPriority,
        JoinTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 100,
        UpTime = UpTime,
        InitFlag = initFlag,
        Status = status,
        CurrentTrackerIp = "127.0.0.1",
        Trackers = Trackers,
    };

    public async Task JoinAsync(bool initFlag, sbyte status)
    {
        var body = await Connection.RequestOkAsync(FdfsCommand.StorageJoin, Request(initFlag, status).ToArray());
        Joined = StorageJoinResponse.Parse(body);
    }

    public async Task<ChangeNotification> BeatAsync(StorageStatCounters? counters = null)
    {
        byte[] body = [];
        if (counters is not null)
        {
            body = new byte[StorageStatCounters.Size];
            counters.Write(body);
        }

        return ChangeNotification.Parse(await Connection.RequestOkAsync(FdfsCommand.StorageBeat, body));
    }

    public async Task<ChangeNotification> ReportDiskUsageAsync(params (long TotalMb, long FreeMb)[] paths)
    {
        var body = new byte[16 * paths.Length];
        var w = new SpanWriter(body);
        foreach (var (total, free) in paths)
        {
            w.WriteInt64(total);
            w.WriteInt64(free);
        }

        return ChangeNotification.Parse(await Connection.RequestOkAsync(FdfsCommand.StorageReportDiskUsage, body));
    }

    public async Task SyncReportAsync(params (string SourceId, int Timestamp)[] entries)
    {
        var body = new byte[20 * entries.Length];
        var w = new SpanWriter(body);
        foreach (var (id, ts) in entries)
        {
            w.WriteFixed(id, ProtocolConstants.StorageIdMaxSize);
            w.WriteInt32(ts);
        }

        ChangeNotification.Parse(await Connection.RequestOkAsync(FdfsCommand.StorageSyncReport, body));
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
