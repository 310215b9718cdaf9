namespace FastDfs.TestSupport;

/// <summary>Locates the captures from stock FastDFS (shared/testdata beside the repository).</summary>
public static class TestData
{
    public static string Directory { get; } = Locate();

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("FASTDFS_TESTDATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "testdata");
            if (File.Exists(Path.Combine(candidate, "file-ids.tsv")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("shared/testdata not found: set FASTDFS_TESTDATA");
    }

    public static string PathOf(string name) => Path.Combine(Directory, name);
}
