using Microsoft.Extensions.Logging;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// The trunk server's <c>storage_trunk.dat</c> snapshot and trunk binlog compaction, with stock's keys (spec 13, 17.2):
/// <list type="bullet">
/// <item><c>trunk_compress_binlog_interval</c> &gt; 0: compact every that many seconds, the first time at
/// <c>trunk_compress_binlog_time_base</c> (HH:MM, local time) — the binlog becomes the free space now;</item>
/// <item>on a clean stop: compact when <c>trunk_compress_binlog_min_interval</c> &gt; 0 and the last compaction is older
/// than that, otherwise write the snapshot (stock only after an hour up and without a compaction schedule; the
/// snapshot is cheap and shortens every start, so we always write it);</item>
/// <item><c>trunk_binlog_max_backups</c> &gt; 0: the replaced binlog is kept as <c>binlog.&lt;yyyyMMddHHmmss&gt;</c>, newest N;</item>
/// <item>the last compaction time is <c>trunk_last_compress_time</c> in <c>.data_init_flag</c> (stock key).</item>
/// </list>
/// After a compaction the members get the new binlog from the start (the push marks are forgotten).
/// </summary>
internal sealed partial class TrunkStore
{
    private readonly TimeBaseSchedule _compactionSchedule = new();

    /// <summary>Compacts the trunk binlog when the schedule says so; called by the trunk binlog pusher between pushes.</summary>
    public bool CompactIfDue(DateTime now) =>
        _compactionSchedule.IsDue(now, Settings.CompressBinlogTimeBase, Settings.CompressBinlogInterval) && CompactNow();

    /// <summary>Compacts the trunk binlog of our core now (trunk server only); the members start over from the new one.</summary>
    public bool CompactNow()
    {
        if (!Manager.Compact(Settings.BinlogMaxBackups))
        {
            return false;
        }

        _ctx.InitFlag.TrunkLastCompressTime = _ctx.Now;
        _ctx.InitFlag.Save();
        TrunkBinlogPusher.ForgetMarks(Binlog.Directory);
        return true;
    }

    /// <summary>Clean stop of a trunk server: compact (min interval passed) or write the snapshot. Caller holds the manager gate.</summary>
    private void SaveOnStop()
    {
        if (_manager is null || !Settings.UseTrunkFile || Locator.Resolve() != TrunkServerRole.Self)
        {
            return;
        }

        try
        {
            var settings = Settings;
            if (settings.CompressBinlogMinInterval > 0 &&
                _ctx.Now - _ctx.InitFlag.TrunkLastCompressTime > settings.CompressBinlogMinInterval &&
                _manager.Compact(settings.BinlogMaxBackups))
            {
                _ctx.InitFlag.TrunkLastCompressTime = _ctx.Now;
                _ctx.InitFlag.Save();
                TrunkBinlogPusher.ForgetMarks(Binlog.Directory);
                return;
            }

            _manager.SaveSnapshot();
        }
        catch (IOException e)
        {
            _logger.LogError(e, "saving the trunk free space on stop");
        }
    }
}
