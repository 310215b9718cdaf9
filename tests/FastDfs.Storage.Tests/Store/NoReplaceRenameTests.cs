using FastDfs.Storage.Store;

namespace FastDfs.Storage.Tests.Store;

/// <summary>The final rename of an upload: atomic, never over an existing name.</summary>
public sealed class NoReplaceRenameTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdfs-rename-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Moves_the_file_to_a_free_name()
    {
        string source = Path.Combine(_dir, ".upload.tmp");
        string target = Path.Combine(_dir, "final.bin");
        File.WriteAllText(source, "content");

        Assert.True(NoReplaceRename.TryMove(source, target));

        Assert.False(File.Exists(source));
        Assert.Equal("content", File.ReadAllText(target));
    }

    [Fact]
    public void Leaves_both_files_alone_when_the_name_is_taken()
    {
        string source = Path.Combine(_dir, ".upload.tmp");
        string target = Path.Combine(_dir, "final.bin");
        File.WriteAllText(source, "new");
        File.WriteAllText(target, "old");

        Assert.False(NoReplaceRename.TryMove(source, target));

        Assert.Equal("new", File.ReadAllText(source));
        Assert.Equal("old", File.ReadAllText(target));
    }

    [Fact]
    public void Treats_a_directory_under_the_name_as_taken()
    {
        string source = Path.Combine(_dir, ".upload.tmp");
        string target = Path.Combine(_dir, "final.bin");
        File.WriteAllText(source, "new");
        Directory.CreateDirectory(target);

        Assert.False(NoReplaceRename.TryMove(source, target));

        Assert.True(File.Exists(source));
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public void A_missing_source_is_a_file_not_found_error()
    {
        string source = Path.Combine(_dir, ".gone.tmp");

        var error = Assert.Throws<FileNotFoundException>(() => NoReplaceRename.TryMove(source, Path.Combine(_dir, "final.bin")));

        Assert.Contains(".gone.tmp", error.Message);
    }
}
