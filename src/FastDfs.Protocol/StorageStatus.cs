namespace FastDfs.Protocol;

/// <summary>Storage server states as the tracker records them (spec 11.1).</summary>
public enum StorageStatus : byte
{
    Init = 0,
    WaitSync = 1,
    Syncing = 2,
    IpChanged = 3,
    Deleted = 4,
    Offline = 5,
    Online = 6,
    Active = 7,
    Recovery = 9,
    None = 99,
}

public static class StorageStatusExtensions
{
    /// <summary>The names fdfs_monitor prints.</summary>
    public static string ToMonitorName(this StorageStatus status) => status switch
    {
        StorageStatus.Init => "INIT",
        StorageStatus.WaitSync => "WAIT_SYNC",
        StorageStatus.Syncing => "SYNCING",
        StorageStatus.IpChanged => "IP_CHANGED",
        StorageStatus.Deleted => "DELETED",
        StorageStatus.Offline => "OFFLINE",
        StorageStatus.Online => "ONLINE",
        StorageStatus.Active => "ACTIVE",
        StorageStatus.Recovery => "RECOVERY",
        StorageStatus.None => "NONE",
        _ => "UNKNOWN",
    };

    /// <summary>OFFLINE, ONLINE and ACTIVE count as "available" in stock's merge rules.</summary>
    public static bool IsAvailable(this StorageStatus status) =>
        status is StorageStatus.Offline or StorageStatus.Online or StorageStatus.Active;
}
