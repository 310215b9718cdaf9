namespace FastDfs.Protocol.Config;

/// <summary>
/// A FastDFS (libfastcommon) ini file: <c>key = value</c> lines split at the first <c>=</c> and
/// trimmed; <c>#</c> comment lines (a <c>#</c> later in a line is part of the value); lines without
/// <c>=</c> ignored; <c>[section]</c> headers (<c>[]</c> returns to the global section); repeated
/// keys kept in order; <c>#include file</c> relative to the including file's directory, its keys going
/// to the global section. Keys longer than 63 and values longer than 255 characters are truncated.
/// </summary>
/// <remarks>
/// Not supported: http(s) includes (a <see cref="ConfigException"/>), and the rarely used
/// preprocessor directives <c>#@if/#@else/#@endif/#@for/#@set</c> and <c>#@function</c>
/// annotations: every <c>#@…</c> line is treated as a comment, so the lines of both branches of an
/// <c>#@if</c> are read. Stock resolves an include nested in an included file against the
/// top-level file's directory; we use the including file's directory (same result unless an
/// included file in another directory includes again).
/// </remarks>
public sealed class IniFile
{
    public const string ErrorLogSection = "error-log";
    public const string AccessLogSection = "access-log";

    internal const int MaxKeyLength = 63;
    internal const int MaxValueLength = 255;
    private const int MaxIncludeDepth = 16;
    private static readonly char[] Blanks = [' ', '\t', '\r', '\n', '\f', '\v'];

    private readonly Dictionary<string, IniSection> _sections = new(StringComparer.Ordinal);
    private readonly List<string> _sectionNames = [];

    private IniFile(string? path, string baseDirectory)
    {
        Path = path;
        BaseDirectory = baseDirectory;
    }

    /// <summary>Full path of the loaded file, or null when parsed from text.</summary>
    public string? Path { get; }

    /// <summary>Directory of the top-level file (or the one given to <see cref="Parse"/>); stock resolves
    /// relative file names such as <c>storage_ids_filename</c> against it.</summary>
    public string BaseDirectory { get; }

    public IniSection Global { get; } = new("");

    /// <summary>Named sections in order of first appearance (a repeated header merges into the first).</summary>
    public IReadOnlyList<string> SectionNames => _sectionNames;

    /// <summary><c>[error-log]</c> falling back to the global section: how stock reads its log keys.</summary>
    public IniSection ErrorLog => WithGlobalFallback(ErrorLogSection);

    public static IniFile Load(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ConfigException("config file not found", fullPath);
        }
        var ini = new IniFile(fullPath, System.IO.Path.GetDirectoryName(fullPath)!);
        ini.ParseFile(fullPath, depth: 0);
        return ini;
    }

    /// <summary>Parses ini text; relative includes resolve against <paramref name="baseDirectory"/>
    /// (default: the current directory).</summary>
    public static IniFile Parse(string text, string? baseDirectory = null)
    {
        var dir = System.IO.Path.GetFullPath(baseDirectory ?? Directory.GetCurrentDirectory());
        var ini = new IniFile(null, dir);
        ini.ParseText(text, file: null, dir, depth: 0);
        return ini;
    }

    /// <summary>The named section (<c>""</c> = global), or null if the file has no such section.</summary>
    public IniSection? GetSection(string name) =>
        name.Length == 0 ? Global : _sections.GetValueOrDefault(name);

    /// <summary>The named section falling back to the global section for absent keys
    /// (stock's "retry global"); usable even when the section does not exist.</summary>
    public IniSection WithGlobalFallback(string sectionName) =>
        (GetSection(sectionName) ?? new IniSection(sectionName)).WithFallback(Global);

    public bool Contains(string key, string? section = null) => Section(section).Contains(key);

    public string? GetString(string key, string? section = null) => Section(section).GetString(key);

    public IReadOnlyList<string> GetAll(string key, string? section = null) => Section(section).GetAll(key);

    public bool GetBool(string key, bool defaultValue, string? section = null) =>
        Section(section).GetBool(key, defaultValue);

    public int GetInt(string key, int defaultValue, string? section = null) =>
        Section(section).GetInt(key, defaultValue);

    public long GetBytes(string key, long defaultValue, string? section = null) =>
        Section(section).GetBytes(key, defaultValue);

    public TimeOnly GetTime(string key, TimeOnly defaultValue, string? section = null) =>
        Section(section).GetTime(key, defaultValue);

    // An absent section reads as empty, so every key takes its default.
    private IniSection Section(string? name) =>
        name is null ? Global : GetSection(name) ?? new IniSection(name);

    private void ParseFile(string fullPath, int depth)
    {
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read config file: {e.Message}", fullPath, innerException: e);
        }
        ParseText(text, fullPath, System.IO.Path.GetDirectoryName(fullPath)!, depth);
    }

    private void ParseText(string text, string? file, string directory, int depth)
    {
        var current = Global;
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim(Blanks);
            if (lineNumber == 1)
            {
                line = line.TrimStart('\uFEFF').Trim(Blanks);
            }
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                if (TryGetInclude(line, out var target))
                {
                    Include(target, file, lineNumber, directory, depth);
                    current = Global; // stock resets to the global section after an include
                }
                continue; // comment, or a #@ directive we deliberately ignore
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                var name = line[1..^1].Trim(Blanks);
                current = name.Length == 0 ? Global : GetOrAddSection(name);
                continue;
            }

            var equals = line.IndexOf('=');
            if (equals < 0)
            {
                continue;
            }
            // Stock truncates the raw parts first, then trims them.
            var key = Truncate(line[..equals], MaxKeyLength).Trim(Blanks);
            var value = Truncate(line[(equals + 1)..], MaxValueLength).Trim(Blanks);
            if (key.Length > 0)
            {
                current.Add(new IniEntry(key, value, file, lineNumber));
            }
        }
    }

    private static bool TryGetInclude(string line, out string target)
    {
        // "#include" (any case) followed by a space or tab; "##include" is a plain comment.
        if (line.Length > 8
            && line.AsSpan(1, 7).Equals("include", StringComparison.OrdinalIgnoreCase)
            && (line[8] == ' ' || line[8] == '\t'))
        {
            target = line[9..].Trim(Blanks);
            return true;
        }
        target = "";
        return false;
    }

    private void Include(string target, string? file, int line, string directory, int depth)
    {
        if (target.Length == 0)
        {
            throw new ConfigException("#include without a file name", file, line);
        }
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigException($"#include of a URL is not supported: {target}", file, line);
        }
        if (depth >= MaxIncludeDepth)
        {
            throw new ConfigException($"#include nested more than {MaxIncludeDepth} deep (include cycle?): {target}",
                file, line);
        }

        var name = target.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? target[7..] : target;
        var fullPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, name));
        if (!File.Exists(fullPath))
        {
            throw new ConfigException($"#include file not found: {fullPath}", file, line);
        }
        ParseFile(fullPath, depth + 1);
    }

    private IniSection GetOrAddSection(string name)
    {
        if (!_sections.TryGetValue(name, out var section))
        {
            _sections[name] = section = new IniSection(name);
            _sectionNames.Add(name);
        }
        return section;
    }

    private static string Truncate(string s, int max) => s.Length > max ? s[..max] : s;
}
