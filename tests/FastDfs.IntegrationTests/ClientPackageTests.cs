using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests;

/// <summary>
/// The FastDfs.Client package as an application gets it: packed as docs/client.md says, restored from a folder feed on
/// its own (nothing else of this repository), in ASP.NET Core applications on .NET 8 and .NET 9 with their own dependency
/// injection (.NET 10's is the sample's, SampleApiTests), talking to a cluster through AddFastDfs and its health check.
/// </summary>
public sealed class ClientPackageTests
{
    private const string Version = "0.0.1-test";

    [Fact]
    public async Task The_packed_client_restores_from_a_feed_and_serves_aspnet_core_8_and_9_applications()
    {
        var ct = Timeouts.Test(900);
        string root = Path.Combine(Path.GetTempPath(), "fdfs-pkg-" + Guid.NewGuid().ToString("N")[..12]);
        string feed = Path.Combine(root, "feed"), app = Path.Combine(root, "app");
        try
        {
            await ProcessRunner.PackAsync("FastDfs.Client", feed, Version, Path.Combine(root, "artifacts"));
            CheckPackageContents(Path.Combine(feed, $"FastDfs.Client.{Version}.nupkg"));
            await ProcessRunner.PackAsync("FastDfs.Client.AspNetCore", feed, Version, Path.Combine(root, "artifacts"));
            CheckAspNetCorePackage(Path.Combine(feed, $"FastDfs.Client.AspNetCore.{Version}.nupkg"));

            Directory.CreateDirectory(app);
            await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFrameworks>net8.0;net9.0</TargetFrameworks>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="FastDfs.Client.AspNetCore" Version="{Version}" />
                  </ItemGroup>
                </Project>
                """, ct);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using FastDfs.Client;
                using FastDfs.Protocol.FileIds;

                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddFastDfs(builder.Configuration.GetSection("FastDfs"));
                builder.Services.AddHealthChecks().AddFastDfs();
                var app = builder.Build();
                app.MapPost("/files", async (HttpRequest request, IFastDfsClient fdfs) =>
                {
                    var body = new MemoryStream();
                    await request.Body.CopyToAsync(body);
                    body.Position = 0;
                    return (await fdfs.UploadAsync(body, body.Length, ".txt")).ToString();
                });
                app.MapGet("/files/{*id}", (string id, IFastDfsClient fdfs) => fdfs.FileResult(FileId.Parse(id)));
                app.MapGet("/runtime", () => new
                {
                    Runtime = Environment.Version.ToString(),
                    DependencyInjection = typeof(Microsoft.Extensions.DependencyInjection.ServiceProvider).Assembly.GetName().Version!.ToString(),
                });
                app.MapHealthChecks("/health");
                app.Run();
                """, ct);
            // This folder's feed first; the package's own dependencies come from the machine's usual sources.
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="fastdfs-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """, ct);
            // An empty Directory.Build.props/Packages.props: the temporary folder must not pick up anything of a parent folder.
            await File.WriteAllTextAsync(Path.Combine(root, "Directory.Build.props"), "<Project />", ct);
            await File.WriteAllTextAsync(Path.Combine(root, "Directory.Packages.props"), "<Project />", ct);

