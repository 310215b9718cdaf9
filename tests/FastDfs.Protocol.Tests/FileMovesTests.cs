using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol.Messages;

namespace FastDfs.Protocol.Tests;

/// <summary>IMPORT_FILE (253) and ADD_MOVED_FILES (254): the wire layout, round trips and refused lengths.</summary>
public sealed class FileMovesTests
{
    private const string Name = "M00/3A/0C/CgECA2qxO4CAbDkfAAAACpTad38960.jpg";

    [Fact]
    public void ImportFile_RequestHead_LaysOutTheFixedPartNameAndMetadata_AndParsesBack()
    {
        byte[] metadata = "width\u00021024\u0001author\u0002me"u8.ToArray();
        byte[] head = ImportFile.RequestHead("group2", "group1", Name, metadata, 123_456_789_012, 0xDEADBEEF);

        Assert.Equal(ImportFile.FixedSize + Name.Length + metadata.Length, head.Length);
        Assert.Equal(16 + 16 + 1 + 4 + 8 + 4, ImportFile.FixedSize);
        Assert.Equal("group2\0"u8.ToArray(), head[..7]);
        Assert.Equal("group1\0"u8.ToArray(), head[16..23]);
        Assert.Equal(Name.Length, head[32]);
        Assert.Equal((uint)metadata.Length, BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(33)));
        Assert.Equal(123_456_789_012, BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(37)));
        Assert.Equal(0xDEADBEEF, BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(45)));
        Assert.Equal(Name, Encoding.ASCII.GetString(head, ImportFile.FixedSize, Name.Length));
        Assert.Equal(metadata, head[(ImportFile.FixedSize + Name.Length)..]);

        var parsed = ImportFile.Parse(head.AsSpan(0, ImportFile.FixedSize), head.Length + 123_456_789_012);
        Assert.Equal(new ImportFileRequest("group2", "group1", Name.Length, metadata.Length, 123_456_789_012, 0xDEADBEEF), parsed);
        Assert.Equal(head.Length + 123_456_789_012, parsed.BodyLength);
    }

    [Fact]
    public void ImportFile_WithoutMetadataOrContent_RoundTrips()
    {
        byte[] head = ImportFile.RequestHead("group2", "group1", Name, [], 0, 0);
        Assert.Equal(ImportFile.FixedSize + Name.Length, head.Length);
        Assert.Equal(new ImportFileRequest("group2", "group1", Name.Length, 0, 0, 0), ImportFile.Parse(head.AsSpan(0, ImportFile.FixedSize), head.Length));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(-10)]
    public void ImportFile_ABodyLengthThatDisagrees_IsAProtocolError(long off)
    {
        byte[] head = ImportFile.RequestHead("group2", "group1", Name, "k\u0002v"u8, 10, 1);
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(head.AsSpan(0, ImportFile.FixedSize), head.Length + 10 + off));
    }

    [Fact]
    public void ImportFile_BadFields_AreProtocolErrors()
    {
        byte[] head = ImportFile.RequestHead("group2", "group1", Name, [], 10, 1);
        long body = head.Length + 10;
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(head.AsSpan(0, ImportFile.FixedSize - 1), body));
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(head.AsSpan(0, ImportFile.FixedSize + 1), body));

        byte[] Changed(Action<byte[]> change)
        {
            var copy = head[..ImportFile.FixedSize];
            change(copy);
            return copy;
        }

        // No name; a negative size; more metadata than allowed; no source group.
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(Changed(b => b[32] = 0), body - Name.Length));
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(Changed(b => BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(37), -1)), head.Length - 1));
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(
            Changed(b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(33), ProtocolConstants.MaxImportMetadataLength + 1)),
            body + ProtocolConstants.MaxImportMetadataLength + 1));
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(Changed(b => b.AsSpan(16, 16).Clear()), body));
        // A metadata length of 2^32 - 1 must not wrap into a small body.
        Assert.Throws<ProtocolException>(() => ImportFile.Parse(Changed(b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(33), uint.MaxValue)), body));
    }

    [Fact]
    public void ImportFile_RequestHead_RefusesAnEmptyOrOverlongName()
    {
        Assert.Throws<ArgumentException>(() => ImportFile.RequestHead("group2", "group1", "", [], 0, 0));
        Assert.Throws<ArgumentException>(() => ImportFile.RequestHead("group2", "group1", new string('a', 256), [], 0, 0));
        Assert.Equal(ImportFile.FixedSize + 255, ImportFile.RequestHead("group2", "group1", new string('a', 255), [], 0, 0).Length);
    }

    [Fact]
    public void AddMovedFiles_Request_RoundTrips()
    {
        var entries = new List<MovedFile>
        {
            new("group1", Name, "group2"),
            new("group3", "M01/00/FF/x.jpg", "group1"),
            new("group2", Name, "group2"), // an entry whose target is its source removes the mapping
        };
        byte[] body = AddMovedFiles.Request(entries);

        Assert.Equal(2 + entries.Sum(AddMovedFiles.EntrySize), body.Length);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(body));
        Assert.Equal("group1\0"u8.ToArray(), body[2..9]);
        Assert.Equal("group2\0"u8.ToArray(), body[18..25]);
        Assert.Equal(Name.Length, body[34]);
        Assert.Equal(Name, Encoding.ASCII.GetString(body, 35, Name.Length));
        Assert.Equal(entries, AddMovedFiles.ParseRequest(body));
    }

    [Fact]
    public void AddMovedFiles_Request_RefusesNoneTooManyAndOverlongNames()
    {
        Assert.Throws<ArgumentException>(() => AddMovedFiles.Request([]));
        Assert.Throws<ArgumentException>(() => AddMovedFiles.Request(Enumerable.Repeat(new MovedFile("group1", Name, "group2"), AddMovedFiles.MaxEntries + 1).ToList()));
        Assert.Throws<ArgumentException>(() => AddMovedFiles.Request([new MovedFile("group1", new string('a', 256), "group2")]));
        Assert.Equal(AddMovedFiles.MaxEntries,
            AddMovedFiles.ParseRequest(AddMovedFiles.Request(Enumerable.Repeat(new MovedFile("group1", Name, "group2"), AddMovedFiles.MaxEntries).ToList())).Count);
    }

    [Fact]
    public void AddMovedFiles_BadLengths_AreProtocolErrors()
    {
        byte[] body = AddMovedFiles.Request([new MovedFile("group1", Name, "group2"), new MovedFile("group1", "M00/00/00/y.txt", "group3")]);
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest([]));
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest([0]));
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest([0, 0])); // no entry
        for (int cut = 2; cut < body.Length; cut++)
        {
            Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest(body.AsSpan(0, cut)));
        }

        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest([.. body, 0])); // a byte after the entries

        byte[] tooMany = [.. body];
        BinaryPrimitives.WriteUInt16BigEndian(tooMany, AddMovedFiles.MaxEntries + 1);
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest(tooMany));

        byte[] noSource = [.. body];
        noSource.AsSpan(2, 16).Clear();
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest(noSource));

        byte[] noTarget = [.. body];
        noTarget.AsSpan(18, 16).Clear();
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest(noTarget));

        byte[] noName = AddMovedFiles.Request([new MovedFile("group1", "a", "group2")])[..^1];
        noName[34] = 0;
        Assert.Throws<ProtocolException>(() => AddMovedFiles.ParseRequest(noName));
    }
}
