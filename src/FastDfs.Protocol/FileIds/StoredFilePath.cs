namespace FastDfs.Protocol.FileIds;

/// <summary>
/// Where a logic name lives inside a storage: store path index, the two sub-directory names and the
/// file name. Parsing applies stock's validation (spec section 5), so a name can never leave its store path.
/// </summary>
public readonly record struct StoredFilePath(int StorePathIndex, string SubHigh, string SubLow, string FileName)
{
    /// <summary>Path relative to <c>&lt;store_path&gt;/data</c>.</summary>
    public string RelativePath => $"{SubHigh}/{SubLow}/{FileName}";

    public static bool TryParse(ReadOnlySpan<char> logicName, int storePathCount, out StoredFilePath path)
    {
        path = default;
        int nul = logicName.IndexOf('\0');
        if (nul >= 0)
        {
            logicName = logicName[..nul];
        }

        if (logicName.Length <= ProtocolConstants.LogicFilePathLen)
        {
            return false;
        }

        int storePath = 0;
        ReadOnlySpan<char> rest = logicName;
        if (logicName[0] == 'M')
        {
            if (logicName[3] != '/' || !IsHex(logicName[1], upperOnly: false) || !IsHex(logicName[2], upperOnly: false))
            {
                return false;
            }

            storePath = Convert.ToInt32(logicName.Slice(1, 2).ToString(), 16);
            if (storePath >= storePathCount)
            {
                return false;
            }

            rest = logicName[4..];
        }

        if (rest.Length <= ProtocolConstants.TrueFilePathLen || rest[2] != '/' || rest[5] != '/' ||
            !IsHex(rest[0], true) || !IsHex(rest[1], true) || !IsHex(rest[3], true) || !IsHex(rest[4], true))
        {
            return false;
        }

        var fileName = rest[6..];
        if (fileName.IndexOf('/') >= 0)
        {
            return false;
        }

        path = new StoredFilePath(storePath, rest[..2].ToString(), rest.Slice(3, 2).ToString(), fileName.ToString());
        return true;
    }

    private static bool IsHex(char c, bool upperOnly) =>
        char.IsAsciiDigit(c) || (c >= 'A' && c <= 'F') || (!upperOnly && c >= 'a' && c <= 'f');
}
