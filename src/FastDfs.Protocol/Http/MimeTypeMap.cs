namespace FastDfs.Protocol.Http;

/// <summary>
/// Extension → Content-Type, from an apache-format mime.types file (<c>type ext1 ext2 …</c>, <c>#</c> comments;
/// what stock's <c>http.mime_types_filename</c> names) or the built-in map of common types.
/// </summary>
public sealed class MimeTypeMap
{
    private static readonly (string Type, string Extensions)[] BuiltIn =
    [
        ("text/html", "html htm shtml"), ("text/css", "css"), ("text/xml", "xml"), ("text/plain", "txt text log conf ini"),
        ("text/csv", "csv"), ("text/markdown", "md markdown"), ("text/javascript", "js mjs"), ("application/json", "json map"),
        ("image/gif", "gif"), ("image/jpeg", "jpeg jpg jpe"), ("image/png", "png"), ("image/webp", "webp"), ("image/avif", "avif"),
        ("image/svg+xml", "svg svgz"), ("image/x-icon", "ico"), ("image/bmp", "bmp"), ("image/tiff", "tif tiff"),
        ("audio/mpeg", "mp3"), ("audio/ogg", "ogg oga"), ("audio/wav", "wav"), ("audio/flac", "flac"), ("audio/aac", "aac"),
        ("video/mp4", "mp4 m4v"), ("video/webm", "webm"), ("video/quicktime", "mov"), ("video/x-msvideo", "avi"),
        ("video/x-matroska", "mkv"), ("video/mp2t", "ts"), ("application/vnd.apple.mpegurl", "m3u8"),
        ("application/pdf", "pdf"), ("application/zip", "zip"), ("application/gzip", "gz tgz"), ("application/x-tar", "tar"),
        ("application/x-bzip2", "bz2"), ("application/x-xz", "xz"), ("application/x-7z-compressed", "7z"),
        ("application/vnd.rar", "rar"), ("application/wasm", "wasm"), ("application/rtf", "rtf"),
        ("application/msword", "doc"), ("application/vnd.ms-excel", "xls"), ("application/vnd.ms-powerpoint", "ppt"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
        ("application/vnd.android.package-archive", "apk"), ("application/java-archive", "jar"),
        ("font/woff", "woff"), ("font/woff2", "woff2"), ("font/ttf", "ttf"), ("font/otf", "otf"),
        ("application/octet-stream", "bin exe dll iso img dmg deb rpm msi"),
    ];

    private readonly Dictionary<string, string> _byExtension;

    private MimeTypeMap(Dictionary<string, string> byExtension, string defaultContentType)
    {
        _byExtension = byExtension;
        DefaultContentType = defaultContentType;
    }

    public string DefaultContentType { get; }

    public int Count => _byExtension.Count;

    public static MimeTypeMap CreateDefault(string defaultContentType = "application/octet-stream")
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (type, extensions) in BuiltIn)
        {
            foreach (var ext in extensions.Split(' '))
            {
                map[ext] = type;
            }
        }

        return new MimeTypeMap(map, defaultContentType);
    }

    /// <summary>Reads an apache mime.types text; a later line wins for a repeated extension.</summary>
    public static MimeTypeMap Parse(TextReader reader, string defaultContentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            var content = line.AsSpan().Trim();
            if (content.IsEmpty || content[0] == '#')
            {
                continue;
            }

            var fields = content.ToString().TrimEnd(';').Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !fields[0].Contains('/'))
            {
                continue;
            }

            for (int i = 1; i < fields.Length; i++)
            {
                map[fields[i]] = fields[0];
            }
        }

        return new MimeTypeMap(map, defaultContentType);
    }

    /// <exception cref="IOException">The file cannot be read.</exception>
    public static MimeTypeMap Load(string path, string defaultContentType = "application/octet-stream")
    {
        using var reader = new StreamReader(path);
        return Parse(reader, defaultContentType);
    }

    /// <summary>The type for the extension after the last dot of <paramref name="fileName"/>, else the default.</summary>
    public string GetContentType(ReadOnlySpan<char> fileName)
    {
        int slash = fileName.LastIndexOf('/');
        if (slash >= 0)
        {
            fileName = fileName[(slash + 1)..];
        }

        int dot = fileName.LastIndexOf('.');
        if (dot < 0 || dot == fileName.Length - 1)
        {
            return DefaultContentType;
        }

#if NET9_0_OR_GREATER
        var lookup = _byExtension.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.TryGetValue(fileName[(dot + 1)..], out var type) ? type : DefaultContentType;
#else
        return _byExtension.TryGetValue(fileName[(dot + 1)..].ToString(), out var type) ? type : DefaultContentType;
#endif
    }
}
