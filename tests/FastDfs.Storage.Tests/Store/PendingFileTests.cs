using FastDfs.Storage.Store;

namespace FastDfs.Storage.Tests.Store;

/// <summary>A received file gets its stored name only when complete, never over an existing name, and leaves nothing when dropped.</summary>
public sealed class PendingFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdfs-pending-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void Write(PendingFile file, string text) => RandomAccess.Write(file.Handle, System.Text.Encoding.ASCII.GetBytes(text), 0);

    [Fact]
    public void Has_no_visible_name_until_published_then_has_exactly_the_final_one()
    {
        using (var file = PendingFile.Create(_dir, 1))
        {
            Write(file, "content");
            // Nothing under a name a reader could open (on Linux not even a temporary name).
            Assert.All(Directory.EnumerateFiles(_dir), f => Assert.StartsWith(".", Path.GetFileName(f)));
            Assert.Single(OpenFiles.PendingUnder(_dir));

            Assert.True(file.TryPublish(Path.Combine(_dir, "final.bin")));
        }

        Assert.Equal(["final.bin"], Directory.EnumerateFiles(_dir).Select(Path.GetFileName));
        Assert.Equal("content", File.ReadAllText(Path.Combine(_dir, "final.bin")));
        Assert.Empty(OpenFiles.PendingUnder(_dir));
    }

    [Fact]
    public void A_taken_name_is_left_alone_and_the_file_can_take_another()
    {
        string taken = Path.Combine(_dir, "taken.bin");
        File.WriteAllText(taken, "old");
        using (var file = PendingFile.Create(_dir, 2))
        {
            Write(file, "new");
            Assert.False(file.TryPublish(taken));
            Assert.Equal("old", File.ReadAllText(taken));
            Assert.True(file.TryPublish(Path.Combine(_dir, "other.bin")));
        }

        Assert.Equal("new", File.ReadAllText(Path.Combine(_dir, "other.bin")));
        Assert.Equal(["other.bin", "taken.bin"], Directory.EnumerateFiles(_dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_file_disposed_unpublished_leaves_nothing()
    {
        using (var file = PendingFile.Create(_dir, 3))
        {
            Write(file, "dropped");
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
        Assert.Empty(OpenFiles.PendingUnder(_dir));
    }

    [Fact]
    public void A_missing_directory_is_an_error_not_a_file_elsewhere()
    {
        Assert.Throws<DirectoryNotFoundException>(() => PendingFile.Create(Path.Combine(_dir, "gone"), 4));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }
}
