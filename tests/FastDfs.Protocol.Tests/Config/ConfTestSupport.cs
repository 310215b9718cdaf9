using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

/// <summary>A throw-away directory for conf files (includes need real files).</summary>
internal sealed class TempConfDir : IDisposable
{
    public TempConfDir() => Root = Directory.CreateTempSubdirectory("fdfs-conf-").FullName;

    public string Root { get; }

    public string Write(string relativePath, string text)
    {
        var full = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

internal static class ConfAssert
{
    /// <summary>Asserts a <see cref="ConfigException"/> about <paramref name="key"/> whose message names it.</summary>
    public static ConfigException ThrowsFor(string key, Action action)
    {
        var ex = Assert.Throws<ConfigException>(action);
        Assert.Equal(key, ex.Key);
        Assert.Contains($"\"{key}\"", ex.Message);
        return ex;
    }
}
