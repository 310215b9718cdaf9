using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Stock's trunk_create_file_advance (spec 17.2): with it on, the trunk server creates trunk files ahead of need at
/// <c>trunk_create_file_time_base</c> (HH:MM, local time) and every <c>trunk_create_file_interval</c> seconds after,
/// until the free trunk space reaches <c>trunk_create_file_space_threshold</c>.
/// </summary>
internal sealed partial class TrunkStore
{
    private DateTime? _nextCreateAhead;
    private int _createAheadInterval;
    private string _createAheadTimeBase = string.Empty;

    /// <summary>Creates trunk files ahead when the schedule says so; called by the trunk binlog pusher between pushes.</summary>
    public int CreateAheadIfDue(DateTime now)
    {
        var settings = Settings;
        if (!settings.CreateFileAdvance || settings.CreateFileInterval <= 0 || settings.CreateFileSpaceThreshold <= 0)
        {
            _nextCreateAhead = null;
            return 0;
        }

        if (_nextCreateAhead is null || _createAheadInterval != settings.CreateFileInterval || _createAheadTimeBase != settings.CreateFileTimeBase)
        {
            _createAheadInterval = settings.CreateFileInterval;
            _createAheadTimeBase = settings.CreateFileTimeBase;
            _nextCreateAhead = FirstRun(now, settings.CreateFileTimeBase, settings.CreateFileInterval);
        }

        if (now < _nextCreateAhead)
        {
            return 0;
        }

        while (_nextCreateAhead <= now)
        {
            _nextCreateAhead = _nextCreateAhead.Value.AddSeconds(settings.CreateFileInterval);
        }

        return CreateAheadNow();
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
