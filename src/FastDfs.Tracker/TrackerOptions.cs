using System.Globalization;
using FastDfs.Protocol.Config;

namespace FastDfs.Tracker;

/// <summary>
/// The runtime settings the tracker uses, normalised from tracker.conf (stock code defaults).
/// Kept separate from the config record so tests can build a tracker without a file.
/// </summary>
public sealed record TrackerOptions
{
    /// <summary>Listen address; empty = all IPv4 addresses.</summary>
    public string BindAddr { get; init; } = "";

    /// <summary>Listen port; 0 picks a free port (see <see cref="TrackerServer.EndPoint"/>).</summary>
    public int Port { get; init; } = 22122;

    /// <summary>Largest accepted packet (10 + pkg_len); larger or negative lengths close the connection.</summary>
    public long MaxPackageSize { get; init; } = 256 * 1024;

    /// <summary>Largest response LIST_ALL_GROUPS / cluster stats may produce.</summary>
    public long MaxBuffSize { get; init; } = 256 * 1024;

    public int MaxConnections { get; init; } = 256;

    /// <summary>IP field width in responses: 16 (IPv4) or 46 (IPv6), spec 4.0.</summary>
    public int ResponseIpAddrSize { get; init; } = 16;

    /// <summary>0 round robin, 1 specified group, 2 load balance.</summary>
    public int StoreLookup { get; init; }

    public string StoreGroup { get; init; } = "";

    /// <summary>0 round robin, 1 first by IP, 2 first by priority.</summary>
    public int StoreServer { get; init; }

    /// <summary>0 round robin, 2 load balance.</summary>
    public int StorePath { get; init; }

    /// <summary>0 round robin, 1 source first.</summary>
    public int DownloadServer { get; init; }

    /// <summary>Reserved space: a ratio (0 &lt; r &lt; 1) when <see cref="ReservedIsRatio"/>, else MB.</summary>
    public bool ReservedIsRatio { get; init; }

    public long ReservedMb { get; init; } = 1024;

    public double ReservedRatio { get; init; }

    /// <summary>Seconds without heartbeat after which an ACTIVE storage turns OFFLINE.</summary>
    public int CheckActiveInterval { get; init; } = 100;

    public bool StorageIpChangedAutoAdjust { get; init; } = true;

    public int StorageSyncFileMaxDelay { get; init; } = 86400;

    public int StorageSyncFileMaxTime { get; init; } = 300;

    public bool UseTrunkFile { get; init; }

    public int SlotMinSize { get; init; } = 256;

    public int SlotMaxSize { get; init; } = 8 * 1024 * 1024;

    public int TrunkAllocAlignmentSize { get; init; }

    public int TrunkFileSize { get; init; } = 64 * 1024 * 1024;

    public bool TrunkCreateFileAdvance { get; init; }

    public TimeOnly TrunkCreateFileTimeBase { get; init; } = new(2, 0);

    public int TrunkCreateFileInterval { get; init; } = 86400;

    public long TrunkCreateFileSpaceThreshold { get; init; }

    public bool TrunkInitCheckOccupying { get; init; }

    public bool TrunkInitReloadFromBinlog { get; init; }

    public bool TrunkFreeSpaceMerge { get; init; }

    public bool DeleteUnusedTrunkFiles { get; init; }

    public int TrunkCompressBinlogMinInterval { get; init; }

    public int TrunkCompressBinlogInterval { get; init; }

    public TimeOnly TrunkCompressBinlogTimeBase { get; init; } = new(3, 0);

    public int TrunkBinlogMaxBackups { get; init; }

    public bool StoreSlaveFileUseLink { get; init; }

    /// <summary><c>http.server_port</c>: the built-in HTTP server (0 with <see cref="HttpConfig.Enabled"/> = any free port).</summary>
    public int HttpServerPort { get; init; } = TrackerConfig.DefaultHttpServerPort;

    /// <summary>The <c>http.*</c> keys; <see cref="HttpConfig.Enabled"/> turns the HTTP server on.</summary>
    public HttpConfig Http { get; init; } = HttpConfig.Default;

