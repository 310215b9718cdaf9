using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Network;

/// <summary>Everything the connection handler shares across connections of one tracker instance.</summary>
internal sealed class TrackerRuntime(TrackerOptions options, ILoggerFactory loggerFactory)
{
    private int _currentConnections;
    private int _peakConnections;

    public TrackerOptions Options { get; } = options;
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
    public ClusterState Cluster { get; } = new(options, loggerFactory.CreateLogger<ClusterState>());
    public long StartTime { get; } = ClusterState.Now;
    public int CurrentConnections => Volatile.Read(ref _currentConnections);
    public int PeakConnections => Volatile.Read(ref _peakConnections);

    /// <summary>Request metrics, present when the HTTP server (which exports them) is on.</summary>
    public Http.TrackerMetrics? Metrics { get; set; }

    public void ConnectionOpened()
    {
        int now = Interlocked.Increment(ref _currentConnections);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakConnections)) &&
               Interlocked.CompareExchange(ref _peakConnections, now, peak) != peak)
        {
        }
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _currentConnections);
}