            await using var cluster = await TestCluster.StartAsync(ct: ct);
            await cluster.WaitForActiveAsync(1, ct);
            // Each runtime with its own Microsoft.Extensions (the DI of .NET 8, of .NET 9): self-contained, since this
            // machine's shared runtime is .NET 10's.
            foreach (var (framework, major) in new[] { ("net8.0", "8."), ("net9.0", "9.") })
            {
                string output = Path.Combine(root, "out-" + framework);
                var (publishExit, publishLog) = await ProcessRunner.RunAsync("dotnet",
                    ["publish", app, "-c", "Release", "-f", framework, "-r", "linux-x64", "--self-contained", "-o", output, "-nodeReuse:false", "-nologo"],
                    TimeSpan.FromMinutes(10), workingDirectory: app);
                Assert.True(publishExit == 0, $"dotnet publish of the {framework} application failed:\n" + publishLog);
                await ServeThroughTheAppAsync(Path.Combine(output, "app"), cluster, major, ct);
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Starts the published application against the cluster: health, runtime and DI versions, upload, download, Range.</summary>
    private static async Task ServeThroughTheAppAsync(string executable, TestCluster cluster, string major, CancellationToken ct)
    {
        var runningLog = new StringBuilder();
        int port = FreePorts.On();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(executable)!,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["FastDfs__Trackers__0"] = cluster.TrackerAddress;
        using var running = Process.Start(start)!;
        try
        {
            running.OutputDataReceived += (_, e) => { lock (runningLog) { runningLog.AppendLine(e.Data); } };
            running.ErrorDataReceived += (_, e) => { lock (runningLog) { runningLog.AppendLine(e.Data); } };
            running.BeginOutputReadLine();
            running.BeginErrorReadLine();

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string? health = null;
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(running.HasExited, "the application exited: " + runningLog);
                try
                {
                    health = await http.GetStringAsync("/health", ct);
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), $"the .NET {major}x application to answer", ct);
            Assert.Equal("Healthy", health);

            var runtime = await http.GetFromJsonAsync<RuntimeInfo>("/runtime", ct);
            Assert.StartsWith(major, runtime!.Runtime);
            Assert.StartsWith(major, runtime.DependencyInjection);

            byte[] content = Encoding.UTF8.GetBytes($"through the package, on .NET {major}x " + Guid.NewGuid());
            var upload = await http.PostAsync("/files", new ByteArrayContent(content), ct);
            string id = await upload.Content.ReadAsStringAsync(ct);
            Assert.True(upload.IsSuccessStatusCode, id + "\n" + runningLog);
            Assert.Matches(@"^group1/M00/[0-9A-F]{2}/[0-9A-F]{2}/\S+\.txt$", id);
            Assert.Equal(content, await http.GetByteArrayAsync("/files/" + id, ct));
            using var range = new HttpRequestMessage(HttpMethod.Get, "/files/" + id);
            range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(3, 9);
            using var partial = await http.SendAsync(range, ct);
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(content[3..10], await partial.Content.ReadAsByteArrayAsync(ct));
        }
        finally
        {
            if (!running.HasExited)
            {
                running.Kill(entireProcessTree: true);
                await running.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>The client and the protocol it speaks for each target, its README, and nothing of the servers.</summary>
    private static void CheckPackageContents(string package)
    {
        var (names, manifest) = Read(package);
        foreach (string framework in new[] { "net8.0", "net9.0", "net10.0" })
        {
            Assert.Contains($"lib/{framework}/FastDfs.Client.dll", names);
            Assert.Contains($"lib/{framework}/FastDfs.Protocol.dll", names);
            Assert.Contains($"lib/{framework}/FastDfs.Client.xml", names);
        }

        Assert.Contains("README.md", names);
        foreach (string framework in new[] { "net8.0", "net9.0", "net10.0" })
        {
            foreach (string assembly in new[] { "FastDfs.Client", "FastDfs.Protocol" })
            {
                Assert.True(HasEmbeddedPdb(package, $"lib/{framework}/{assembly}.dll"), $"{assembly} ({framework}) carries no symbols");
            }
        }

        foreach (string server in new[] { "FastDfs.Storage", "FastDfs.Tracker", "FastDfs.ServerCore", "FastDfs.Cli", "FastDfs.Bench" })
        {
            Assert.DoesNotContain(names, n => Path.GetFileName(n).StartsWith(server + ".", StringComparison.Ordinal));
        }
        Assert.DoesNotContain("FastDfs.Protocol", manifest); // inside, not a dependency a feed would have to serve
        Assert.Contains("System.IO.Hashing", manifest);
        // The protocol's pipes are a package of their own on .NET 8 only.
        var net8 = manifest[manifest.IndexOf("targetFramework=\"net8.0\"", StringComparison.Ordinal)..];
        Assert.Contains("System.IO.Pipelines", net8[..net8.IndexOf("</group>", StringComparison.Ordinal)]);
    }

    /// <summary>The helpers alone, depending on the FastDfs.Client package (not on a protocol package).</summary>
    private static void CheckAspNetCorePackage(string package)
    {
        var (names, manifest) = Read(package);
        foreach (string framework in new[] { "net8.0", "net9.0", "net10.0" })
        {
            Assert.Contains($"lib/{framework}/FastDfs.Client.AspNetCore.dll", names);
            Assert.DoesNotContain($"lib/{framework}/FastDfs.Client.dll", names);
        }

        Assert.Contains($"<dependency id=\"FastDfs.Client\" version=\"{Version}\"", manifest);
        Assert.DoesNotContain("FastDfs.Protocol", manifest);
    }

    /// <summary>Whether an assembly of the package carries its portable PDB (debuggers and SourceLink need no symbol server).</summary>
    private static bool HasEmbeddedPdb(string package, string entry)
    {
        using var zip = ZipFile.OpenRead(package);
        using var copy = new MemoryStream();
        using (var dll = zip.GetEntry(entry)!.Open())
        {
            dll.CopyTo(copy);
        }

        copy.Position = 0;
        using var pe = new System.Reflection.PortableExecutable.PEReader(copy);
        return pe.ReadDebugDirectory().Any(d => d.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.EmbeddedPortablePdb);
    }

    /// <summary>
    /// SourceLink: the client's assemblies, built from a clone whose remote is a hosted repository, map their sources to
    /// that repository's files at the commit, and the package names the repository (a debugger then steps into them).
    /// </summary>
    [Fact]
    public async Task Built_from_a_clone_of_a_hosted_repository_the_assemblies_carry_source_link_to_its_commit()
    {
        string root = Directory.CreateTempSubdirectory("fdfs-sourcelink-").FullName;
        try
        {
            string clone = Path.Combine(root, "repo");
            var (exit, log) = await ProcessRunner.RunAsync("git", ["clone", "-q", "--no-hardlinks", RepoPaths.Root, clone], TimeSpan.FromMinutes(2));
            Assert.True(exit == 0, log);
            (exit, log) = await ProcessRunner.RunAsync("git", ["-C", clone, "remote", "set-url", "origin", "https://github.com/example-org/fastdfs-net.git"],
                TimeSpan.FromMinutes(1));
            Assert.True(exit == 0, log);
            (exit, string commit) = await ProcessRunner.RunAsync("git", ["-C", clone, "rev-parse", "HEAD"], TimeSpan.FromMinutes(1));
            (exit, log) = await ProcessRunner.RunAsync("dotnet",
                ["build", "-c", "Release", Path.Combine(clone, "src", "FastDfs.Protocol"), "-f", "net10.0", "-o", Path.Combine(root, "out"),
                 "-nodeReuse:false", "-nologo"], TimeSpan.FromMinutes(5));
            Assert.True(exit == 0, log);

            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(Path.Combine(root, "out", "FastDfs.Protocol.dll")));
            var embedded = pe.ReadDebugDirectory().Single(d => d.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.EmbeddedPortablePdb);
            using var pdb = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded);
            var reader = pdb.GetMetadataReader();
            var sourceLinkKind = new Guid("CC110556-A091-4D38-9FEC-25AB9A351A6A");
            string? sourceLink = reader.CustomDebugInformation
                .Select(reader.GetCustomDebugInformation)
                .Where(info => reader.GetGuid(info.Kind) == sourceLinkKind)
                .Select(info => System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(info.Value)))
                .SingleOrDefault();
            Assert.NotNull(sourceLink);
            Assert.Contains($"https://raw.githubusercontent.com/example-org/fastdfs-net/{commit.Trim()}/", sourceLink);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The entry names of a package and its nuspec.</summary>
    private static (HashSet<string> Names, string Manifest) Read(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        return (zip.Entries.Select(e => e.FullName).ToHashSet(), nuspec.ReadToEnd());
    }

    private sealed record RuntimeInfo(string Runtime, string DependencyInjection);
}
