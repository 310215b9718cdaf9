using FastDfs.Storage.Store;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// Hot spares: when a store path's disk fails while the storage runs, the first unused <c>spare_store_path</c> takes its
/// place (the path's files keep their names), and is refilled from the group's peers while the storage goes on serving
/// its other paths. The trackers send the path's readers elsewhere until the spare is whole (STORE_PATH_HEALTH). The
/// takeover is recorded (<see cref="SparePaths"/>), and an interrupted refill resumes at the next start.
/// </summary>
internal sealed class SpareTakeover(StorageState state, DiskRecovery recovery, ILogger logger)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Takes over failed paths as long as spares remain; checks every <paramref name="interval"/>.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await TakeOverFailedAsync(stop).ConfigureAwait(false);
                await Task.Delay(interval, state.Clock, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever the failed disk or the spare throws, this loop (and a clean stop) must go on.
                logger.LogError(e, "taking over a failed store path with a spare failed; trying again");
                await Task.Delay(interval, state.Clock, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One round: every failed path (not already refilling) gets a spare, in turn, while there are spares.</summary>
    public async Task TakeOverFailedAsync(CancellationToken ct)
    {
        foreach (var path in state.Paths.All.ToList())
        {
            if (path.Failure is null || path.Refilling)
            {
                continue;
            }

            string? spare = SparePaths.Unused(state.Config with { StorePaths = [.. state.Paths.All.Select(p => new Protocol.Config.StorePath(p.Root))] })
                .FirstOrDefault(s => !_used.Contains(s));
            if (spare is null)
            {
                return;
            }

            _used.Add(spare);
            await TakeOverAsync(path.Index, path.Root, path.Failure, spare, ct).ConfigureAwait(false);
        }
    }

    private async Task TakeOverAsync(int index, string failedRoot, string failure, string spare, CancellationToken ct)
    {
        logger.LogWarning("store path {Index} ({Path}) failed ({Failure}): the spare {Spare} takes its place and is refilled from the peers",
            index, failedRoot, failure, spare);
        var path = state.Paths.Replace(index, spare);
        // Only the spare's directories: another failed path's vanished mount point must not get a fresh, empty tree.
        state.Paths.EnsureDirectories(index);
        // The refill is due before anything records the takeover: a crash from here on finds the flag on the spare and
        // resumes the refill at the next start, never an empty spare in service.
        new RecoveryFiles(path.DataDirectory).WriteFlag(new RecoveryFiles.Flag(RecoveryFiles.UnknownStatus, false, -1));
        string mark = StorePathMark.Build(state.SourceIp, state.Port, index, state.Now);
        StorePathMark.Write(path.DataDirectory, mark);
        state.InitFlag.StorePathMarks[index] = mark;
        state.InitFlag.Save();
        SparePaths.Record(state.DataDirectory, index, spare);

        var result = await recovery.RecoverAsync(index, ct, whileServing: true).ConfigureAwait(false);
        path.Refilling = false;
        path.SetFailure(null);
        state.Paths.HealthChanged();
        logger.LogWarning("store path {Index} is whole again on the spare {Spare} ({Files} files, {Bytes} bytes): back in service. "
            + "Point store_path{Index} at it in storage.conf when convenient.", index, spare, result.Files, result.Bytes, index);
    }
}
