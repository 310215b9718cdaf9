namespace FastDfs.TestSupport;

/// <summary>
/// Locates the captures from stock FastDFS: <c>tests/FastDfs.TestSupport/testdata</c> in this repository, copied beside
/// every test assembly.
/// </summary>
public static class TestData
{
    public static string Directory { get; } = Locate();

    private static string Locate()
    {
        string candidate = Path.Combine(AppContext.BaseDirectory, "testdata");
        if (File.Exists(Path.Combine(candidate, "file-ids.tsv")))
        {
            return candidate;
        }

        throw new InvalidOperationException($"{candidate} has no captures: build the test project (testdata is copied there)");
    }

    public static string PathOf(string name) => Path.Combine(Directory, name);
}
