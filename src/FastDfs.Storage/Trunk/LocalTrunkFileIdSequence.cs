using FastDfs.Storage.Store;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Trunk file ids kept by this storage in <c>.data_init_flag</c> (<c>current_trunk_file_id</c>, saved before
/// the id is used, as stock does), for a storage that is its own group's trunk server.
/// </summary>
internal sealed class LocalTrunkFileIdSequence(DataInitFlag initFlag) : ITrunkFileIdSequence
{
    private readonly object _gate = new();

    public ValueTask<int> NextAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            long next = initFlag.CurrentTrunkFileId + 1;
            if (next > int.MaxValue)
            {
                throw new InvalidOperationException("trunk file ids exhausted");
            }

            initFlag.CurrentTrunkFileId = next;
            initFlag.Save();
            return ValueTask.FromResult((int)next);
        }
    }

    /// <summary>The last id handed out (what REPORT_TRUNK_FID tells the tracker).</summary>
    public long Current
    {
        get
        {
            lock (_gate)
            {
                return initFlag.CurrentTrunkFileId;
            }
        }
    }

    /// <summary>FETCH_TRUNK_FID: never hand out an id the group's tracker already knows was used.</summary>
    public void RaiseTo(long trackerId)
    {
        lock (_gate)
        {
            if (trackerId > initFlag.CurrentTrunkFileId)
            {
                initFlag.CurrentTrunkFileId = trackerId;
                initFlag.Save();
            }
        }
    }
}
