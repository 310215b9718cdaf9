using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FastDfs.IntegrationTests;

/// <summary>The client as an application gets it from dependency injection: AddFastDfs, its options and health check.</summary>
public sealed class DependencyInjectionTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddFastDfs(builder.Configuration.GetSection("FastDfs"));
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task A_client_bound_from_configuration_uploads_downloads_and_deletes_and_is_one_shared_instance()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        using var host = BuildHost(new()
        {
            ["FastDfs:Trackers:0"] = cluster.TrackerAddress,
            ["FastDfs:NetworkTimeout"] = "00:00:07",
            ["FastDfs:MaxConnectionsPerEndpoint"] = "9",
        });
        await host.StartAsync(ct);

        var client = host.Services.GetRequiredService<IFastDfsClient>();
        Assert.Same(host.Services.GetRequiredService<FastDfsClient>(), client);
        using (var scope = host.Services.CreateScope())
        {
            Assert.Same(client, scope.ServiceProvider.GetRequiredService<IFastDfsClient>());
        }

        var concrete = (FastDfsClient)client;
        Assert.Equal(TimeSpan.FromSeconds(7), concrete.Options.NetworkTimeout);
        Assert.Equal(9, concrete.Options.MaxConnectionsPerEndpoint);
        Assert.Equal([FastDfsEndpoint.Parse(cluster.TrackerAddress)], concrete.Options.Trackers);

        byte[] content = "bytes through dependency injection"u8.ToArray();
        var id = await client.UploadAsync(content, ".txt", ct: ct);
        Assert.EndsWith(".txt", id.ToString());
        Assert.Equal(content, await client.DownloadBytesAsync(id, ct: ct));
        await client.DeleteAsync(id, ct);
        var gone = await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct));
        Assert.Equal(Protocol.Errno.ENOENT, gone.ErrorCode);

        await host.StopAsync(ct);
    }

    [Fact]
    public async Task Options_set_in_code_and_a_stock_client_conf_give_the_client_its_settings()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        string conf = Path.Combine(cluster.Root, "client.conf");
        await File.WriteAllTextAsync(conf, $"connect_timeout = 4\nnetwork_timeout = 11\nbase_path = {cluster.Root}\ntracker_server = {cluster.TrackerAddress}\nuse_connection_pool = false\n" +
            "http.tracker_server_port = 8081\nhttp.anti_steal.check_token = true\nhttp.anti_steal.secret_key = K3y\nhttp.anti_steal.token_ttl = 120\n", ct);

        var services = new ServiceCollection();
        services.AddFastDfs(o =>
        {
            o.ClientConfigPath = conf;
            o.NetworkTimeout = TimeSpan.FromSeconds(12); // beside the file: wins
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<FastDfsClient>();
        Assert.Equal(TimeSpan.FromSeconds(4), client.Options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(12), client.Options.NetworkTimeout);
        Assert.False(client.Options.UseConnectionPool);
        Assert.Equal(8081, client.Options.HttpTrackerServerPort);
        Assert.Equal("K3y", client.Options.AntiStealSecretKey);
        Assert.Equal(TimeSpan.FromSeconds(120), client.Options.AntiStealTokenTtl);
        Assert.Equal([FastDfsEndpoint.Parse(cluster.TrackerAddress)], client.Options.Trackers);

        var id = await client.UploadAsync([1, 2, 3], "bin", ct: ct);
        Assert.Equal(new byte[] { 1, 2, 3 }, await provider.GetRequiredService<IFastDfsClient>().DownloadBytesAsync(id, ct: ct));
    }

    [Theory]
    [InlineData(null, null, null, "FastDfs:Trackers is empty")]
    [InlineData("not a port:x:y", null, null, "'not a port:x:y' is not a host:port address")]
    [InlineData("127.0.0.1:70000", null, null, "'127.0.0.1:70000' is not a host:port address")]
    [InlineData(null, "/nonexistent/client.conf", null, "FastDfs:ClientConfigPath")]
    [InlineData("127.0.0.1:22122", null, "-1", "MaxConnectionsPerEndpoint")]
    public async Task Invalid_options_stop_the_host_at_start_with_the_setting_named(string? tracker, string? clientConf, string? maxConnections, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FastDfs:Trackers:0"] = tracker,
            ["FastDfs:ClientConfigPath"] = clientConf,
            ["FastDfs:MaxConnectionsPerEndpoint"] = maxConnections,
        };
        using var host = BuildHost(settings);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Timeouts.Test()));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Http_url_settings_bind_and_a_base_url_that_is_not_http_is_refused()
    {
        using var host = BuildHost(new()
        {
            ["FastDfs:Trackers:0"] = "10.0.0.7",
            ["FastDfs:HttpBaseUrl"] = "https://files.example.com",
            ["FastDfs:AntiStealSecretKey"] = "s3cret",
            ["FastDfs:AntiStealTokenTtl"] = "00:15:00",
        });
        await host.StartAsync(Timeouts.Test());
        var client = host.Services.GetRequiredService<FastDfsClient>();
        Assert.Equal(new Uri("https://files.example.com"), client.Options.HttpBaseUrl);
        Assert.Equal(22122, client.Options.Trackers[0].Port);
        Assert.StartsWith("https://files.example.com/group1/M00/00/00/", client.GetHttpUrl(Protocol.FileIds.FileId.Parse("group1/M00/00/00/wKgAAWdXAAAAAAAAAAAAAA1234567.jpg")).ToString());
        Assert.Equal(TimeSpan.FromMinutes(15), client.Options.AntiStealTokenTtl);
        await host.StopAsync();

        using var refused = BuildHost(new() { ["FastDfs:Trackers:0"] = "10.0.0.7", ["FastDfs:HttpBaseUrl"] = "ftp://files.example.com" });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => refused.StartAsync(Timeouts.Test()));
        Assert.Contains("FastDfs:HttpBaseUrl", error.Message);
    }

    [Fact]
    public async Task The_health_check_is_healthy_with_a_tracker_and_unhealthy_without_one()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await cluster.WaitForActiveAsync(1, ct);
        foreach (var (tracker, expected) in new[] { (cluster.TrackerAddress, HealthStatus.Healthy), ($"127.0.0.1:{FreePorts.On()}", HealthStatus.Unhealthy) })
        {
            using var host = BuildHost(new() { ["FastDfs:Trackers:0"] = tracker, ["FastDfs:ConnectTimeout"] = "00:00:02" },
                services => services.AddHealthChecks().AddFastDfs(tags: ["storage"]));
            await host.StartAsync(ct);
            var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
            var entry = Assert.Single(report.Entries);
            Assert.Equal("fastdfs", entry.Key);
            Assert.Equal(expected, entry.Value.Status);
            Assert.Equal(["storage"], entry.Value.Tags);
            if (expected == HealthStatus.Healthy)
            {
                Assert.Contains("group1", entry.Value.Data.Keys);
            }
            else
            {
                Assert.Contains("no tracker answered", entry.Value.Description);
            }

            await host.StopAsync(ct);
        }
    }
}
