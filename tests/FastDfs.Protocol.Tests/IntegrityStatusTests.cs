using System.Buffers.Binary;
using FastDfs.Protocol.Messages;

namespace FastDfs.Protocol.Tests;

public class IntegrityStatusTests
{
    [Fact]
    public void RoundTripsEveryFieldAndTheFindings()
    {
        var status = new IntegrityStatus
        {
            ReplicasRefused = 1, PushesRefused = 2, CorruptFound = 3, Repaired = 4, Unrepairable = 5, ScrubRunning = true, ScrubPasses = 6,
            ScrubStarted = 7, ScrubFinished = 8, ScrubFilesChecked = 9, ScrubBytesChecked = 10, ScrubCorrupt = 11, ScrubRepaired = 12,
            ScrubUnrepairable = 13, ScrubNext = 14, ScrubRate = 15, AntiEntropyRounds = 16, AntiEntropyFinished = 17, AntiEntropyResent = 18,
            AntiEntropyDeletesResent = 19, AntiEntropyRestored = 20,
            Findings = [new IntegrityFinding(IntegrityFindingKind.Repaired, "M00/00/00/a.bin", 1795479441), new IntegrityFinding(IntegrityFindingKind.Restored, "M01/0A/FF/b", 2)],
        };
        var parsed = IntegrityStatus.Parse(status.ToArray());
        Assert.Equal(status with { Findings = [] }, parsed with { Findings = [] });
        Assert.Equal(status.Findings, parsed.Findings);
    }

    [Fact]
    public void AnOlderOrNewerStorageWithFewerOrMoreNumbersStillParses()
    {
        var body = new byte[4 + 8 * 2 + 2];
        BinaryPrimitives.WriteInt32BigEndian(body, 2);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(4), 7);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(12), 8);
        var parsed = IntegrityStatus.Parse(body);
        Assert.Equal((7, 8, 0L), (parsed.ReplicasRefused, parsed.PushesRefused, parsed.CorruptFound));

        var longer = new byte[4 + 8 * 30 + 2];
        BinaryPrimitives.WriteInt32BigEndian(longer, 30);
        BinaryPrimitives.WriteInt64BigEndian(longer.AsSpan(4 + 8 * 20), 21);
        Assert.Equal(21, IntegrityStatus.Parse(longer).AntiEntropyRestored);
        Assert.Throws<ProtocolException>(() => IntegrityStatus.Parse(body.AsSpan(0, 10)));
    }
}
