using FastDfs.Protocol;
using FastDfs.Storage.Store;

namespace FastDfs.Storage.Trunk;

/// <summary>
/// Trunk file ids, unique per group across trunk server changes (spec 7.9, 13). The last id used is kept in
/// <c>.data_init_flag</c> (<c>current_trunk_file_id</c>, saved before the id is used, as stock does).
/// <para>
/// A trunk server named by the tracker takes its ids from the tracker's sequence: FETCH_TRUNK_FID (72) once per term
/// before its first allocation, then it <b>reserves</b> ids ahead with REPORT_TRUNK_FID (73) and only uses an id the
/// tracker has already accepted. Stock reports an id after it has used it, so a trunk server dying between creating a
/// trunk file and its next heartbeat leaves an id its successor fetches and uses again; here the tracker's
/// <c>current_trunk_file_id</c> is the highest id the trunk server may use, and the successor's ids are all above it.
/// Without a reservation (the tracker has not named us yet, or the window is used up) <see cref="NextAsync"/> answers
/// EAGAIN and the upload becomes a normal file.
/// </para>
/// <para>
/// A storage that allocates without being named (the only member of a group whose tracker names nobody, or a test's
/// locator) uses local ids, as before.
/// </para>
/// </summary>
internal sealed class TrunkFileIdSequence(DataInitFlag initFlag, Func<bool> namedByTracker) : ITrunkFileIdSequence
{
    /// <summary>Fewest ids reserved ahead; grows with the ids used between two heartbeats.</summary>
    public const int MinWindow = 4;
    private const int MaxWindow = 256;

    private readonly object _gate = new();
    private long _reservedUpTo = -1;
    private long _usedSinceReservation;
    private TaskCompletionSource _needed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _reserved = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when an allocation ran out of reserved ids: the tracker reporter reserves more at once.</summary>
    public Task Needed
    {
        get
        {
            lock (_gate)
            {
                return _needed.Task;
            }
        }
    }

    /// <summary>True (and the signal is reset) when an allocation asked for more ids since the last call.</summary>
    public bool TakeNeeded()
    {
        lock (_gate)
        {
            if (!_needed.Task.IsCompleted)
            {
                return false;
            }

            _needed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) for the next reservation; false when none came.</summary>
    public async Task<bool> WaitForReservationAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task reserved;
        lock (_gate)
        {
            reserved = _reserved.Task;
            _needed.TrySetResult();
        }

        try
        {
            await reserved.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public ValueTask<int> NextAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            long next = initFlag.CurrentTrunkFileId + 1;
            if (next > int.MaxValue)
            {
                throw new InvalidOperationException("trunk file ids exhausted");
            }

            if (namedByTracker() && next > _reservedUpTo)
            {
                _needed.TrySetResult();
                throw new ProtocolException($"trunk file id {next} is not reserved with the tracker yet (reserved up to {_reservedUpTo})", Errno.EAGAIN);
            }

            initFlag.CurrentTrunkFileId = next;
            initFlag.Save();
            _usedSinceReservation++;
            if (_reservedUpTo - next < Math.Clamp(2 * _usedSinceReservation, MinWindow, MaxWindow) / 2)
            {
                _needed.TrySetResult(); // top up before the reservation runs dry
            }

            return ValueTask.FromResult((int)next);
        }
    }

    /// <summary>The last id used.</summary>
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

    /// <summary>The highest id the tracker has accepted for us this term (-1: none).</summary>
    public long ReservedUpTo
    {
        get
        {
            lock (_gate)
            {
                return _reservedUpTo;
            }
        }
    }

    /// <summary>FETCH_TRUNK_FID at the start of a term: never use an id at or below what the tracker knows was used or reserved.</summary>
    public void StartTerm(long trackerId)
    {
        lock (_gate)
        {
            if (trackerId > initFlag.CurrentTrunkFileId)
            {
                initFlag.CurrentTrunkFileId = trackerId;
                initFlag.Save();
            }

            _reservedUpTo = -1;
            _usedSinceReservation = 0;
        }
    }

    /// <summary>The id to reserve up to with REPORT_TRUNK_FID now, or null when enough are reserved.</summary>
    public long? ReservationWanted()
    {
        lock (_gate)
        {
            long current = initFlag.CurrentTrunkFileId;
            long window = Math.Clamp(2 * _usedSinceReservation, MinWindow, MaxWindow);
            if (_reservedUpTo - current >= window / 2 + 1 && _reservedUpTo >= current)
            {
                return null;
            }

            return Math.Min(int.MaxValue, current + window);
        }
    }

    /// <summary>The tracker accepted REPORT_TRUNK_FID of <paramref name="upTo"/>.</summary>
    public void Reserved(long upTo)
    {
        lock (_gate)
        {
            if (upTo > _reservedUpTo)
            {
                _reservedUpTo = upTo;
                _usedSinceReservation = 0;
            }

            var reserved = _reserved;
            _reserved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            reserved.TrySetResult();
        }
    }
}
