using System.Diagnostics;

namespace FastDfs.IntegrationTests.Infrastructure;

/// <summary>Runs a command to its end (dotnet publish, pack, a published program), with its output for the assertion message.</summary>
public static class ProcessRunner
{
    public static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan limit,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (exit, stdout, stderr) = await RunSplitAsync(file, arguments, limit, workingDirectory, environment);
        return (exit, stdout + stderr);
    }

    /// <summary>As <see cref="RunAsync"/>, with standard output and standard error apart (both redirected to pipes).</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunSplitAsync(string file, IEnumerable<string> arguments, TimeSpan limit,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        // No build server or node left behind by a test's dotnet command.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in {limit}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary><c>dotnet pack -c Release src/PROJECT -o FEED</c> with this version, build files under <paramref name="artifacts"/>; asserts it worked.</summary>
    public static async Task PackAsync(string project, string feed, string version, string artifacts)
    {
        var (exit, log) = await RunAsync("dotnet",
            ["pack", "-c", "Release", Path.Combine(RepoPaths.Root, "src", project), "-o", feed, $"-p:Version={version}",
             "--artifacts-path", artifacts, "-nodeReuse:false", "-nologo"], TimeSpan.FromMinutes(10));
        Assert.True(exit == 0, $"dotnet pack of {project} failed:\n{log}");
    }
}
