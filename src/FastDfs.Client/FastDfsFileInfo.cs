namespace FastDfs.Client;

/// <summary>Kind of stored file, as fdfs_file_info classifies it from the name.</summary>
public enum FastDfsFileType
{
    Normal,
    Appender,
    Slave,
}

/// <summary>File attributes: decoded from the name for normal files, asked from the storage for appender/slave files.</summary>
/// <param name="SourceIpAddress">the storage that created the file (IPv4 text, or a numeric storage id)</param>
/// <param name="FromStorage">true when a storage answered (QUERY_FILE_INFO), false when decoded from the name</param>
public sealed record FastDfsFileInfo(
    FastDfsFileType Type,
    long FileSize,
    DateTimeOffset CreateTime,
    uint Crc32,
    string SourceIpAddress,
    bool FromStorage)
{
    /// <summary>The numeric storage id the name carries (files named by storage id), 0 when it carries an IPv4 address.</summary>
    public int SourceStorageId { get; init; }

    /// <summary>Unix seconds of <see cref="CreateTime"/>.</summary>
    public long CreateTimestamp => CreateTime.ToUnixTimeSeconds();
}
