using System.Text;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The README's other ways to install <c>fdfs</c>: the .NET tool package (<c>dotnet tool install</c>) and a single
/// self-contained file for linux-x64 (the way to another architecture, without a C toolchain).
/// </summary>
public sealed class ToolAndSingleFileTests
{
    private const string Version = "0.0.3-test";

    [Fact]
    public async Task The_tool_package_installs_fdfs_and_the_single_file_runs_against_a_cluster()
    {
        var ct = Timeouts.Test(900);
        string root = Path.Combine(Path.GetTempPath(), "fdfs-tool-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            string feed = Path.Combine(root, "feed"), tools = Path.Combine(root, "tools");
            await ProcessRunner.PackAsync("FastDfs.Cli", feed, Version, Path.Combine(root, "artifacts"));
            var (installExit, installLog) = await ProcessRunner.RunAsync("dotnet",
                ["tool", "install", "FastDfs.Cli", "--tool-path", tools, "--add-source", feed, "--version", Version], TimeSpan.FromMinutes(5), workingDirectory: root);
            Assert.True(installExit == 0, "dotnet tool install failed:\n" + installLog);
            var (versionExit, version) = await ProcessRunner.RunAsync(Path.Combine(tools, "fdfs"), ["--version"], TimeSpan.FromSeconds(60));
            Assert.Equal(0, versionExit);
            Assert.StartsWith(Version, version.Trim());

            string single = Path.Combine(root, "single");
            var (publishExit, publishLog) = await ProcessRunner.RunAsync("dotnet",
                ["publish", Path.Combine(RepoPaths.Root, "src", "FastDfs.Cli"), "-c", "Release", "-r", "linux-x64", "--self-contained",
                 "-p:PublishAot=false", "-p:PublishSingleFile=true", "-o", single, "--artifacts-path", Path.Combine(root, "artifacts-single"),
                 "-nodeReuse:false", "-nologo"], TimeSpan.FromMinutes(10));
            Assert.True(publishExit == 0, "single-file publish failed:\n" + publishLog);
            string fdfs = Path.Combine(single, "fdfs");
            Assert.False(File.Exists(Path.Combine(single, "fdfs.dll")), "one file, not an assembly beside a host");
            Assert.DoesNotContain(Directory.EnumerateFiles(single), f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".so", StringComparison.Ordinal));
            Assert.Equal(0, (await ProcessRunner.RunAsync(fdfs, ["--version"], TimeSpan.FromSeconds(60))).Exit);

            await using var cluster = await TestCluster.StartAsync(ct: ct);
            await cluster.WaitForActiveAsync(1, ct);
            string source = Path.Combine(root, "hello.txt");
            await File.WriteAllTextAsync(source, "from the single file", Encoding.UTF8, ct);
            var (uploadExit, uploaded) = await ProcessRunner.RunAsync(fdfs, ["upload", source, "--tracker", cluster.TrackerAddress], TimeSpan.FromSeconds(60));
            Assert.True(uploadExit == 0, uploaded);
            string copy = Path.Combine(root, "copy.txt");
            var (downloadExit, downloadLog) = await ProcessRunner.RunAsync(fdfs, ["download", uploaded.Trim(), copy, "--tracker", cluster.TrackerAddress], TimeSpan.FromSeconds(60));
            Assert.True(downloadExit == 0, downloadLog);
            Assert.Equal("from the single file", await File.ReadAllTextAsync(copy, ct));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
