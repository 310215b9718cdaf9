namespace FastDfs.Protocol.FileIds;

/// <summary>A full file ID: <c>group/Mxx/HH/LL/name</c>.</summary>
public readonly record struct FileId(string Group, string LogicName)
{
    public override string ToString() => $"{Group}/{LogicName}";

    public static FileId Parse(string fileId)
    {
        if (!TryParse(fileId, out var id))
        {
            throw new FormatException($"invalid file id '{fileId}': expected group/Mxx/HH/LL/name");
        }

        return id;
    }

    public static bool TryParse(string? fileId, out FileId id)
    {
        id = default;
        if (string.IsNullOrEmpty(fileId))
        {
            return false;
        }

        int slash = fileId.IndexOf('/');
        if (slash <= 0 || slash > ProtocolConstants.GroupNameMaxLen || slash == fileId.Length - 1)
        {
            return false;
        }

        id = new FileId(fileId[..slash], fileId[(slash + 1)..]);
        return true;
    }
}
