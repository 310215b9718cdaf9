using FastDfs.Protocol.FileIds;

namespace FastDfs.Protocol.Http;

/// <summary>
/// The path of a file URL: <c>/group1/M00/00/00/name</c>, or <c>/M00/00/00/name</c> when the group is
/// implied (the nginx module's <c>url_have_group_name = false</c>). Refuses anything that is not plainly a
/// file ID (dot segments, back-slashes, percent signs left after decoding, control characters, empty
/// segments) so that no later step ever sees a path that could leave a store path.
/// </summary>
public static class FileUrl
{
    public static bool TryParse(string? path, bool urlHaveGroupName, string impliedGroup, out FileId fileId)
    {
        fileId = default;
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Length > 512)
        {
            return false;
        }

        var rest = path.AsSpan(1);
        foreach (char c in rest)
        {
            if (c < 0x21 || c > 0x7E || c is '\\' or '%' or '?' or '#')
            {
                return false;
            }
        }

        for (var remaining = rest; ;)
        {
            int end = remaining.IndexOf('/');
            var segment = end < 0 ? remaining : remaining[..end];
            if (segment is "" or "." or "..")
            {
                return false;
            }

            if (end < 0)
            {
                break;
            }

            remaining = remaining[(end + 1)..];
        }

        string group;
        ReadOnlySpan<char> logic;
        if (urlHaveGroupName)
        {
            int slash = rest.IndexOf('/');
            if (slash <= 0 || slash > ProtocolConstants.GroupNameMaxLen)
            {
                return false;
            }

            group = rest[..slash].ToString();
            logic = rest[(slash + 1)..];
        }
        else
        {
            group = impliedGroup;
            logic = rest;
        }

        if (logic.Length < 4 || logic[0] != 'M')
        {
            return false;
        }

        fileId = new FileId(group, logic.ToString());
        return true;
    }

    /// <summary>The URL path of a file ID.</summary>
    public static string PathOf(FileId fileId, bool urlHaveGroupName) =>
        urlHaveGroupName ? $"/{fileId.Group}/{fileId.LogicName}" : $"/{fileId.LogicName}";
}
