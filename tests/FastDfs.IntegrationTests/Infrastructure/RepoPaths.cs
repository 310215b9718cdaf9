namespace FastDfs.IntegrationTests.Infrastructure;

/// <summary>Finds the repository root (the folder holding FastDfs.slnx) from the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = Locate();

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("FASTDFS_REPO_ROOT");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FastDfs.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (FastDfs.slnx) not found: set FASTDFS_REPO_ROOT");
    }

    public static string NodeCompatDir =>
        Environment.GetEnvironmentVariable("FASTDFS_COMPAT_NODE_DIR") ?? Path.Combine(Root, "tests", "compat", "node");
}
