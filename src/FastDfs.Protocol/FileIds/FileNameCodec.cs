using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FastDfs.Protocol.FileIds;

/// <summary>Location of a file stored inside a trunk file (spec 9.7).</summary>
public readonly record struct TrunkLocation(int TrunkId, int Offset, int AllocSize);

/// <summary>Everything a logic file name encodes (spec 9.1-9.7), decoded exactly as stock clients do.</summary>
public sealed record FileNameInfo
{
    public required int StorePathIndex { get; init; }
    public required int SubHigh { get; init; }
    public required int SubLow { get; init; }

    /// <summary>The 4 raw source bytes (IPv4 octets in order, or a little-endian numeric storage id).</summary>
    public required uint SourceRaw { get; init; }

    /// <summary>Decoded source: an IPv4 text, or a decimal storage id when <see cref="SourceIsStorageId"/>.</summary>
    public required string Source { get; init; }
    public required bool SourceIsStorageId { get; init; }
    public required int Timestamp { get; init; }
    public required long SizeField { get; init; }
    public required uint Crc32 { get; init; }
    public required bool IsAppender { get; init; }
    public required bool IsTrunk { get; init; }
    public required bool IsSlave { get; init; }

    /// <summary>File size from the name (0 for appenders; for slaves it is the master's).</summary>
    public required long FileSize { get; init; }
    public TrunkLocation? Trunk { get; init; }

    /// <summary>Everything after the encoded part(s): the 7-character formatted extension for normal names.</summary>
    public required string Tail { get; init; }

    public DateTimeOffset CreateTime => DateTimeOffset.FromUnixTimeSeconds(Timestamp);
}

/// <summary>
/// Encodes and decodes FastDFS logic file names (<c>M00/00/00/&lt;27 b64&gt;&lt;ext7&gt;</c>) and the
/// 20-byte record they carry: source, timestamp, size field with flags, crc32.
/// </summary>
public static class FileNameCodec
{
    private const uint FlagHigh = 0x80000000;
    private const uint AppenderHigh = 0x04000000;
    private const uint TrunkHigh = 0x08000000;

