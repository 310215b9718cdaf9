using System.Diagnostics;
using System.Text.RegularExpressions;
using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests.Http;

/// <summary>
/// The tracker's dashboard in headless Chromium (Debian package <c>chromium</c>, installed by .ci/run): what a
/// person sees once the page's script has fetched <c>/api/cluster</c>.
/// </summary>
public sealed partial class DashboardBrowserTests
{
    private static string ChromiumPath => Environment.GetEnvironmentVariable("FASTDFS_CHROMIUM") ?? "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_the_group_the_active_storage_and_an_upload_counter_that_moves()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} not found: install the Debian package chromium (.ci/run does)");
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true);
        await using var client = cluster.CreateClient();
        var page = new Uri(cluster.TrackerHttp, "/dashboard");

        string dom = await RenderAsync(page, cluster.Root, ct);
        Assert.Contains("FastDFS.NET cluster", dom);
        Assert.Matches("data-field=\"group-name\">group1<", dom);
        Assert.Matches("class=\"state ACTIVE\" data-field=\"status\">ACTIVE<", dom);
        Assert.Contains("serving; last heartbeat", dom);
        long before = Uploads(dom);

        await client.UploadAsync("counted"u8.ToArray(), "txt", ct: ct);
        long after = before;
        await Eventually.TrueAsync(async () =>
        {
            after = Uploads(await RenderAsync(page, cluster.Root, ct));
            return after > before;
        }, TimeSpan.FromSeconds(60), "the dashboard's upload counter to move", ct);
        Assert.Equal(before + 1, after);

        // Our storage's integrity report, fetched by the tracker in the background.
        await Eventually.TrueAsync(async () => IntegrityCell().IsMatch(await RenderAsync(page, cluster.Root, ct)),
            TimeSpan.FromSeconds(60), "the integrity column", ct);
    }

    private static long Uploads(string dom)
    {
        var match = UploadsCell().Match(dom);
        Assert.True(match.Success, "no uploads cell in the rendered page:\n" + dom);
        return long.Parse(match.Groups[1].Value);
    }

    /// <summary>Loads the page in headless Chromium, lets its script run, and returns the resulting DOM.</summary>
    private static async Task<string> RenderAsync(Uri page, string scratch, CancellationToken ct)
    {
        string profile = Path.Combine(scratch, "chromium-" + Guid.NewGuid().ToString("N")[..8]);
        var start = new ProcessStartInfo(ChromiumPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                     $"--user-data-dir={profile}", "--virtual-time-budget=4000", "--dump-dom", page.ToString()])
        {
            start.ArgumentList.Add(arg);
        }

        using var chromium = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        var stderr = chromium.StandardError.ReadToEndAsync(ct);
        string dom = await chromium.StandardOutput.ReadToEndAsync(ct);
        try
        {
            await chromium.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        }
        finally
        {
            if (!chromium.HasExited)
            {
                chromium.Kill(entireProcessTree: true);
            }
        }

        Assert.True(dom.Contains("</html>"), $"chromium exited {chromium.ExitCode} without a page: {await stderr}");
        return dom;
    }

    [GeneratedRegex("data-field=\"integrity\"><div>0 scrub passes.*?0 damaged, 0 repaired")]
    private static partial Regex IntegrityCell();

    [GeneratedRegex("data-field=\"uploads\">(\\d+)<")]
    private static partial Regex UploadsCell();
}
