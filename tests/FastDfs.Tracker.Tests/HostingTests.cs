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

    [Fact]
    public async Task Connections_beyond_max_connections_are_closed_and_a_freed_slot_is_usable()
    {
        await using var tracker = await TestTracker.StartAsync(c => c with { MaxConnections = 2 });
        await using var first = await tracker.ConnectAsync();
        await using var second = await tracker.ConnectAsync();
        Assert.Empty(await first.RequestOkAsync(FdfsCommand.ActiveTest));
        Assert.Empty(await second.RequestOkAsync(FdfsCommand.ActiveTest));
        await using (var third = await tracker.ConnectAsync())
        {
            Assert.True(await third.IsClosedByServerAsync());
        }

        await first.DisposeAsync();
        // The tracker notices the close asynchronously: poll until a new connection is served.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await using var retry = await tracker.ConnectAsync();
            try
            {
                Assert.Empty(await retry.RequestOkAsync(FdfsCommand.ActiveTest));
                break;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task Stop_ends_idle_connections_without_waiting_for_the_grace_period()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = new TrackerServer(TrackerConfig.Default(TestTracker.NewBasePath()) with { BindAddr = "127.0.0.1", Port = 0 }, NullLoggerFactory.Instance);
        await server.StartAsync(timeout.Token);
        await using var idle = await RawConnection.ConnectAsync(server.EndPoint, timeout.Token);
        Assert.Empty(await idle.RequestOkAsync(FdfsCommand.ActiveTest));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await server.StopAsync(timeout.Token);
        Assert.True(await idle.IsClosedByServerAsync());
        // Idle connections do not wait for the one-second grace that requests in flight get.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"stop took {stopwatch.Elapsed}");
    }
}