    /// <summary>Source bytes for an IPv4 address as the storage's own tracker-facing IP (network order).</summary>
    public static uint SourceFromIp(string ip)
    {
        if (IPAddress.TryParse(ip, out var address))
        {
            Span<byte> bytes = stackalloc byte[16];
            if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _))
            {
                return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            }

            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.TryWriteBytes(bytes, out _))
            {
                // IPv6 storage without ids: bytes 8..11 of the address (spec 9.2).
                return BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            }
        }

        throw new ArgumentException($"not an IP address: '{ip}'", nameof(ip));
    }

    /// <summary>Source bytes for a numeric storage id (written little-endian, spec 9.2).</summary>
    public static uint SourceFromStorageId(int id)
    {
        if (id <= 0 || id > ProtocolConstants.MaxServerId)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "numeric storage ids are 1..16777215");
        }

        return (uint)id;
    }

    /// <summary>Decodes the source field: a storage id when 0 &lt; v &lt;= 2^24-1, else IPv4 octets (stock rule).</summary>
    public static (string Source, bool IsStorageId) DecodeSource(uint raw)
    {
        if (raw > 0 && raw <= ProtocolConstants.MaxServerId)
        {
            return (raw.ToString(System.Globalization.CultureInfo.InvariantCulture), true);
        }

        return ($"{raw & 0xFF}.{(raw >> 8) & 0xFF}.{(raw >> 16) & 0xFF}.{raw >> 24}", false);
    }

    /// <summary>Builds the 64-bit size field with stock's random high bits (spec 9.3).</summary>
    public static long MakeSizeField(long fileSize, bool appender, bool trunk, int random23)
    {
        uint rand = (uint)random23 & 0x007FFFFF;
        if (appender)
        {
            return (long)(((ulong)(FlagHigh | AppenderHigh | rand)) << 32);
        }

        if (trunk)
        {
            return (long)((((ulong)(FlagHigh | TrunkHigh | rand)) << 32) | (uint)fileSize);
        }

        if (fileSize > uint.MaxValue)
        {
            return fileSize;
        }

        return (long)((((ulong)(FlagHigh | rand)) << 32) | (uint)fileSize);
    }

    public static bool IsAppenderSizeField(long sizeField) => (sizeField & ProtocolConstants.AppenderFileSizeFlag) != 0;

    public static bool IsTrunkSizeField(long sizeField) => (sizeField & ProtocolConstants.TrunkFileMarkSize) != 0;

    /// <summary>The real size a size field encodes (spec 9.3 reader rules).</summary>
    public static long SizeFromField(long sizeField)
    {
        if (IsAppenderSizeField(sizeField))
        {
            return sizeField & 0xFFFFFFFFL;
        }

        if (sizeField < 0 || IsTrunkSizeField(sizeField))
        {
            return sizeField & 0xFFFFFFFFL;
        }

        return sizeField;
    }

    /// <summary>
    /// The size and CRC32 a name promises for its content: a normal or trunk-stored file's name does; an appender's, a
    /// slave's or a metadata file's does not. Stock tells a slave by the name's length alone, and a slave with a short
    /// prefix and extension is no longer than a normal name (<c>…4214.jpg</c> + <c>_s</c> = 42 characters), so a
    /// promise is taken only from a name of exactly a normal or trunk name's length whose last 7 characters are a
    /// formatted extension (<c>1234567</c>, <c>123.jpg</c>, <c>.tar.gz</c>). A reader should count as damage only a
    /// copy of the promised size whose CRC32 differs: a slave that passes both tests needs a digits-only prefix and the
    /// master's exact size.
    /// </summary>
    public static bool TryGetContentPromise(string logicName, out long size, out uint crc32)
    {
        size = 0;
        crc32 = 0;
        if (logicName.Length is not (ProtocolConstants.NormalLogicFilenameLength or ProtocolConstants.TrunkLogicFilenameLength) ||
            !IsFormattedExtension(logicName.AsSpan(logicName.Length - 7)) ||
            !TryDecode(logicName, out var info) || info.IsAppender || info.IsSlave ||
            info.IsTrunk != (logicName.Length == ProtocolConstants.TrunkLogicFilenameLength))
        {
            return false;
        }

        size = info.FileSize;
        crc32 = info.Crc32;
        return true;
    }

    /// <summary>Stock's 7-character extension area: 7 digits, or (6 - n) digits, a dot and an n-character extension.</summary>
    public static bool IsFormattedExtension(ReadOnlySpan<char> tail)
    {
        if (tail.Length != 7)
        {
            return false;
        }

        int dot = tail.IndexOf('.');
        var digits = dot < 0 ? tail : tail[..dot];
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return dot < 0 || (dot < 6 && IsValidExtOrPrefix(tail[(dot + 1)..]));
    }

    /// <summary>Stock's slave test, by the length of the logic name alone (spec 9.3).</summary>
    public static bool IsSlaveName(int logicNameLength, bool trunk) =>
        logicNameLength > ProtocolConstants.TrunkLogicFilenameLength ||
        (logicNameLength > ProtocolConstants.NormalLogicFilenameLength && !trunk);

    /// <summary>The 7-character extension area: (6 - len) random digits + '.' + ext, or 7 digits.</summary>
    public static string FormatExtension(string? ext, Random random)
    {
        ext ??= string.Empty;
        if (ext.Length > ProtocolConstants.FileExtNameMaxLen)
        {
            throw new ArgumentException("file extension longer than 6 characters", nameof(ext));
        }

        Span<char> chars = stackalloc char[7];
        int digits = ext.Length == 0 ? 7 : 6 - ext.Length;
        for (int i = 0; i < digits; i++)
        {
            chars[i] = (char)('0' + random.Next(10));
        }

        if (ext.Length > 0)
        {
            chars[digits] = '.';
            ext.AsSpan().CopyTo(chars[(digits + 1)..]);
        }

        return new string(chars);
    }

    /// <summary>Allowed extension / prefix characters: [A-Za-z0-9._-].</summary>
    public static bool IsValidExtOrPrefix(ReadOnlySpan<char> value)
    {
        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes the 20-byte record (spec 9.2).</summary>
    public static void Write20(Span<byte> destination, uint sourceRaw, int timestamp, long sizeField, uint crc32)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, sourceRaw);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], timestamp);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], sizeField);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], crc32);
    }

    /// <summary>Builds a logic name <c>Mpp/HH/LL/&lt;27&gt;[&lt;16 trunk&gt;]&lt;ext7&gt;</c>.</summary>
    public static string BuildLogicName(
        int storePathIndex, int subHigh, int subLow, uint sourceRaw, int timestamp, long sizeField, uint crc32,
        string formattedExt, TrunkLocation? trunk = null)
    {
        Span<byte> record = stackalloc byte[20];
        Write20(record, sourceRaw, timestamp, sizeField, crc32);
        Span<char> name = stackalloc char[10 + 27 + 16 + formattedExt.Length];
        int o = 0;
        WritePathPrefix(name, storePathIndex, subHigh, subLow);
        o += 10;
        o += FdfsBase64.Encode(record, name[o..]);
        if (trunk is { } t)
        {
            Span<byte> info = stackalloc byte[12];
            BinaryPrimitives.WriteInt32BigEndian(info, t.TrunkId);
            BinaryPrimitives.WriteInt32BigEndian(info[4..], t.Offset);
            BinaryPrimitives.WriteInt32BigEndian(info[8..], t.AllocSize);
            o += FdfsBase64.Encode(info, name[o..]);
        }

        formattedExt.AsSpan().CopyTo(name[o..]);
        o += formattedExt.Length;
        return new string(name[..o]);
    }

    private static void WritePathPrefix(Span<char> name, int storePathIndex, int subHigh, int subLow)
    {
        const string hex = "0123456789ABCDEF";
        name[0] = 'M';
        name[1] = hex[(storePathIndex >> 4) & 0xF];
        name[2] = hex[storePathIndex & 0xF];
        name[3] = '/';
        name[4] = hex[(subHigh >> 4) & 0xF];
        name[5] = hex[subHigh & 0xF];
        name[6] = '/';
        name[7] = hex[(subLow >> 4) & 0xF];
        name[8] = hex[subLow & 0xF];
        name[9] = '/';
    }

    /// <summary>Decodes a logic name (without the group). Throws <see cref="FormatException"/> when it cannot.</summary>
    public static FileNameInfo Decode(string logicName)
    {
        if (!TryDecode(logicName, out var info))
        {
            throw new FormatException($"not a FastDFS file name: '{logicName}'");
        }

        return info;
    }

    public static bool TryDecode(string logicName, out FileNameInfo info)
    {
        info = null!;
        if (logicName.Length < ProtocolConstants.LogicFilePathLen + ProtocolConstants.FilenameBase64Length ||
            logicName[0] != 'M' || logicName[3] != '/' || logicName[6] != '/' || logicName[9] != '/' ||
            !TryHex(logicName.AsSpan(1, 2), out int storePath) ||
            !TryHex(logicName.AsSpan(4, 2), out int subHigh) ||
            !TryHex(logicName.AsSpan(7, 2), out int subLow))
        {
            return false;
        }

        Span<byte> record = stackalloc byte[21];
        if (!FdfsBase64.TryDecode(logicName.AsSpan(10, 27), record, out int n) || n < 20)
        {
            return false;
        }

        uint sourceRaw = BinaryPrimitives.ReadUInt32LittleEndian(record);
        int timestamp = BinaryPrimitives.ReadInt32BigEndian(record[4..]);
        long sizeField = BinaryPrimitives.ReadInt64BigEndian(record[8..]);
        uint crc = BinaryPrimitives.ReadUInt32BigEndian(record[16..]);
        bool appender = IsAppenderSizeField(sizeField);
        bool trunk = IsTrunkSizeField(sizeField);
        TrunkLocation? location = null;
        int tailStart = 37;
        if (trunk && logicName.Length >= ProtocolConstants.TrunkLogicFilenameLength)
        {
            Span<byte> infoBytes = stackalloc byte[13];
            if (FdfsBase64.TryDecode(logicName.AsSpan(37, 16), infoBytes, out int m) && m >= 12)
            {
                location = new TrunkLocation(
                    BinaryPrimitives.ReadInt32BigEndian(infoBytes),
                    BinaryPrimitives.ReadInt32BigEndian(infoBytes[4..]),
                    BinaryPrimitives.ReadInt32BigEndian(infoBytes[8..]));
                tailStart = 53;
            }
        }

        var (source, isId) = DecodeSource(sourceRaw);
        info = new FileNameInfo
        {
            StorePathIndex = storePath,
            SubHigh = subHigh,
            SubLow = subLow,
            SourceRaw = sourceRaw,
            Source = source,
            SourceIsStorageId = isId,
            Timestamp = timestamp,
            SizeField = sizeField,
            Crc32 = crc,
            IsAppender = appender,
            IsTrunk = trunk,
            IsSlave = IsSlaveName(logicName.Length, trunk),
            FileSize = appender ? 0 : SizeFromField(sizeField),
            Trunk = location,
            Tail = logicName[tailStart..],
        };
        return true;
    }

    /// <summary>
    /// Derives a slave name: master stem (up to the first '.' of its last 7 characters) + prefix + "." + ext;
    /// no extension when <paramref name="ext"/> is empty (spec 9.6).
    /// </summary>
    public static string BuildSlaveName(string masterLogicName, string prefix, string? ext)
    {
        int tailStart = Math.Max(0, masterLogicName.Length - 7);
        int dot = masterLogicName.IndexOf('.', tailStart);
        string stem = dot >= 0 ? masterLogicName[..dot] : masterLogicName;
        if (string.IsNullOrEmpty(ext))
        {
            return stem + prefix;
        }

        return stem + prefix + (ext[0] == '.' ? ext : "." + ext);
    }

    private static bool TryHex(ReadOnlySpan<char> text, out int value) =>
        int.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
}
