using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

/// <summary>Stock keys FastDFS.NET does not act on are warned about when a conf changes them from stock's sample value.</summary>
public sealed class StockKeysNotActedOnTests
{
    [Fact]
    public void The_stock_style_sample_confs_warn_about_nothing()
    {
        using var dir = new TempConfDir();
        Assert.Empty(StorageConfig.Load(dir.Write("storage.conf", SampleConfs.Storage)).NotActedOn);
        Assert.Empty(TrackerConfig.Load(dir.Write("tracker.conf", SampleConfs.Tracker)).NotActedOn);
    }

    [Fact]
    public void Changed_keys_are_named_with_their_line_and_reason_and_equal_spellings_of_the_sample_value_are_not()
    {
        using var dir = new TempConfDir();
        string path = dir.Write("storage.conf", $"""
            group_name = group1
            base_path = {dir.Root}
            store_path0 = {dir.Root}
            tracker_server = 10.0.0.1:22122
            work_threads = 16
            disk_rw_separated = yes
            run_by_user = fdfs
            use_io_uring = 1
            log_file_keep_days = 15
            [access-log]
            enabled = true
            """);
        var warnings = StorageConfig.Load(path).NotActedOn;
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.StartsWith("work_threads = 16 (", StringComparison.Ordinal) && w.Contains("line 5", StringComparison.Ordinal) && w.Contains("threads are .NET's", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("run_by_user = fdfs", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("use_io_uring = 1", StringComparison.Ordinal));
        // Left at the sample's value, or acted on (the log keys and the access log are).
        Assert.DoesNotContain(warnings, w => w.Contains("disk_rw_separated", StringComparison.Ordinal) || w.Contains("log_file_keep_days", StringComparison.Ordinal)
            || w.Contains("access-log", StringComparison.Ordinal));

        string tracker = dir.Write("tracker.conf", $"base_path = {dir.Root}\nmax_buff_size = 1MB\nthread_stack_size = 256KB\n");
        Assert.Equal(["max_buff_size = 1MB"], TrackerConfig.Load(tracker).NotActedOn.Select(w => w[..w.IndexOf(" (", StringComparison.Ordinal)]));
    }
}
