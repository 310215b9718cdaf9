using System.Globalization;
using FastDfs.Protocol.FileIds;
using FastDfs.TestSupport;

namespace FastDfs.Protocol.Tests.Golden;

/// <summary>Which names promise the size and CRC32 of their content (checked replication, the scrub, fdfs check).</summary>
public class ContentPromiseTests
{
    [Fact]
    public void EveryCapturedNormalOrTrunkNamePromisesItsSizeAndCrcAndNoAppenderOrSlaveDoes()
    {
        var lines = File.ReadLines(TestData.PathOf("file-ids.tsv")).ToList();
        string[] header = lines[0].Split('\t');
        int checkedNames = 0;
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var row = header.Zip(line.Split('\t')).ToDictionary(p => p.First, p => p.Second);
            string logicName = FileId.Parse(row["file_id"]).LogicName;
            bool expected = row["flag_appender"] == "0" && row["flag_slave"] == "0";
            Assert.True(expected == FileNameCodec.TryGetContentPromise(logicName, out long size, out uint crc), logicName);
            if (expected)
            {
                Assert.Equal(long.Parse(row["size_in_name"], CultureInfo.InvariantCulture), size);
                Assert.Equal(uint.Parse(row["crc32_hex"], NumberStyles.HexNumber, CultureInfo.InvariantCulture), crc);
                checkedNames++;
            }
        }

        Assert.True(checkedNames >= 10);
    }

    [Theory]
    [InlineData("_s", "")] // 42 characters
    [InlineData("_t", "gz")]
    [InlineData("s", "jpg")] // 44 characters, as long as a normal name
    [InlineData("x", "j")]
    public void ASlaveNoLongerThanANormalNamePromisesNothing(string prefix, string ext)
    {
        string master = FileNameCodec.BuildLogicName(0, 0, 0, FileNameCodec.SourceFromIp("10.0.0.2"), 1795479446,
            FileNameCodec.MakeSizeField(3000, appender: false, trunk: false, 7), 0x59876a57, "76.jpeg");
        string slave = FileNameCodec.BuildSlaveName(master, prefix, ext);
        Assert.True(slave.Length <= ProtocolConstants.NormalLogicFilenameLength, slave);
        Assert.True(FileNameCodec.TryGetContentPromise(master, out _, out _));
        Assert.False(FileNameCodec.TryGetContentPromise(slave, out _, out _), slave);
    }

    [Theory]
    [InlineData("1234567", true)]
    [InlineData("123.jpg", true)]
    [InlineData(".tar.gz", true)]
    [InlineData("1.abcde", true)]
    [InlineData("12_s.gz", false)]
    [InlineData("123456.", false)]
    [InlineData("123456", false)]
    public void FormattedExtensions(string tail, bool formatted) => Assert.Equal(formatted, FileNameCodec.IsFormattedExtension(tail));
}
