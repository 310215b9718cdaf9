namespace FastDfs.Storage.Integrity;

/// <summary>
/// What this storage found and did about damaged or missing copies since it started: checked replication, scrub and
/// anti-entropy. Read by the metrics, the INTEGRITY_STATUS query (<c>fdfs monitor</c>) and the dashboard.
/// </summary>
internal sealed class IntegrityStats(TimeProvider clock)
{
    private const int KeptFindings = 64;

    private readonly Queue<FastDfs.Protocol.Messages.IntegrityFinding> _findings = new();
    private long _replicasRefused;
    private long _pushesRefused;
    private long _localCorrupt;
    private long _repaired;
    private long _unrepairable;

    /// <summary>Replicas received whose bytes did not match the size and CRC32 of their name: refused, never made visible.</summary>
    public long ReplicasRefused => Interlocked.Read(ref _replicasRefused);

    /// <summary>Files this storage pushed that a peer refused because the bytes arrived damaged (sent again).</summary>
    public long PushesRefused => Interlocked.Read(ref _pushesRefused);

    /// <summary>Stored files found damaged here (by the scrub, or when a peer refused our copy and it did not verify).</summary>
    public long LocalCorrupt => Interlocked.Read(ref _localCorrupt);

    /// <summary>Damaged or missing copies replaced with a verified copy from a peer.</summary>
    public long Repaired => Interlocked.Read(ref _repaired);

    /// <summary>Damaged copies no peer had a good copy of (left in place, reported again on the next pass).</summary>
    public long Unrepairable => Interlocked.Read(ref _unrepairable);

    /// <summary>The most recent findings (at most 64), oldest first.</summary>
    public IReadOnlyList<FastDfs.Protocol.Messages.IntegrityFinding> Findings
    {
        get
        {
            lock (_findings)
            {
                return [.. _findings];
            }
        }
    }

    /// <summary>Remembers what happened to one file (for <c>fdfs scrub</c>, <c>fdfs monitor</c> and the dashboard).</summary>
    public void Record(FastDfs.Protocol.Messages.IntegrityFindingKind kind, string logicName)
    {
        lock (_findings)
        {
            if (_findings.Count == KeptFindings)
            {
                _findings.Dequeue();
            }

            _findings.Enqueue(new FastDfs.Protocol.Messages.IntegrityFinding(kind, logicName, clock.GetUtcNow().ToUnixTimeSeconds()));
        }
    }

    public void ReplicaRefused() => Interlocked.Increment(ref _replicasRefused);

    public void PushRefused() => Interlocked.Increment(ref _pushesRefused);

    public void FoundCorrupt() => Interlocked.Increment(ref _localCorrupt);

    public void RepairedOne() => Interlocked.Increment(ref _repaired);

    public void CouldNotRepair() => Interlocked.Increment(ref _unrepairable);
}
