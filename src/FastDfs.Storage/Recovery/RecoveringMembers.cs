using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Recovery;

/// <summary>
/// Whether a member of our group is recovering a disk, as the trackers list the group now: asked when a FETCH_ONE_PATH_BINLOG
/// comes from an address that is not a member's before our heartbeat has brought the news. Answers are reused for a
/// moment, so that a flood of such requests does not become a flood of questions to the trackers.
/// </summary>
internal sealed class RecoveringMembers(StorageConfig config, TimeProvider clock, ILogger logger)
{
    /// <summary>How long an answer is reused: a RECOVERY seen for two seconds; "nobody" only briefly, since a stock storage
    /// asks right after it reported RECOVERY.</summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2), CacheNobodyFor = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _askedAt;
    private bool _asked;
    private StorageBrief? _recovering;

    /// <summary>A member the trackers list in RECOVERY, or null.</summary>
    public async Task<StorageBrief?> RecoveringMemberAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_asked && clock.GetElapsedTime(_askedAt) < (_recovering is null ? CacheNobodyFor : CacheFor))
            {
                return _recovering;
            }

            _recovering = await AskAsync(ct).ConfigureAwait(false);
            _askedAt = clock.GetTimestamp();
            _asked = true;
            return _recovering;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<StorageBrief?> AskAsync(CancellationToken ct) =>
        await GroupMembers.ListAsync(config, TimeSpan.FromSeconds(Math.Clamp(config.ConnectTimeout, 1, 5)),
                TimeSpan.FromSeconds(Math.Clamp(config.NetworkTimeout, 1, 5)), logger, ct).ConfigureAwait(false) is { } members
            ? members.Where(m => m.Status == StorageStatus.Recovery)
                .Select(m => (StorageBrief?)new StorageBrief(m.Status, (int)m.StoragePort, m.Id, m.IpAddr)).FirstOrDefault()
            : null;
}
