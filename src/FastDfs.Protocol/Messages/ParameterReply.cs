using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>
/// STORAGE_PARAMETER_REQ (75) reply (spec 4.15): the tracker's group-wide settings as <c>key=value\n</c> lines in
/// stock's order. Parsing keeps the last value of a key, trims blanks, skips empty, comment and key-less lines, and
/// stops at a NUL (a padded buffer).
/// </summary>
public static class ParameterReply
{
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var text = new StringBuilder(1024);
        foreach (var (key, value) in parameters)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> body)
    {
        int nul = body.IndexOf((byte)0);
        string text = Encoding.ASCII.GetString(nul >= 0 ? body[..nul] : body);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.Trim();
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || equals <= 0)
            {
                continue;
            }

            parameters[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }

        return parameters;
    }
}
