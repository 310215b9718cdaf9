using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Store;

/// <summary>
/// Removes the temporary files a crash left in the sub-directories: an upload's <c>.N-XXXX.tmp</c>, a metadata file's
/// <c>.&lt;name&gt;-m.N.tmp</c>, a repair's <c>.repair-N.tmp</c>, all hidden (a stored name never starts with a dot) and
/// written before their rename into place. Only files older than this
/// process can be leftovers; walking every <c>data/HH/LL</c> takes a while, so it runs in the background once after
/// start and never delays serving.
/// </summary>
internal static class LeftoverSweeper
{
    public static async Task<int> SweepAsync(StorePathSet paths, DateTime startedUtc, ILogger logger, CancellationToken stop)
    {
        int removed = 0;
        foreach (var path in paths.All)
        {
            if (!Directory.Exists(path.DataDirectory))
            {
                continue;
            }

            for (int high = 0; high < paths.SubdirCount; high++)
            {
                for (int low = 0; low < paths.SubdirCount; low++)
                {
                    stop.ThrowIfCancellationRequested();
                    string directory = paths.SubdirPath(path.Index, high, low);
                    removed += SweepDirectory(directory, startedUtc, logger);
                }

                // One store path's 256 x 256 directories are a lot of metadata reads: let requests go first.
                await Task.Yield();
            }
        }

        if (removed > 0)
        {
            logger.LogInformation("removed {Count} temporary file(s) left by an earlier run", removed);
        }

        return removed;
    }

    private static int SweepDirectory(string directory, DateTime startedUtc, ILogger logger)
    {
        int removed = 0;
        try
        {
            foreach (string file in Directory.EnumerateFiles(directory, "*.tmp"))
            {
                if (Path.GetFileName(file).StartsWith('.') && File.GetLastWriteTimeUtc(file) < startedUtc)
                {
                    File.Delete(file);
                    logger.LogDebug("removed the leftover temporary file {Path}", file);
                    removed++;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("sweeping {Directory} for leftover temporary files failed: {Message}", directory, e.Message);
        }

        return removed;
    }
}
