namespace FastDfs.Client.Tests;

public class OptionsTests
{
    [Fact]
    public void FromFile_reads_trackers_timeouts_and_pooling_from_a_stock_client_conf()
    {
        string path = Path.Combine(Path.GetTempPath(), $"client-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, "connect_timeout = 5\nnetwork_timeout = 60\nbase_path = /tmp\n" +
            "tracker_server = 10.0.0.1:22122\ntracker_server = 10.0.0.2:22123\nuse_connection_pool = true\n" +
            "connection_pool_max_idle_time = 120\n[access-log]\nenabled = false\n");
        try
        {
            var options = FastDfsClientOptions.FromFile(path);

            Assert.Equal([new FastDfsEndpoint("10.0.0.1", 22122), new FastDfsEndpoint("10.0.0.2", 22123)], options.Trackers);
            Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
            Assert.Equal(TimeSpan.FromSeconds(60), options.NetworkTimeout);
            Assert.True(options.UseConnectionPool);
            Assert.Equal(TimeSpan.FromSeconds(120), options.ConnectionPoolMaxIdleTime);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:22122", "127.0.0.1", 22122)]
    [InlineData("tracker.local", "tracker.local", 22122)]
    [InlineData("[::1]:23000", "::1", 23000)]
    public void Endpoint_parses_host_and_port(string text, string host, int port) =>
        Assert.Equal(new FastDfsEndpoint(host, port), FastDfsEndpoint.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("host:0")]
    [InlineData("host:abc")]
    public void Endpoint_rejects_bad_addresses(string text) =>
        Assert.False(FastDfsEndpoint.TryParse(text, 22122, out _));
}
