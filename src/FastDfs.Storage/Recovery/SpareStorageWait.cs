using System.Globalization;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Store;
using FastDfs.Storage.Tracking;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// A spare storage (storage.conf <c>spare_storage = true</c>) before it has a group: it reports to every tracker each
/// heartbeat (SPARE_STORAGE, a FastDFS.NET command, 251) until the leader gives it the place of a member that has been
/// OFFLINE for <c>spare_storage_takeover_time</c>, tells the other trackers, records the group in
/// <c>data/spare_storage.dat</c> and then starts as a new member of that group (a full copy from a peer, then ACTIVE).
/// </summary>
internal sealed class SpareStorageWait(StorageConfig config, TimeProvider clock, ILogger logger)
{
    public const string FileName = "spare_storage.dat";

    /// <summary>Rounds a follower that does not take the leader's choice over yet is asked again before the spare goes on.</summary>
    private const int FollowerRounds = 5;

    private const string Remedy = "fix it (group_name=, replaced_storage=) or delete it to wait for a place again";

    private TimeSpan Interval => TimeSpan.FromSeconds(Math.Max(1, config.HeartBeatInterval));
    private TimeSpan ConnectTimeout => TimeSpan.FromSeconds(config.ConnectTimeout > 0 ? config.ConnectTimeout : 10);
    private TimeSpan NetworkTimeout => TimeSpan.FromSeconds(config.NetworkTimeout > 0 ? config.NetworkTimeout : 30);

    public static string FilePath(StorageConfig config) => Path.Combine(config.BasePath, "data", FileName);

    /// <summary>The place recorded by an earlier start, or null.</summary>
    public static SpareAssignment? Load(StorageConfig config)
    {
        var values = StateFile.TryRead(FilePath(config), Remedy);
        if (values is null)
        {
            return null;
        }

        if (!values.TryGetValue("group_name", out string? group) || group.Length is 0 or > ProtocolConstants.GroupNameMaxLen || !group.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidDataException($"{FilePath(config)} has no valid group_name: {Remedy}");
        }

        return new SpareAssignment(group, values.GetValueOrDefault("replaced_storage", ""));
    }

    /// <summary>The configuration with the spare's group: the recorded one, or the one the trackers give it (waits until then).</summary>
    public async Task<StorageConfig> ResolveAsync(CancellationToken ct)
    {
        if (Load(config) is { } recorded)
        {
            logger.LogInformation("spare storage: a member of {Group} (in place of {Replaced}) since it was given that place; see {File}",
                recorded.Group, recorded.ReplacedId, FileName);
            return config with { GroupName = recorded.Group };
        }

        if (config.Port <= 0)
        {
            throw new InvalidOperationException("spare_storage = true needs a fixed port (the trackers know a spare by its address and port)");
        }

        logger.LogInformation("spare storage: waiting for a place in {Wanted} (a member OFFLINE for the trackers' spare_storage_takeover_time)",
            config.GroupName ?? "any group");
        SpareAssignment? assigned = null;
        int followerRounds = 0;
        while (true)
        {
            var (leaderChoice, pending) = await ReportAsync(assigned, ct).ConfigureAwait(false);
            if (assigned is null && leaderChoice is { } choice)
            {
                // Recorded at once: a spare restarted from here on is that member, whatever the trackers remember.
                Record(choice);
                assigned = choice;
                logger.LogWarning("spare storage: the tracker leader gives it the place of {Group}/{Replaced} (recorded in {File}): telling the " +
                    "other trackers", choice.Group, choice.ReplacedId, FileName);
                continue;
            }

            if (assigned is { } place && (pending == 0 || ++followerRounds >= FollowerRounds))
            {
                if (pending > 0)
                {
                    logger.LogWarning("spare storage: {Pending} tracker(s) did not take over the retirement of {Replaced}; they keep it OFFLINE",
                        pending, place.ReplacedId);
                }

                logger.LogWarning("spare storage: joins {Group} in place of {Replaced}; it gets a full copy from a peer", place.Group, place.ReplacedId);
                return config with { GroupName = place.Group };
            }

            await Task.Delay(Interval, clock, ct).ConfigureAwait(false);
        }
    }

    /// <summary>One report to every tracker: the place a deciding tracker gives, and how many reachable trackers still lack the claim.</summary>
    private async Task<(SpareAssignment? Choice, int Pending)> ReportAsync(SpareAssignment? claim, CancellationToken ct)
    {
        var (totalMb, freeMb) = FreeSpace();
        var body = new SpareStorageReport(config.GroupName ?? "", claim?.Group ?? "", claim?.ReplacedId ?? "", config.AnnounceIp ?? "",
            config.Port, config.StorePaths.Count, config.SubdirCountPerPath, totalMb, freeMb).ToArray();
        var bind = StorageState.ClientBindAddressOf(config);
        byte[]? key = StorageState.PeerKeyOf(config);
        SpareAssignment? choice = null;
        int pending = 0;
        foreach (var tracker in config.TrackerServers)
        {
            try
            {
                await using var connection = await TrackerConnection.ConnectAsync(tracker.Hosts, tracker.Port, ConnectTimeout, NetworkTimeout, ct, bind, key)
                    .ConfigureAwait(false);
                var (status, reply) = await connection.RequestAsync(SpareStorageReport.Command, body, ct).ConfigureAwait(false);
                if (status != Errno.Ok)
                {
                    // A tracker that refuses the leader's choice (it sees the member alive: EBUSY) has not taken it over.
                    pending += claim is not null ? 1 : 0;
                    logger.LogWarning("spare storage: tracker {Tracker} answers SPARE_STORAGE with {Error}{Hint}", tracker, Errno.Describe(status),
                        status == Errno.EINVAL ? " (a stock tracker? spares need FastDFS.NET trackers)" : "");
                    continue;
                }

                var answer = SpareAssignment.Parse(reply);
                if (claim is null && answer.IsAssigned)
                {
                    choice ??= answer;
                }
                else if (claim is not null && !answer.IsAssigned)
                {
                    pending++;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolException ||
                                      (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                // An unreachable tracker is not waited for: it learns nothing of the retirement, and keeps the member OFFLINE.
                logger.LogDebug("spare storage: tracker {Tracker}: {Message}", tracker, e.Message);
            }
        }

        return (choice, pending);
    }

    private (long TotalMb, long FreeMb) FreeSpace()
    {
        long total = 0, free = 0;
        foreach (var path in config.StorePaths)
        {
            try
            {
                Directory.CreateDirectory(path.Path);
                var drive = new DriveInfo(path.Path);
                total += drive.TotalSize / (1024 * 1024);
                free += drive.AvailableFreeSpace / (1024 * 1024);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                logger.LogWarning("spare storage: store path {Path}: {Message}", path.Path, e.Message);
            }
        }

        return (total, free);
    }

    private void Record(SpareAssignment place)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath(config))!);
        StateFile.WriteAtomic(FilePath(config),
        [
            new("group_name", place.Group),
            new("replaced_storage", place.ReplacedId),
            new("assigned_time", clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        ]);
    }
}