    /// <summary>The tracker settings of a stock tracker.conf.</summary>
    public static TrackerOptions FromConfig(TrackerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new TrackerOptions
        {
            BindAddr = config.BindAddr,
            Port = config.Port,
            MaxPackageSize = config.MaxPackageSize,
            MaxBuffSize = config.MaxBuffSize,
            MaxConnections = config.MaxConnections,
            // Storage ids are not supported yet, so "auto" always means 16 (spec 4.0).
            ResponseIpAddrSize = config.ResolveResponseIpAddrSize(storageIdsHaveIpv6: false),
            StoreLookup = (int)config.StoreLookup,
            StoreGroup = config.StoreGroup,
            StoreServer = (int)config.StoreServer,
            StorePath = (int)config.StorePath,
            DownloadServer = (int)config.DownloadServer,
            ReservedIsRatio = config.ReservedStorageSpace.IsRatio,
            ReservedMb = config.ReservedStorageSpace.Megabytes,
            ReservedRatio = config.ReservedStorageSpace.Ratio,
            CheckActiveInterval = config.CheckActiveInterval,
            StorageIpChangedAutoAdjust = config.StorageIpChangedAutoAdjust,
            StorageSyncFileMaxDelay = config.StorageSyncFileMaxDelay,
            StorageSyncFileMaxTime = config.StorageSyncFileMaxTime,
            UseTrunkFile = config.UseTrunkFile,
            SlotMinSize = config.SlotMinSize,
            SlotMaxSize = config.SlotMaxSize,
            TrunkAllocAlignmentSize = config.TrunkAllocAlignmentSize,
            TrunkFileSize = config.TrunkFileSize,
            TrunkCreateFileAdvance = config.TrunkCreateFileAdvance,
            TrunkCreateFileTimeBase = config.TrunkCreateFileTimeBase,
            TrunkCreateFileInterval = config.TrunkCreateFileInterval,
            TrunkCreateFileSpaceThreshold = config.TrunkCreateFileSpaceThreshold,
            TrunkInitCheckOccupying = config.TrunkInitCheckOccupying,
            TrunkInitReloadFromBinlog = config.TrunkInitReloadFromBinlog,
            TrunkFreeSpaceMerge = config.TrunkFreeSpaceMerge,
            DeleteUnusedTrunkFiles = config.DeleteUnusedTrunkFiles,
            TrunkCompressBinlogMinInterval = config.TrunkCompressBinlogMinInterval,
            TrunkCompressBinlogInterval = config.TrunkCompressBinlogInterval,
            TrunkCompressBinlogTimeBase = config.TrunkCompressBinlogTimeBase,
            TrunkBinlogMaxBackups = config.TrunkBinlogMaxBackups,
            StoreSlaveFileUseLink = config.StoreSlaveFileUseLink,
            HttpServerPort = config.HttpServerPort,
            Http = config.Http,
        };
    }

    /// <summary>reserved_storage_space as PARAMETER_REQ sends it: <c>20.00%</c> or <c>1024MB</c>.</summary>
    public string ReservedSpaceText => ReservedIsRatio
        ? (ReservedRatio * 100).ToString("F2", CultureInfo.InvariantCulture) + "%"
        : ReservedMb.ToString(CultureInfo.InvariantCulture) + "MB";

    /// <summary>Group check of spec 11.6.</summary>
    public bool GroupHasSpace(long freeMb, long totalMb) =>
        ReservedIsRatio ? totalMb != 0 && (double)freeMb / totalMb > ReservedRatio : freeMb > ReservedMb;

    /// <summary>Per store path check of spec 11.6.</summary>
    public bool PathHasSpace(long pathFreeMb, long pathTotalMb, int storePathCount) =>
        ReservedIsRatio
            ? pathTotalMb != 0 && (double)pathFreeMb / pathTotalMb > ReservedRatio
            : pathFreeMb > ReservedMb / Math.Max(1, storePathCount);

    /// <summary>The reserved MB reported in stats: the MB value, or total × ratio.</summary>
    public long ReservedMbFor(long totalMb) => ReservedIsRatio ? (long)(totalMb * ReservedRatio) : ReservedMb;
}
