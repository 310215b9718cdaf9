namespace FastDfs.Protocol.Config;

/// <summary><c>store_lookup</c>: how the tracker picks the group for an upload.</summary>
public enum StoreLookup
{
    RoundRobin = 0,
    SpecifiedGroup = 1,
    LoadBalance = 2,

    /// <summary>
    /// FastDFS.NET only (a stock tracker refuses 3): every group with space takes uploads, each in proportion to its
    /// available space (free above the reserved), damped by its storages' current connections against the groups'
    /// mean; the groups alternate (smooth weighted round robin), so none gets a burst.
    /// </summary>
    Weighted = 3,
}

/// <summary><c>store_server</c>: how the tracker picks the storage within the group for an upload.</summary>
public enum StoreServerSelection
{
    RoundRobin = 0,
    FirstByIp = 1,
    FirstByPriority = 2,
}

/// <summary><c>store_path</c>: how a storage picks the store path for an upload (sent in PARAMETER_REQ).</summary>
public enum StorePathSelection
{
    RoundRobin = 0,
    LoadBalance = 2,
}

/// <summary><c>download_server</c>: which storage the tracker offers for a download.</summary>
public enum DownloadServerSelection
{
    RoundRobin = 0,
    SourceFirst = 1,
}

/// <summary><c>id_type_in_filename</c>: what identifies the source storage inside a file name.</summary>
public enum FileNameIdType
{
    /// <summary><c>ip</c>: the storage's IPv4 address.</summary>
    Ip = 0,

    /// <summary><c>id</c>: the storage id from storage_ids.conf.</summary>
    Id = 1,
}
