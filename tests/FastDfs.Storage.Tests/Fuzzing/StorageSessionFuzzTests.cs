using System.Net;
using FastDfs.Protocol;
using FastDfs.TestSupport.Fuzzing;

namespace FastDfs.Storage.Tests.Fuzzing;

/// <summary>
/// The storage port fed generated frames over real sockets (<see cref="SessionFuzzer"/>): client, storage-to-storage and
/// trunk commands, from stock's captured frames with random edits and from random bytes. The caller plays a member of
/// the group, so replication and trunk commands are parsed and applied too. A file stored before the run must still be
/// whole after it (an edit that hits its 44-character name is all but impossible).
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class StorageSessionFuzzTests
{
    [Fact]
    public async Task Generated_frames_never_crash_hang_or_bloat_the_storage()
    {
        var log = new ErrorLog();
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { NetworkTimeout = 5 }, loggers: log);
        byte[] content = "kept through the fuzzing"u8.ToArray();
        string fileName = await storage.UploadAsync(content, "txt");

        byte[] commands = [.. Enum.GetValues<FdfsCommand>().Select(c => (byte)c)];
        var endPoint = new IPEndPoint(IPAddress.Loopback, storage.Server.EndPoint.Port);
        var run = await SessionFuzzer.RunAsync(endPoint, SessionFuzzer.Conversations([.. commands.Distinct()], FuzzInputs.FramesTo("storage")), log,
            FuzzInputs.Iterations(1500));

        Assert.Empty(log.Errors);
        // The generator reaches the commands: most cases are answered, with successes and refusals both.
        Assert.True(run.Answered > run.Cases / 2, $"{run.Answered} of {run.Cases} cases answered");
        Assert.Contains((byte)0, run.Statuses);
        Assert.True(run.Statuses.Count >= 3, "statuses seen: " + string.Join(",", run.Statuses));
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(fileName)));
    }

    [Fact]
    public async Task Generated_frames_cut_anywhere_in_memory_never_crash_or_hang_the_storage_session()
    {
        var log = new ErrorLog();
        await using var storage = await TestStorage.StartAsync(tweak: c => c with { NetworkTimeout = 5 }, loggers: log);
        byte[] content = "kept through the fuzzing"u8.ToArray();
        string fileName = await storage.UploadAsync(content, "txt");

        byte[] commands = [.. Enum.GetValues<FdfsCommand>().Select(c => (byte)c).Distinct()];
        var run = await SessionFuzzer.RunFragmentedAsync(transport => storage.Server.ServeAsync(transport),
            SessionFuzzer.FragmentedConversations(commands, FuzzInputs.FramesTo("storage")), log, FuzzInputs.Iterations(1500));

        Assert.Empty(log.Errors);
        Assert.True(run.Answered > run.Cases / 2, $"{run.Answered} of {run.Cases} cases answered");
        Assert.Equal(content, await File.ReadAllBytesAsync(storage.FullPath(fileName)));
    }
}
