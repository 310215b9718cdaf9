using System.Text;
using FastDfs.Protocol.Messages;

namespace FastDfs.Protocol.Tests;

/// <summary>The disk recovery frames (spec 7.8, GET_STATUS of 6.16): examples written out from the documented layout.</summary>
public sealed class DiskRecoveryMessagesTests
{
    private const string Group1 = "67726f757031000000000000 00000000"; // "group1" NUL-padded to 16

    private static byte[] Hex(string spaced) => Convert.FromHexString(spaced.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public void FetchPathBinlog_IsTheGroupThenOneByteOfStorePathIndex()
    {
        byte[] expected = Hex(Group1 + " 01");
        Assert.Equal(expected, new FetchPathBinlogRequest("group1", 1).ToArray());
        Assert.Equal(new FetchPathBinlogRequest("group1", 1), FetchPathBinlogRequest.Parse(expected));
        Assert.Equal(255, FetchPathBinlogRequest.Parse(Hex(Group1 + " ff")).StorePathIndex);
        foreach (int length in new[] { 0, 16, 18 })
        {
            Assert.Throws<ProtocolException>(() => FetchPathBinlogRequest.Parse(new byte[length]));
        }

        // Stock's open-ended reply length: 04 00 00 00 00 00 00 00.
        Assert.Equal(0x0400000000000000L, FetchPathBinlogRequest.StreamedReplyLength);
    }

    [Fact]
    public void GetStatus_IsTheGroupThenIpColonPort_WithIPv6InBrackets()
    {
        Assert.Equal([.. Hex(Group1), .. Encoding.ASCII.GetBytes("10.0.0.7:23000")], new StorageStatusQuery("group1", "10.0.0.7", 23000).ToArray());
        Assert.Equal([.. Hex(Group1), .. Encoding.ASCII.GetBytes("[fd00::7]:23000")], new StorageStatusQuery("group1", "fd00::7", 23000).ToArray());
    }
}

/// <summary>STORE_PATH_HEALTH (248, FastDFS.NET): the count, then one flag byte per store path.</summary>
public sealed class StorePathHealthReportTests
{
    [Fact]
    public void IsTheCountThenOneFlagPerPath()
    {
        byte[] expected = Convert.FromHexString("03000100");
        var report = new StorePathHealthReport([false, true, false]);
        Assert.Equal(expected, report.ToArray());
        Assert.Equal([false, true, false], StorePathHealthReport.Parse(expected).Failed);
        Assert.Equal((FdfsCommand)248, StorePathHealthReport.Command);
        foreach (string bad in new[] { "", "01", "0200", "02000100", "0102", "03000100ff" })
        {
            Assert.Throws<ProtocolException>(() => StorePathHealthReport.Parse(Convert.FromHexString(bad)));
        }
    }
}

/// <summary>RECOVERY_PROGRESS (249) and FETCH_FILES (250), FastDFS.NET's recovery frames.</summary>
public sealed class RecoveryFrameTests
{
    private const string Group1 = "67726f75703100000000000000000000";

    [Fact]
    public void RecoveryProgress_IsGroupIdPathThenFourCounters()
    {
        var report = new RecoveryProgressReport("group1", "10.0.0.7", new RecoveryProgress(1, 120, 400, 3_000_000, 2500));
        byte[] expected = Convert.FromHexString(Group1 + "31302e302e302e370000000000000000" + "01" +
            "0000000000000078" + "0000000000000190" + "00000000002dc6c0" + "00000000000009c4");
        Assert.Equal(expected, report.ToArray());
        Assert.Equal(report, RecoveryProgressReport.Parse(expected));
        Assert.Equal(1_200_000, report.Progress.BytesPerSecond);
        Assert.Equal(5, report.Progress.EtaSeconds); // 280 files left at 48 files/s
        Assert.Throws<ProtocolException>(() => RecoveryProgressReport.Parse(expected[..^1]));
    }

    [Fact]
    public void FetchFiles_IsGroupCountThenLengthPrefixedNames()
    {
        var request = new FetchFilesRequest("group1", ["M00/00/00/a.jpg", "M01/0A/FF/bc.txt"]);
        byte[] expected = Convert.FromHexString(Group1 + "0002" + "0f" + Convert.ToHexString("M00/00/00/a.jpg"u8) + "10" +
            Convert.ToHexString("M01/0A/FF/bc.txt"u8));
        Assert.Equal(expected, request.ToArray());
        Assert.Equal(request.Names, FetchFilesRequest.Parse(expected).Names);
        foreach (byte[] bad in new[] { expected[..^1], [.. expected, 0], Convert.FromHexString(Group1 + "0000"), Convert.FromHexString(Group1 + "0101" + "00") })
        {
            Assert.Throws<ProtocolException>(() => FetchFilesRequest.Parse(bad));
        }
    }
}
