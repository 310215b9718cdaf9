using System.Net;
using FastDfs.Protocol;
using FastDfs.TestSupport.Fuzzing;
using FastDfs.Tracker.Tests.Infrastructure;

namespace FastDfs.Tracker.Tests.Fuzzing;

/// <summary>
/// The tracker port fed generated frames over real sockets (<see cref="SessionFuzzer"/>): client queries, monitor and
/// admin commands, storage joins, beats and reports, tracker peer commands, from stock's captured frames with random
/// edits and from random bytes.
/// </summary>
public sealed class TrackerSessionFuzzTests
{
    [Fact]
    public async Task Generated_frames_never_crash_hang_or_bloat_the_tracker()
    {
        var log = new ErrorLog();
        await using var tracker = await TestTracker.StartAsync(c => c with { NetworkTimeout = 5 }, timeoutSeconds: 600, loggers: log);
        await using var storage = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");

        byte[] commands = [.. Enum.GetValues<FdfsCommand>().Select(c => (byte)c)];
        var run = await SessionFuzzer.RunAsync(tracker.EndPoint, SessionFuzzer.Conversations([.. commands.Distinct()], FuzzInputs.FramesTo("tracker")), log,
            FuzzInputs.Iterations(1500));

        Assert.Empty(log.Errors);
        // The generator reaches the commands: most cases are answered, with successes and refusals both.
        Assert.True(run.Answered > run.Cases / 2, $"{run.Answered} of {run.Cases} cases answered");
        Assert.Contains((byte)0, run.Statuses);
        Assert.True(run.Statuses.Count >= 3, "statuses seen: " + string.Join(",", run.Statuses));
        await SessionFuzzer.ExpectActiveAsync(tracker.EndPoint);
    }

    [Fact]
    public async Task Generated_frames_cut_anywhere_in_memory_never_crash_or_hang_the_tracker_session()
    {
        var log = new ErrorLog();
        await using var tracker = await TestTracker.StartAsync(c => c with { NetworkTimeout = 5 }, timeoutSeconds: 600, loggers: log);
        await using var storage = await tracker.ActiveStorageAsync(localIp: "127.0.0.2");

        byte[] commands = [.. Enum.GetValues<FdfsCommand>().Select(c => (byte)c).Distinct()];
        var run = await SessionFuzzer.RunFragmentedAsync(transport => tracker.Server.ServeAsync(transport),
            SessionFuzzer.FragmentedConversations(commands, FuzzInputs.FramesTo("tracker")), log, FuzzInputs.Iterations(1500));

        Assert.Empty(log.Errors);
        Assert.True(run.Answered > run.Cases / 2, $"{run.Answered} of {run.Cases} cases answered");
        await SessionFuzzer.ExpectActiveAsync(tracker.EndPoint);
    }
}
