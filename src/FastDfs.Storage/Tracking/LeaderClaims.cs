namespace FastDfs.Storage.Tracking;

/// <summary>
/// The leader each tracker connection last announced with flag 1 (only a leader sets flags, and names
/// itself). Two connections whose trackers both claim leadership mean split brain: the older claimant is
/// asked to step down with NOTIFY_RESELECT_LEADER (a tracker that already stepped down answers EOPNOTSUPP).
/// </summary>
internal sealed class LeaderClaims(int trackerCount)
{
    private readonly object _gate = new();
    private readonly string?[] _claims = new string?[trackerCount];
    private readonly long[] _claimedAt = new long[trackerCount];
    private readonly bool[] _reselect = new bool[trackerCount];
    private long _sequence;

    /// <summary>Records that tracker <paramref name="index"/> announced <paramref name="leader"/> (ip:port).</summary>
    public void Claim(int index, string leader)
    {
        lock (_gate)
        {
            _claims[index] = leader;
            _claimedAt[index] = ++_sequence;
            for (int other = 0; other < _claims.Length; other++)
            {
                if (other != index && _claims[other] is { } older && older != leader && _claimedAt[other] < _claimedAt[index])
                {
                    _reselect[other] = true;
                }
            }
        }
    }

    /// <summary>The connection to tracker <paramref name="index"/> closed: its claim no longer counts.</summary>
    public void Forget(int index)
    {
        lock (_gate)
        {
            _claims[index] = null;
            _reselect[index] = false;
        }
    }

    /// <summary>Whether tracker <paramref name="index"/> must be told to step down (cleared by the call).</summary>
    public bool TakeReselect(int index)
    {
        lock (_gate)
        {
            bool value = _reselect[index];
            _reselect[index] = false;
            if (value)
            {
                _claims[index] = null;
            }

            return value;
        }
    }
}
