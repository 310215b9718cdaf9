using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Stock's trunk_create_file_advance (spec 17.2): with it on, the trunk server creates trunk files ahead of need at
/// <c>trunk_create_file_time_base</c> (HH:MM, local time) and every <c>trunk_create_file_interval</c> seconds after,
/// until the free trunk space reaches <c>trunk_create_file_space_threshold</c>.
/// </summary>
internal sealed partial class TrunkStore
{
    private readonly TimeBaseSchedule _createAheadSchedule = new();

    /// <summary>Creates trunk files ahead when the schedule says so; called by the trunk binlog pusher between pushes.</summary>
    public int CreateAheadIfDue(DateTime now)
    {
        var settings = Settings;
        bool enabled = settings.CreateFileAdvance && settings.CreateFileSpaceThreshold > 0;
        return _createAheadSchedule.IsDue(now, settings.CreateFileTimeBase, enabled ? settings.CreateFileInterval : 0) ? CreateAheadNow() : 0;
    }

    /// <summary>Creates trunk files until the free trunk space reaches trunk_create_file_space_threshold (trunk server only).</summary>
    public int CreateAheadNow()
    {
        int created = Manager.CreateAhead(Settings.CreateFileSpaceThreshold, _ctx.Paths.Count);
        if (created > 0)
        {
            _logger.LogInformation("created {Count} trunk files ahead (trunk_create_file_space_threshold {Threshold} bytes)",
                created, Settings.CreateFileSpaceThreshold);
        }

        return created;
    }
}
