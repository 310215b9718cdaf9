using System.Buffers.Binary;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>What happened to one file in an integrity pass.</summary>
public enum IntegrityFindingKind : byte
{
    /// <summary>A damaged copy here was replaced with a verified copy from a peer.</summary>
    Repaired = 1,

    /// <summary>A damaged copy here that no peer had a good copy of (left in place).</summary>
    Unrepairable = 2,

    /// <summary>A replica that arrived damaged was refused (checked replication).</summary>
    RefusedReplica = 3,

    /// <summary>Anti-entropy: a copy missing or different on a peer was sent to it again.</summary>
    Resent = 4,

    /// <summary>Anti-entropy: a file deleted here was still on a peer; the delete was sent again.</summary>
    DeleteResent = 5,

    /// <summary>Anti-entropy: a file this storage lost (not deleted) was fetched back from a peer.</summary>
    Restored = 6,
}

/// <summary>One finding: what, which file, when (unix seconds).</summary>
public readonly record struct IntegrityFinding(IntegrityFindingKind Kind, string LogicName, long Time);

/// <summary>
/// A storage's integrity report (FastDFS.NET): totals since it started, the current or last scrub pass and the
/// anti-entropy rounds, and its most recent findings. Answer to <see cref="IntegrityQuery"/>.
/// </summary>
public sealed record IntegrityStatus
{
    /// <summary>Replicas refused since start: their bytes did not match their name.</summary>
    public long ReplicasRefused { get; init; }

    /// <summary>Our copies a peer refused as damaged since start.</summary>
    public long PushesRefused { get; init; }

    /// <summary>Damaged copies found here since start (scrub, refused pushes).</summary>
    public long CorruptFound { get; init; }

    /// <summary>Damaged or missing copies replaced from a peer since start.</summary>
    public long Repaired { get; init; }

    /// <summary>Damaged copies that could not be repaired since start.</summary>
    public long Unrepairable { get; init; }

    public bool ScrubRunning { get; init; }

    /// <summary>Passes completed since the storage's data directory was created.</summary>
    public long ScrubPasses { get; init; }

    /// <summary>Start of the current or last pass (unix seconds, 0 = none yet).</summary>
    public long ScrubStarted { get; init; }

    /// <summary>End of the last completed pass (unix seconds, 0 = none yet).</summary>
    public long ScrubFinished { get; init; }

    /// <summary>Files whose bytes the current or last pass verified.</summary>
    public long ScrubFilesChecked { get; init; }

    public long ScrubBytesChecked { get; init; }

    /// <summary>Damaged copies the current or last pass found.</summary>
    public long ScrubCorrupt { get; init; }

    public long ScrubRepaired { get; init; }

    public long ScrubUnrepairable { get; init; }

    /// <summary>When the next background pass starts (unix seconds, 0 = no background scrub).</summary>
    public long ScrubNext { get; init; }

    /// <summary>The pass's read limit in bytes per second (0 = unlimited).</summary>
    public long ScrubRate { get; init; }

    /// <summary>Anti-entropy rounds completed since start.</summary>
    public long AntiEntropyRounds { get; init; }

    /// <summary>End of the last anti-entropy round (unix seconds, 0 = none yet).</summary>
    public long AntiEntropyFinished { get; init; }

    /// <summary>Copies re-sent to peers by anti-entropy since start.</summary>
    public long AntiEntropyResent { get; init; }

    /// <summary>Deletes re-sent to peers by anti-entropy since start.</summary>
    public long AntiEntropyDeletesResent { get; init; }

    /// <summary>Lost copies fetched back from peers by anti-entropy since start.</summary>
    public long AntiEntropyRestored { get; init; }

    /// <summary>Passes that ended since the storage started, completed or not (what SCRUB_START's answer counts).</summary>
    public long ScrubEnded { get; init; }

    /// <summary>The last pass that ended failed (an error stopped it; the log says which).</summary>
    public bool ScrubLastFailed { get; init; }

    /// <summary>The most recent findings, oldest first.</summary>
    public IReadOnlyList<IntegrityFinding> Findings { get; init; } = [];

    private long[] Numbers() =>
    [
        ReplicasRefused, PushesRefused, CorruptFound, Repaired, Unrepairable,
        ScrubRunning ? 1 : 0, ScrubPasses, ScrubStarted, ScrubFinished, ScrubFilesChecked, ScrubBytesChecked,
        ScrubCorrupt, ScrubRepaired, ScrubUnrepairable, ScrubNext, ScrubRate,
        AntiEntropyRounds, AntiEntropyFinished, AntiEntropyResent, AntiEntropyDeletesResent, AntiEntropyRestored,
        ScrubEnded, ScrubLastFailed ? 1 : 0,
    ];

