namespace FastDfs.Protocol;

/// <summary>Fixed sizes and limits of the FastDFS 6.x wire protocol (spec section 2).</summary>
public static class ProtocolConstants
{
    public const int HeaderSize = 10;
    public const int PkgLenSize = 8;
    public const int GroupNameMaxLen = 16;
    public const int StorageIdMaxSize = 16;
    public const int Ipv4AddressSize = 16;
    public const int IpAddressSize = 46;
    public const int MaxIpPortSize = 52;
    public const int VersionSize = 8;
    public const int FileExtNameMaxLen = 6;
    public const int FilePrefixMaxLen = 16;
    public const int LogicFilePathLen = 10;
    public const int TrueFilePathLen = 6;
    public const int FilenameBase64Length = 27;
    public const int TrunkFileInfoLen = 16;
    public const int NormalLogicFilenameLength = 44;
    public const int TrunkFilenameLength = 56;
    public const int TrunkLogicFilenameLength = 60;
    public const int MaxMetaNameLen = 64;
    public const int MaxMetaValueLen = 256;
    public const int MaxServerId = 16777215;
    public const int MaxServersEachGroup = 32;
    public const int MaxGroups = 512;
    public const int MaxTrackers = 16;
    public const int TrackerMaxPackageSize = 8192;
    public const int StorageBriefSize = 67;
    public const int GroupStatSize = 113;
    public const int StorageStatBuffSize = 348;
    public const int DefaultTrackerPort = 22122;
    public const int DefaultStoragePort = 23000;
    public const long AppenderFileSizeFlag = 1L << 58;
    public const long TrunkFileMarkSize = 1L << 59;
    public const byte RecordSeparator = 0x01;
    public const byte FieldSeparator = 0x02;
    public const int TrunkHeaderSize = 24;

    /// <summary>The most metadata bytes an IMPORT_FILE request carries (read into memory before the content).</summary>
    public const int MaxImportMetadataLength = 1 << 20;

    /// <summary>Version string we announce in JOIN and stats (stock format, 8 bytes).</summary>
    public const string Version = "6.16.1";

    /// <summary>Storage stat record size in LIST_STORAGE for a given IP field size (16 or 46).</summary>
    public static int StorageStatSize(int ipAddrSize) => 487 - Ipv4AddressSize + ipAddrSize;
}
