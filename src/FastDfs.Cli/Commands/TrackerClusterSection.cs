using System.Globalization;
using FastDfs.Client;
using FastDfs.Protocol;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The tracker part of <c>fdfs monitor</c> (a FastDFS.NET addition after the stock layout): every configured
/// tracker, which one leads, and why the others do not (unreachable, follower of X, no leader yet).
/// </summary>
internal static class TrackerClusterSection
{
    /// <summary>One configured tracker as seen by asking it directly.</summary>
    internal sealed record TrackerState(FastDfsEndpoint Tracker, string Role, string Detail);

    public static async Task<IReadOnlyList<TrackerState>> QueryAsync(FastDfsClientOptions options, CancellationToken ct)
    {
        var states = new List<TrackerState>();
        foreach (var tracker in options.Trackers)
        {
            await using var client = new TrackerClient(options with { Trackers = [tracker], TrackerRetryCount = 0 });
            try
            {
                var leader = await client.GetLeaderAsync(ct).ConfigureAwait(false);
                states.Add(leader == tracker
                    ? new TrackerState(tracker, "leader", "")
                    : new TrackerState(tracker, "follower", $"follower of {leader}"));
            }
            catch (FastDfsConnectionException e)
            {
                states.Add(new TrackerState(tracker, "unreachable", e.Message));
            }
            catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
            {
                states.Add(new TrackerState(tracker, "no leader", "no leader elected yet (no storage has joined it)"));
            }
            catch (FastDfsException e)
            {
                states.Add(new TrackerState(tracker, "error", Errno.Describe((byte)e.ErrorCode)));
            }
        }

        return states;
    }

    public static string Format(IReadOnlyList<TrackerState> states)
    {
        var s = new StringWriter(CultureInfo.InvariantCulture);
        s.WriteLine($"Tracker cluster: {states.Count} tracker(s), leader: {states.FirstOrDefault(t => t.Role == "leader")?.Tracker.ToString() ?? "none"}");
        int index = 0;
        foreach (var state in states)
        {
            s.WriteLine(state.Detail.Length == 0
                ? $"\tTracker {++index}: {state.Tracker}  {state.Role}"
                : $"\tTracker {++index}: {state.Tracker}  {state.Role} ({state.Detail})");
        }

        return s.ToString();
    }

    public static async Task WriteAsync(FastDfsClientOptions options, TextWriter output, CancellationToken ct) =>
        await output.WriteAsync(Format(await QueryAsync(options, ct).ConfigureAwait(false))).ConfigureAwait(false);
}
