using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class ClientConfigTests
{
    private static ClientConfig Parse(string text) => ClientConfig.FromIni(IniFile.Parse(text, "/etc/fdfs"));

    [Fact]
    public void Sample_conf_with_included_http_conf_is_read_completely()
    {
        using var dir = new TempConfDir();
        dir.Write("http.conf", SampleConfs.Http);
        var c = ClientConfig.Load(dir.Write("client.conf", SampleConfs.Client));

        Assert.Equal(5, c.ConnectTimeout);
        Assert.Equal(60, c.NetworkTimeout);
        Assert.Equal("/opt/fastdfs", c.BasePath);
        Assert.Equal([new TrackerAddress("192.168.0.196", 22122), new TrackerAddress("192.168.0.197", 22122)],
            c.TrackerServers);
        Assert.Equal("info", c.LogLevel);
        Assert.Equal("last-connected", c.ConnectFirstBy);
        Assert.True(c.ConnectFirstByLastConnected);
        Assert.True(c.UseConnectionPool);
        Assert.Equal(1800, c.ConnectionPoolMaxIdleTime);
        Assert.False(c.LoadFdfsParametersFromTracker);
        Assert.True(c.UseStorageId);
        Assert.Equal(Path.Combine(dir.Root, "storage_ids.conf"), c.StorageIdsFilename);
        Assert.True(c.AntiStealCheckToken);                  // from the included http.conf
        Assert.Equal("FastDFS1234567890", c.AntiStealSecretKey);
        Assert.Equal(8080, c.HttpTrackerServerPort);
    }

    [Fact]
    public void Minimal_conf_gets_code_defaults()
    {
        var c = Parse("tracker_server = 10.0.0.1:22122");

        Assert.Equal(10, c.ConnectTimeout);
        Assert.Equal(30, c.NetworkTimeout);
        Assert.Equal("/tmp", c.BasePath);
        Assert.Equal("info", c.LogLevel);
        Assert.Equal("tracker", c.ConnectFirstBy);
        Assert.False(c.ConnectFirstByLastConnected);
        Assert.False(c.UseConnectionPool);
        Assert.Equal(3600, c.ConnectionPoolMaxIdleTime);
        Assert.False(c.LoadFdfsParametersFromTracker);
        Assert.False(c.UseStorageId);
        Assert.Equal("/etc/fdfs/storage_ids.conf", c.StorageIdsFilename);
        Assert.False(c.AntiStealCheckToken);
        Assert.Null(c.AntiStealSecretKey);
        Assert.Equal(80, c.HttpTrackerServerPort);

        var factory = ClientConfig.Default(c.TrackerServers);
        Assert.Equal(c with { StorageIdsFilename = factory.StorageIdsFilename }, factory);
    }

    [Fact]
    public void Use_storage_id_is_ignored_when_parameters_come_from_the_tracker()
    {
        var c = Parse("tracker_server = t:22122\nload_fdfs_parameters_from_tracker = true\nuse_storage_id = true");

        Assert.True(c.LoadFdfsParametersFromTracker);
        Assert.False(c.UseStorageId);
    }

    [Fact]
    public void Non_positive_timeouts_take_defaults()
    {
        var c = Parse("tracker_server = t:22122\nconnect_timeout = 0\nnetwork_timeout = -2");

        Assert.Equal(10, c.ConnectTimeout);
        Assert.Equal(30, c.NetworkTimeout);
    }

    [Theory]
    [InlineData("", "tracker_server")]
    [InlineData("tracker_server =", "tracker_server")]
    [InlineData("tracker_server = t:22122\nhttp.anti_steal.check_token = true", "http.anti_steal.secret_key")]
    [InlineData("tracker_server = t:22122\nhttp.anti_steal.check_token = yes\nhttp.anti_steal.secret_key =", "http.anti_steal.secret_key")]
    [InlineData("tracker_server = t:22122\nuse_connection_pool = true\nconnection_pool_max_idle_time = 0", "connection_pool_max_idle_time")]
    [InlineData("tracker_server = t:22122\nbase_path =", "base_path")]
    [InlineData("tracker_server = t:22122\nconnect_timeout = 5 # seconds", "connect_timeout")]
    [InlineData("tracker_server = t:22122\nhttp.tracker_server_port = 100000", "http.tracker_server_port")]
    public void Invalid_values_are_config_errors_naming_the_key(string text, string key)
    {
        ConfAssert.ThrowsFor(key, () => Parse(text));
    }
}
