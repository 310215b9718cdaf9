using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Tracker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastDfs.Tracker.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task GenericHost_RunsTheTrackerFromATrackerConfig()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var config = TrackerConfig.Default(TestTracker.NewBasePath()) with { BindAddr = "127.0.0.1", Port = 0, StoreLookup = StoreLookup.LoadBalance };
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        builder.Services.AddFastDfsTracker(config);
        using var host = builder.Build();
        await host.StartAsync(timeout.Token);

        var server = host.Services.GetRequiredService<TrackerServer>();
        Assert.NotEqual(0, server.EndPoint.Port);
        Assert.Equal(StoreLookup.LoadBalance, server.Config.StoreLookup);
        await using (var client = await RawConnection.ConnectAsync(server.EndPoint, timeout.Token))
        {
            Assert.Empty(await client.RequestOkAsync(FdfsCommand.ActiveTest));
        }

        await host.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task StoppedTracker_RefusesConnections_AndCanBeDisposedTwice()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = new TrackerServer(TrackerConfig.Default(TestTracker.NewBasePath()) with { BindAddr = "127.0.0.1", Port = 0 }, NullLoggerFactory.Instance);
        Assert.Throws<InvalidOperationException>(() => server.EndPoint);
        await server.StartAsync(timeout.Token);
        var endPoint = server.EndPoint;
        await server.StopAsync(timeout.Token);
        await server.DisposeAsync();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(
            async () => await RawConnection.ConnectAsync(endPoint, timeout.Token));
    }
}
