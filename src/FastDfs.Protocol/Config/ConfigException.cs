namespace FastDfs.Protocol.Config;

/// <summary>
/// A configuration file could not be read or holds an invalid value. The message names the file,
/// the line (when known) and the item, e.g. <c>/etc/fdfs/tracker.conf:12: item "port": ...</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string reason, string? file = null, int line = 0, string? key = null,
        Exception? innerException = null)
        : base(Format(reason, file, line, key), innerException)
    {
        Reason = reason;
        File = file;
        Line = line;
        Key = key;
    }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Reason { get; }

    /// <summary>The file that holds the offending line, or null for text parsed from memory.</summary>
    public string? File { get; }

    /// <summary>1-based line number, or 0 when the problem is not tied to a line (e.g. a missing key).</summary>
    public int Line { get; }

    /// <summary>The item (key) concerned, if any.</summary>
    public string? Key { get; }

    /// <summary>An error about the value of one specific line; the message quotes the value.</summary>
    internal static ConfigException ForEntry(IniEntry entry, string reason, Exception? inner = null) =>
        new($"value \"{entry.Value}\" {reason}", entry.File, entry.Line, entry.Key, inner);

    private static string Format(string reason, string? file, int line, string? key)
    {
        var location = (file, line) switch
        {
            (not null, > 0) => $"{file}:{line}: ",
            (not null, _) => $"{file}: ",
            (null, > 0) => $"line {line}: ",
            _ => "",
        };
        return key is null ? location + reason : $"{location}item \"{key}\": {reason}";
    }
}
