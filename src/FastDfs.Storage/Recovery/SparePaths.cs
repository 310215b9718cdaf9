using FastDfs.Protocol.Config;
using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// Which spare disks took the place of which store paths (<c>data/spare_store_paths.dat</c> under the base path,
/// <c>store_path&lt;N&gt;=&lt;spare&gt;</c>): kept across restarts, so that a store path stays on its spare until the operator
/// edits storage.conf (point <c>store_pathN</c> at the spare, remove it from <c>spare_store_path</c>, delete the line).
/// </summary>
internal static class SparePaths
{
    public const string FileName = "spare_store_paths.dat";

    private const string Remedy = "fix or delete it (the store paths then come from storage.conf alone)";

    /// <summary>The configuration with the recorded takeovers applied to its store paths.</summary>
    public static StorageConfig Apply(StorageConfig config, string dataDirectory, ILogger logger)
    {
        var values = StateFile.TryRead(Path.Combine(dataDirectory, FileName), Remedy);
        if (values is null)
        {
            return config;
        }

        var paths = config.StorePaths.ToArray();
        for (int i = 0; i < paths.Length; i++)
        {
            if (values.TryGetValue($"store_path{i}", out string? spare) && spare.Length > 0 && spare != paths[i].Path)
            {
                logger.LogWarning("store path {Index} is on the spare {Spare} (since its disk {Path} failed): see {File}", i, spare, paths[i].Path,
                    FileName);
                paths[i] = new StorePath(spare);
            }
        }

        return config with { StorePaths = paths };
    }

    /// <summary>The configured spares no store path uses.</summary>
    public static IEnumerable<string> Unused(StorageConfig config) =>
        config.SpareStorePaths.Where(spare => !config.StorePaths.Any(p => SamePath(p.Path, spare)));

    public static void Record(string dataDirectory, int index, string spare)
    {
        string file = Path.Combine(dataDirectory, FileName);
        var values = StateFile.TryRead(file, Remedy) ?? new Dictionary<string, string>(StringComparer.Ordinal);
        values[$"store_path{index}"] = spare;
        StateFile.WriteAtomic(file, values.OrderBy(v => v.Key, StringComparer.Ordinal));
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
}
