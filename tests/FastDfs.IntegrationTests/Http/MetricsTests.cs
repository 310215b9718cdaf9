using FastDfs.IntegrationTests.Infrastructure;

namespace FastDfs.IntegrationTests.Http;

/// <summary><c>/metrics</c> (Prometheus text) on the storage and the tracker after some traffic.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Storage_and_tracker_export_request_byte_disk_and_sync_series()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true);
        await using var client = cluster.CreateClient();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var id = await client.UploadAsync(new byte[4096], "bin", ct: ct);
        await client.DownloadBytesAsync(id, ct: ct);
        Assert.Equal(4096, (await http.GetByteArrayAsync(new Uri(cluster.StorageHttp(), "/" + id), ct)).Length);

        string storage = await http.GetStringAsync(new Uri(cluster.StorageHttp(), "/metrics"), ct);

        Series(storage, "fastdfs_storage_requests_total", 1, "command=\"upload_file\"", "status=\"0\"");
        Series(storage, "fastdfs_storage_requests_total", 1, "command=\"download_file\"", "status=\"0\"");
        Assert.Contains("fastdfs_storage_request_duration_seconds_bucket{", storage);
        // Buckets in seconds (100 µs .. 60 s), so that a 4 KB request does not land in the first of millisecond-sized ones.
        Assert.Matches("fastdfs_storage_request_duration_seconds_bucket\\{[^}]*le=\"0.0005\"", storage);
        Assert.Matches("target_info\\{[^}]*service_name=\"fdfs-storage\"", storage);
        Series(storage, "fastdfs_storage_bytes_total", 4096, "direction=\"in\"", "kind=\"upload\"");
        // The stock stat counters: the binary download and the HTTP GET of the 4 KB file.
        Series(storage, "fastdfs_storage_bytes_total", 8192, "direction=\"out\"", "kind=\"download\"");
        Series(storage, "fastdfs_storage_http_requests_total", 1, "code=\"200\"", "method=\"GET\"");
        Series(storage, "fastdfs_storage_http_sent_bytes_total", 4096);
        Assert.Matches("fastdfs_storage_disk_free_bytes\\{[^}]*store_path=\"M00\"\\} [1-9]", storage);
        Assert.Matches("fastdfs_storage_disk_failed\\{[^}]*store_path=\"M00\"[^}]*\\} 0", storage);
        Assert.Matches("fastdfs_storage_disk_total_bytes\\{[^}]*store_path=\"M00\"\\} [1-9]", storage);
        Assert.Contains("fastdfs_storage_connections{", storage);
        Assert.Contains("fastdfs_storage_sync_lag_seconds{", storage);

        // The storage's counters reach the tracker with its next heartbeat (every second in TestCluster).
        string tracker = "";
        await Eventually.TrueAsync(async () =>
        {
            tracker = await http.GetStringAsync(new Uri(cluster.TrackerHttp, "/metrics"), ct);
            return System.Text.RegularExpressions.Regex.IsMatch(tracker, "fastdfs_tracker_storage_operations_total\\{[^}]*op=\"upload\"[^}]*\\} 1");
        }, TimeSpan.FromSeconds(20), "the tracker to see the upload in a heartbeat", ct);
        Series(tracker, "fastdfs_tracker_requests_total", 1, "command=\"query_store_without_group_one\"");
        Assert.Contains("fastdfs_tracker_request_duration_seconds_bucket{", tracker);
        Assert.Matches("fastdfs_tracker_request_duration_seconds_bucket\\{[^}]*le=\"0.0001\"", tracker);
        Assert.Matches("target_info\\{[^}]*service_name=\"fdfs-tracker\"", tracker);
        Series(tracker, "fastdfs_tracker_storages", 1, "group=\"group1\"", "status=\"ACTIVE\"");
        Assert.Matches("fastdfs_tracker_storage_sync_lag_seconds\\{[^}]*group=\"group1\"[^}]*\\} 0", tracker);
        Assert.Matches("fastdfs_tracker_storage_disk_free_bytes\\{[^}]*group=\"group1\"[^}]*\\} [1-9]", tracker);
        Assert.Contains("fastdfs_tracker_connections{", tracker);
    }

    /// <summary>A series with these labels (among others, e.g. otel_scope_name) and this value.</summary>
    private static void Series(string text, string name, long value, params string[] labels)
    {
        bool found = text.Split('\n').Any(line => line.StartsWith(name + "{", StringComparison.Ordinal) &&
                                                   line.EndsWith("} " + value, StringComparison.Ordinal) &&
                                                   labels.All(label => line.Contains(label, StringComparison.Ordinal)));
        Assert.True(found, $"no {name} with {string.Join(",", labels)} = {value} in:\n{text}");
    }
}
