using System.Diagnostics;

namespace FastDfs.TestSupport;

/// <summary>
/// A file system of a few MB (tmpfs mounted on a temporary directory) that a test can fill up: the real ENOSPC of a
/// full disk, not a simulation. Needs the right to mount (root, as in CI); the error says so otherwise.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private SmallFileSystem(string path) => Path = path;

    public string Path { get; }

    public static SmallFileSystem Mount(int megabytes)
    {
        string path = Directory.CreateTempSubdirectory("fdfs-small-fs-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mounting a {megabytes} MB tmpfs on {path} failed ({output.Trim()}): this test needs the right to mount (root)");
        }

        return new SmallFileSystem(path);
    }

    /// <summary>Fills the file system with one file until it is full; returns that file (delete it to free the space).</summary>
    public string Fill()
    {
        string filler = System.IO.Path.Combine(Path, "filler-" + Guid.NewGuid().ToString("N")[..8]);
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (int size in new[] { 64 * 1024, 4096, 512, 1 })
        {
            var block = new byte[size];
            try
            {
                while (true)
                {
                    stream.Write(block);
                }
            }
            catch (IOException)
            {
                // Full at this block size: go on with smaller ones.
            }
        }

        return filler;
    }

    /// <summary>Remounts the file system read-only (what the kernel does to a disk that reports errors) or writable again.</summary>
    public void Remount(bool readOnly)
    {
        var (code, output) = Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);
        if (code != 0)
        {
            throw new InvalidOperationException($"remounting {Path} failed: {output.Trim()}");
        }
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
