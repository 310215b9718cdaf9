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

    [Fact]
    public async Task At_800_pixels_the_page_does_not_scroll_sideways_and_the_storage_table_fits()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} not found: install the Debian package chromium (.ci/run does)");
        var ct = Timeouts.Test(120);
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true);
        await cluster.WaitForActiveAsync(1, ct);
        var page = new Uri(cluster.TrackerHttp, "/dashboard");

        foreach (int width in new[] { 800, 1280 })
        {
            using var layout = await LayoutAsync(page, width, cluster.Root, ct);
            var root = layout.RootElement;
            Assert.True(root.GetProperty("page").GetInt32() <= width, $"{width} px: the page is {root.GetProperty("page")} px wide: {root}");
            foreach (var table in root.GetProperty("tables").EnumerateArray())
            {
                Assert.True(table[0].GetInt32() <= table[1].GetInt32(), $"{width} px: a table of {table[0]} px in a box of {table[1]} px: {root}");
            }
        }
    }

    /// <summary>
    /// Opens the page in headless Chromium at <paramref name="width"/> pixels and measures, once the storage table is
    /// drawn, the page's width and each table's against its box (Chrome's DevTools protocol, over a WebSocket).
    /// </summary>
    private static async Task<System.Text.Json.JsonDocument> LayoutAsync(Uri page, int width, string scratch, CancellationToken ct)
    {
        var start = new ProcessStartInfo(ChromiumPath) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-port=0",
                     $"--window-size={width},700", $"--user-data-dir={Path.Combine(scratch, "chromium-" + Guid.NewGuid().ToString("N")[..8])}",
                     page.ToString()])
        {
            start.ArgumentList.Add(arg);
        }

        using var chromium = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        _ = chromium.StandardOutput.ReadToEndAsync(ct);
        try
        {
            string? line;
            Uri? devtools = null;
            while (devtools is null && (line = await chromium.StandardError.ReadLineAsync(ct)) is not null)
            {
                if (DevToolsLine().Match(line) is { Success: true } m)
                {
                    devtools = new Uri(m.Groups[1].Value);
                }
            }

            Assert.NotNull(devtools);
            _ = chromium.StandardError.ReadToEndAsync(ct);
            using var http = new HttpClient();
            string? target = null;
            await Eventually.TrueAsync(async () =>
            {
                using var targets = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{devtools.Port}/json/list", ct));
                target = targets.RootElement.EnumerateArray().Where(t => t.GetProperty("type").GetString() == "page")
                    .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
                return target is not null;
            }, TimeSpan.FromSeconds(30), "chromium's page target", ct);

            using var socket = new System.Net.WebSockets.ClientWebSocket();
            await socket.ConnectAsync(new Uri(target!), ct);
            const string Measure = "document.querySelector('[data-field=status]') === null ? null : JSON.stringify({ page: document.documentElement.scrollWidth, " +
                                   "tables: [...document.querySelectorAll('table')].map(t => [t.offsetWidth, t.parentElement.clientWidth]) })";
            string? result = null;
            int id = 0;
            await Eventually.TrueAsync(async () =>
            {
                result = await EvaluateAsync(socket, ++id, Measure, ct);
                return result is not null;
            }, TimeSpan.FromSeconds(30), "the storage table to be drawn", ct);
            return System.Text.Json.JsonDocument.Parse(result!);
        }
        finally
        {
            chromium.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Runtime.evaluate of a string expression: its value, or null when it is null.</summary>
    private static async Task<string?> EvaluateAsync(System.Net.WebSockets.ClientWebSocket socket, int id, string expression, CancellationToken ct)
    {
        byte[] request = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["id"] = id,
            ["method"] = "Runtime.evaluate",
            ["params"] = new Dictionary<string, object> { ["expression"] = expression, ["returnByValue"] = true },
        });
        await socket.SendAsync(request, System.Net.WebSockets.WebSocketMessageType.Text, true, ct);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            System.Net.WebSockets.WebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer, ct);
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            using var reply = System.Text.Json.JsonDocument.Parse(message.ToArray());
            if (reply.RootElement.TryGetProperty("id", out var replyId) && replyId.GetInt32() == id)
            {
                var value = reply.RootElement.GetProperty("result").GetProperty("result");
                return value.TryGetProperty("value", out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
            }
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();

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
