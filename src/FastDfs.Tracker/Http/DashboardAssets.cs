using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace FastDfs.Tracker.Http;

/// <summary>The dashboard's static files, embedded in the assembly (plain HTML, CSS and JS: no build step).</summary>
internal static class DashboardAssets
{
    private static readonly Dictionary<string, Asset> ByPath = Load();

    public static bool TryGet(string path, out Asset asset) => ByPath.TryGetValue(path, out asset!);

    private static Dictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var index = Read(assembly, "index.html", "text/html; charset=utf-8");
        return new Dictionary<string, Asset>(StringComparer.Ordinal)
        {
            ["/"] = index,
            ["/dashboard"] = index,
            ["/dashboard/"] = index,
            ["/dashboard.css"] = Read(assembly, "dashboard.css", "text/css; charset=utf-8"),
            ["/dashboard.js"] = Read(assembly, "dashboard.js", "text/javascript; charset=utf-8"),
        };
    }

    private static Asset Read(Assembly assembly, string name, string contentType)
    {
        using var stream = assembly.GetManifestResourceStream("FastDfs.Tracker.Dashboard." + name)
            ?? throw new InvalidOperationException($"dashboard resource {name} is missing from the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new Asset(copy.ToArray(), contentType);
    }

    internal sealed record Asset(byte[] Content, string ContentType)
    {
        public Task WriteAsync(HttpContext http)
        {
            http.Response.ContentType = ContentType;
            http.Response.ContentLength = Content.Length;
            http.Response.Headers.CacheControl = "no-cache";
            return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : http.Response.Body.WriteAsync(Content, http.RequestAborted).AsTask();
        }
    }
}
