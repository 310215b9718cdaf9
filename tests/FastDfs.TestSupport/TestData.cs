namespace FastDfs.TestSupport;

/// <summary>
/// Locates the captures from stock FastDFS: <c>tests/FastDfs.TestSupport/testdata</c>, copied beside every test
/// assembly (or the folder <c>FASTDFS_TESTDATA</c> names).
/// </summary>
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

        string candidate = Path.Combine(AppContext.BaseDirectory, "testdata");
        if (File.Exists(Path.Combine(candidate, "file-ids.tsv")))
        {
            return candidate;
        }

        throw new InvalidOperationException($"{candidate} has no captures: build the test project (testdata is copied there)");
    }

    public static string PathOf(string name) => Path.Combine(Directory, name);
}
