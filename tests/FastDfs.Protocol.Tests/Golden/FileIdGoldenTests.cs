using System.Globalization;
using FastDfs.Protocol.FileIds;

using FastDfs.TestSupport;

namespace FastDfs.Protocol.Tests.Golden;

public class FileIdGoldenTests
{
    public static TheoryData<string> FileIds()
    {
        var data = new TheoryData<string>();
        foreach (string line in File.ReadLines(TestData.PathOf("file-ids.tsv")).Skip(1))
        {
            if (line.Length > 0)
            {
                data.Add(line.Split('\t')[0]);
            }
        }

        return data;
    }

    private static Dictionary<string, string> Row(string fileId)
    {
        var lines = File.ReadLines(TestData.PathOf("file-ids.tsv")).ToList();
        string[] header = lines[0].Split('\t');
        string[] values = lines.First(l => l.StartsWith(fileId + "\t", StringComparison.Ordinal)).Split('\t');
        return header.Zip(values).ToDictionary(p => p.First, p => p.Second);
    }

    [Theory]
    [MemberData(nameof(FileIds))]
    public void EveryCapturedFileIdDecodesToItsRow(string fileIdText)
    {
        var row = Row(fileIdText);
        var fileId = FileId.Parse(fileIdText);
        Assert.Equal("group1", fileId.Group);
        var info = FileNameCodec.Decode(fileId.LogicName);

        Assert.Equal(int.Parse(row["store_path"], CultureInfo.InvariantCulture), info.StorePathIndex);
        Assert.Equal(Convert.ToInt32(row["sub_high"], 16), info.SubHigh);
        Assert.Equal(Convert.ToInt32(row["sub_low"], 16), info.SubLow);
        Assert.Equal(row["source_ip"], info.Source);
        Assert.False(info.SourceIsStorageId);
        Assert.Equal(long.Parse(row["timestamp"], CultureInfo.InvariantCulture), info.Timestamp);
        Assert.Equal(Convert.ToUInt64(row["size64_hex"], 16), (ulong)info.SizeField);
        Assert.Equal(row["flag_appender"] == "1", info.IsAppender);
        Assert.Equal(row["flag_trunk"] == "1", info.IsTrunk);
        Assert.Equal(row["flag_slave"] == "1", info.IsSlave);
        Assert.Equal(Convert.ToUInt32(row["crc32_hex"], 16), info.Crc32);
        if (!info.IsAppender)
        {
            Assert.Equal(long.Parse(row["size_in_name"], CultureInfo.InvariantCulture), info.FileSize);
        }

        if (row["trunk_id"].Length > 0 && !info.IsSlave)
        {
            Assert.Equal(
                new TrunkLocation(int.Parse(row["trunk_id"], CultureInfo.InvariantCulture),
                    int.Parse(row["trunk_offset"], CultureInfo.InvariantCulture),
                    int.Parse(row["trunk_alloc_size"], CultureInfo.InvariantCulture)),
                info.Trunk);
        }

        if (row["ext7"].Length > 0)
        {
            Assert.Equal(row["ext7"], info.Tail);
        }

        // Re-encoding the decoded fields gives back the exact name (slaves derive from their master).
        if (!info.IsSlave)
        {
            string rebuilt = FileNameCodec.BuildLogicName(info.StorePathIndex, info.SubHigh, info.SubLow,
                info.SourceRaw, info.Timestamp, info.SizeField, info.Crc32, info.Tail, info.Trunk);
            Assert.Equal(fileId.LogicName, rebuilt);
        }

        Assert.Equal(row["bytes20_hex"], Convert.ToHexStringLower(FdfsBase64.Decode(row["b64_27"])));
    }

    [Fact]
    public void SourceDecodingFollowsTheStockRule()
    {
        Assert.Equal(("100001", true), FileNameCodec.DecodeSource(FileNameCodec.SourceFromStorageId(100001)));
        Assert.Equal(("10.77.0.2", false), FileNameCodec.DecodeSource(FileNameCodec.SourceFromIp("10.77.0.2")));
        // An address ending in .0 has a little-endian value below 2^24 and reads as an id, like stock.
        Assert.True(FileNameCodec.DecodeSource(FileNameCodec.SourceFromIp("10.1.2.0")).IsStorageId);
    }

    [Theory]
    [InlineData("txt", 7, ".txt")]
    [InlineData("jpeg", 7, ".jpeg")]
    [InlineData("abcdef", 7, ".abcdef")]
    [InlineData("", 7, "")]
    public void ExtensionAreaIsSevenCharacters(string ext, int length, string suffix)
    {
        string formatted = FileNameCodec.FormatExtension(ext, new Random(1));
        Assert.Equal(length, formatted.Length);
        Assert.EndsWith(suffix, formatted, StringComparison.Ordinal);
        Assert.All(formatted[..(7 - suffix.Length)], c => Assert.True(char.IsAsciiDigit(c)));
    }

    [Theory]
    [InlineData("M00/00/00/CmMAA2sE0raAYgRIAAAADg4Qul0023.txt", "_big", "txt", "M00/00/00/CmMAA2sE0raAYgRIAAAADg4Qul0023_big.txt")]
    [InlineData("M00/00/00/CmIEAmsGJiKAFg3uAAAADvLi-C4462.dat", "_s", "", "M00/00/00/CmIEAmsGJiKAFg3uAAAADvLi-C4462_s")]
    [InlineData("M00/00/00/CmIEAmsGJiKAFg3uAAAADvLi-C4462.dat", "_t", "png", "M00/00/00/CmIEAmsGJiKAFg3uAAAADvLi-C4462_t.png")]
    [InlineData("M00/00/00/Ck0AAmsE2SKAJXwqAAAADs48pGw5215185", "_x", "jpg", "M00/00/00/Ck0AAmsE2SKAJXwqAAAADs48pGw5215185_x.jpg")]
    public void SlaveNamesDeriveFromTheMaster(string master, string prefix, string ext, string expected) =>
        Assert.Equal(expected, FileNameCodec.BuildSlaveName(master, prefix, ext));

    [Theory]
    [InlineData("M00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt", 1, true)]
    [InlineData("M01/0A/FF/x", 2, true)]
    [InlineData("m00/00/00/CmMAA2sE0rOAH3RSAAAADg4Qul0589.txt", 1, true)] // pre-V1.12 name in path 0: "m00/" is HH
    [InlineData("M00/00/00/../../etc/passwd", 1, false)]
    [InlineData("M00/0a/00/abcdefghijkl", 1, false)]
    [InlineData("M01/00/00/abcdefghijkl", 1, false)]
    [InlineData("M00/00/00/", 1, false)]
    [InlineData("M00/00/00/a/b", 1, false)]
    public void StoredPathValidation(string name, int storePaths, bool valid)
    {
        bool ok = StoredFilePath.TryParse(name, storePaths, out var path);
        if (name.StartsWith('m'))
        {
            // "m00/00/00/..." has 'm0' as HH: lower-case, rejected.
            Assert.False(ok);
            return;
        }

        Assert.Equal(valid, ok);
        if (ok)
        {
            Assert.DoesNotContain("/", path.FileName);
        }
    }
}