    /// <summary>
    /// The wire form: <c>count i32be</c>, that many <c>i64be</c> numbers (in the order of the properties; a reader
    /// ignores numbers it does not know and takes 0 for missing ones), <c>findings u16be</c>, then per finding
    /// <c>kind u8, time i64be, name_len u8, name</c>.
    /// </summary>
    public byte[] ToArray()
    {
        var numbers = Numbers();
        int size = 4 + 8 * numbers.Length + 2 + Findings.Sum(f => 1 + 8 + 1 + Math.Min(255, Encoding.ASCII.GetByteCount(f.LogicName)));
        var body = new byte[size];
        var span = body.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, numbers.Length);
        int o = 4;
        foreach (long n in numbers)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[o..], n);
            o += 8;
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[o..], (ushort)Findings.Count);
        o += 2;
        foreach (var finding in Findings)
        {
            var name = Encoding.ASCII.GetBytes(finding.LogicName);
            int length = Math.Min(255, name.Length);
            span[o++] = (byte)finding.Kind;
            BinaryPrimitives.WriteInt64BigEndian(span[o..], finding.Time);
            o += 8;
            span[o++] = (byte)length;
            name.AsSpan(0, length).CopyTo(span[o..]);
            o += length;
        }

        return body;
    }

    public static IntegrityStatus Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 6)
        {
            throw new ProtocolException($"integrity status of {body.Length} bytes");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(body);
        if (count < 0 || body.Length < 4 + 8L * count + 2)
        {
            throw new ProtocolException($"integrity status: {count} numbers in {body.Length} bytes");
        }

        var n = new long[Math.Max(count, 23)];
        for (int i = 0; i < count; i++)
        {
            n[i] = BinaryPrimitives.ReadInt64BigEndian(body[(4 + 8 * i)..]);
        }

        int o = 4 + 8 * count;
        int findingCount = BinaryPrimitives.ReadUInt16BigEndian(body[o..]);
        o += 2;
        // Capacity from what the body can hold, not from the count it claims.
        var findings = new List<IntegrityFinding>(Math.Min(findingCount, (body.Length - o) / 10));
        for (int i = 0; i < findingCount; i++)
        {
            if (body.Length < o + 10 || body.Length < o + 10 + body[o + 9])
            {
                throw new ProtocolException("integrity status: a finding is cut");
            }

            var kind = (IntegrityFindingKind)body[o];
            long time = BinaryPrimitives.ReadInt64BigEndian(body[(o + 1)..]);
            int length = body[o + 9];
            findings.Add(new IntegrityFinding(kind, Encoding.ASCII.GetString(body.Slice(o + 10, length)), time));
            o += 10 + length;
        }

        return new IntegrityStatus
        {
            ReplicasRefused = n[0], PushesRefused = n[1], CorruptFound = n[2], Repaired = n[3], Unrepairable = n[4],
            ScrubRunning = n[5] != 0, ScrubPasses = n[6], ScrubStarted = n[7], ScrubFinished = n[8], ScrubFilesChecked = n[9],
            ScrubBytesChecked = n[10], ScrubCorrupt = n[11], ScrubRepaired = n[12], ScrubUnrepairable = n[13], ScrubNext = n[14],
            ScrubRate = n[15], AntiEntropyRounds = n[16], AntiEntropyFinished = n[17], AntiEntropyResent = n[18],
            AntiEntropyDeletesResent = n[19], AntiEntropyRestored = n[20], ScrubEnded = n[21], ScrubLastFailed = n[22] != 0,
            Findings = findings,
        };
    }
}

/// <summary>
/// FastDFS.NET-only command to a storage: its <see cref="IntegrityStatus"/>, for <c>fdfs monitor</c>, <c>fdfs scrub</c>
/// and the dashboard. Request: empty body. A stock storage answers EINVAL and closes.
/// </summary>
public static class IntegrityQuery
{
    /// <summary>Command byte 242: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)242;
}

/// <summary>
/// FastDFS.NET-only command to a storage: start a scrub pass now (or join the one running). Request: <c>rate i64be</c>,
/// the read limit in bytes per second for this pass (0 = the storage's <c>scrub_rate</c>, -1 = unlimited).
/// Response: <c>pass i64be</c>, the value <see cref="IntegrityStatus.ScrubEnded"/> reaches when that pass has ended.
/// </summary>
public static class ScrubStart
{
    /// <summary>Command byte 243: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)243;

    public const int RequestSize = 8;
    public const int ResponseSize = 8;
}

/// <summary>
/// FastDFS.NET-only command from a sync source to a storage, sent after REPORT_SERVER_ID: "I send again a file you
/// refuse with EBADMSG" (checked replication). Empty request and reply. Only then does the receiver refuse a damaged
/// replica; from a source that never said so (stock, which would retry the refused file forever and stall the group) a
/// damaged file is stored and reported instead. A stock storage answers EINVAL and closes.
/// </summary>
public static class CheckedReplication
{
    /// <summary>Command byte 245: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)245;
}
