using FastDfs.Protocol.Messages;
using FastDfs.TestSupport;

namespace FastDfs.Protocol.Tests;

/// <summary>
/// The trunk frame bodies (spec 2.4, 4.10, 6.9, 7.9): each example is written out in hex from the documented layout,
/// not from the encoder, then encoded, parsed back, and cut or stretched by a byte to be refused.
/// </summary>
public sealed class TrunkMessagesTests
{
    private const string Group1 = "67 72 6f 75 70 31 00 00 00 00 00 00 00 00 00 00"; // "group1" NUL-padded to 16

    /// <summary>Hex bytes, spaces and the field separator <c>|</c> ignored.</summary>
    private static byte[] Hex(string spaced) =>
        Convert.FromHexString(spaced.Replace(" ", "", StringComparison.Ordinal).Replace("|", "", StringComparison.Ordinal));

    private static void RefusesOtherLengths(int size, Action<byte[]> parse)
    {
        foreach (int length in new[] { 0, size - 1, size + 1 })
        {
            Assert.Throws<ProtocolException>(() => parse(new byte[length]));
        }
    }

    [Fact]
    public void SlotInfo_IsPathHighLowThenIdOffsetSize_BigEndian()
    {
        // The slot of spec 7.9: path 0, 00/00, trunk file 1, offset 256, 1024 bytes.
        var slot = new TrunkSlotInfo(0, 0, 0, 1, 256, 1024);
        byte[] expected = Hex("00 00 00 | 00 00 00 01 | 00 00 01 00 | 00 00 04 00");
        Assert.Equal(expected, slot.ToArray());
        Assert.Equal(slot, TrunkSlotInfo.Parse(expected));

        // Every field distinct, the single bytes at their top, the ints with their sign bit.
        var wide = new TrunkSlotInfo(2, 0x0a, 0xff, -2, 0x7fffff00, 512);
        byte[] wideBytes = Hex("02 0a ff | ff ff ff fe | 7f ff ff 00 | 00 00 02 00");
        Assert.Equal(wideBytes, wide.ToArray());
        Assert.Equal(wide, TrunkSlotInfo.Parse(wideBytes));

        Assert.Equal(15, TrunkSlotInfo.Size);
        RefusesOtherLengths(TrunkSlotInfo.Size, b => TrunkSlotInfo.Parse(b));
    }

    [Fact]
    public void AllocRequest_IsGroupSizeThenStorePath()
    {
        var request = new TrunkAllocRequest("group1", 1024, 1);
        byte[] expected = Hex(Group1 + " | 00 00 04 00 | 01");
        Assert.Equal(TrunkAllocRequest.Size, expected.Length);
        Assert.Equal(expected, request.ToArray());
        Assert.Equal(request, TrunkAllocRequest.Parse(expected));
        Assert.Equal(FdfsCommand.TrunkAllocSpace, TrunkAllocRequest.Command);
        Assert.Equal((FdfsCommand)27, TrunkAllocRequest.Command);

        RefusesOtherLengths(TrunkAllocRequest.Size, b => TrunkAllocRequest.Parse(b));
    }

    [Fact]
    public void SlotRequest_IsGroupThenSlotInfo_ForConfirmAndFree()
    {
        // TRUNK_FREE_SPACE of spec 7.9's capture: the 512-byte slot at offset 1280 of trunk file 1.
        var request = new TrunkSlotRequest("group1", new TrunkSlotInfo(0, 0, 0, 1, 1280, 512));
        byte[] expected = Hex(Group1 + " | 00 00 00 | 00 00 00 01 | 00 00 05 00 | 00 00 02 00");
        Assert.Equal(31, TrunkSlotRequest.Size);
        Assert.Equal(expected, request.ToArray());
        Assert.Equal(request, TrunkSlotRequest.Parse(expected));
        Assert.Equal((FdfsCommand)28, TrunkSlotRequest.ConfirmCommand);
        Assert.Equal((FdfsCommand)29, TrunkSlotRequest.FreeCommand);

        RefusesOtherLengths(TrunkSlotRequest.Size, b => TrunkSlotRequest.Parse(b));
    }

    [Fact]
    public void BinlogSizeReply_IsOneBigEndianLong()
    {
        var reply = new TrunkBinlogSizeReply(0x0102030405060798);
        byte[] expected = Hex("01 02 03 04 05 06 07 98");
        var written = new byte[TrunkBinlogSizeReply.Size];
        reply.Write(written);
        Assert.Equal(expected, written);
        Assert.Equal(reply, TrunkBinlogSizeReply.Parse(expected));
        Assert.Equal((FdfsCommand)31, TrunkBinlogSizeReply.Command);

        RefusesOtherLengths(TrunkBinlogSizeReply.Size, b => TrunkBinlogSizeReply.Parse(b));
    }

    [Fact]
    public void TrunkFileId_IsOneBigEndianInt_ForFetchAndReport()
    {
        Assert.Equal(Hex("00 00 00 01"), new TrunkFileIdBody(1).ToArray());
        Assert.Equal(Hex("ff ff ff ff"), new TrunkFileIdBody(-1).ToArray());
        Assert.Equal(new TrunkFileIdBody(0x01020304), TrunkFileIdBody.Parse(Hex("01 02 03 04")));
        Assert.Equal((FdfsCommand)72, TrunkFileIdBody.FetchCommand);
        Assert.Equal((FdfsCommand)73, TrunkFileIdBody.ReportCommand);

        RefusesOtherLengths(TrunkFileIdBody.Size, b => TrunkFileIdBody.Parse(b));
    }

    [Fact]
    public void TrunkFreeReport_IsOneBigEndianLongOfMb()
    {
        Assert.Equal(Hex("00 00 00 00 00 00 00 3f"), new TrunkFreeReport(63).ToArray());
        Assert.Equal(new TrunkFreeReport(long.MinValue), TrunkFreeReport.Parse(Hex("80 00 00 00 00 00 00 00")));
        Assert.Equal((FdfsCommand)74, TrunkFreeReport.Command);

        RefusesOtherLengths(TrunkFreeReport.Size, b => TrunkFreeReport.Parse(b));
    }

    [Fact]
    public void SetTrunkServerRequest_IsGroupThenTheIdUnpadded()
    {
        var request = new SetTrunkServerRequest("group1", "10.77.0.8");
        byte[] expected = Hex(Group1 + " 31 30 2e 37 37 2e 30 2e 38");
        Assert.Equal(expected.Length, request.Size);
        Assert.Equal(expected, request.ToArray());
        Assert.Equal(request, SetTrunkServerRequest.Parse(expected));

        // No id: the group alone. An id NUL-padded to 16 reads the same as the bare one.
        Assert.Equal(Hex(Group1), new SetTrunkServerRequest("group1", "").ToArray());
        Assert.Equal(new SetTrunkServerRequest("group1", ""), SetTrunkServerRequest.Parse(Hex(Group1)));
        Assert.Equal(request, SetTrunkServerRequest.Parse(Hex(Group1 + " 31 30 2e 37 37 2e 30 2e 38 00 00 00 00 00 00 00")));
        Assert.Equal((FdfsCommand)94, SetTrunkServerRequest.Command);

        Assert.Throws<ProtocolException>(() => SetTrunkServerRequest.Parse(new byte[SetTrunkServerRequest.MinSize - 1]));
        Assert.Throws<ProtocolException>(() => SetTrunkServerRequest.Parse(new byte[SetTrunkServerRequest.MaxSize + 1]));
        Assert.Throws<ProtocolException>(() => SetTrunkServerRequest.Parse([]));
    }

    [Fact]
    public void SetTrunkServerReply_IsTheIdWithItsNul()
    {
        var reply = new SetTrunkServerReply("10.77.0.8");
        byte[] expected = Hex("31 30 2e 37 37 2e 30 2e 38 00");
        Assert.Equal(expected.Length, reply.Size);
        Assert.Equal(expected, reply.ToArray());
        Assert.Equal(reply, SetTrunkServerReply.Parse(expected));

        Assert.Throws<ProtocolException>(() => SetTrunkServerReply.Parse([]));
        Assert.Throws<ProtocolException>(() => SetTrunkServerReply.Parse(Hex("31 30 2e 37 37 2e 30 2e 38")));
        Assert.Throws<ProtocolException>(() => SetTrunkServerReply.Parse(new byte[SetTrunkServerReply.MaxSize + 1]));
    }

    [Fact]
    public void EveryCapturedTrunkFrameParsesAndReencodes()
    {
        var frames = new[] { "trunk-alloc-confirm.hex", "trunk-free-space.hex", "trunk-server-election.hex" }
            .SelectMany(HexCapture.Load).ToList();
        int checkedFrames = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (!frame.IsRequest)
            {
                continue;
            }

            byte[] body = frame.Body.ToArray();
            var reply = frames.Skip(i + 1).First(f => !f.IsRequest && f.From == frame.To && f.To == frame.From);
            byte[] replyBody = reply.Body.ToArray();
            switch (frame.Header.Cmd)
            {
                case FdfsCommand.TrunkAllocSpace:
                    var alloc = TrunkAllocRequest.Parse(body);
                    Assert.Equal(new TrunkAllocRequest("group1", 1024, 0), alloc);
                    Assert.Equal(body, alloc.ToArray());
                    var slot = TrunkSlotInfo.Parse(replyBody);
                    Assert.Equal(new TrunkSlotInfo(0, 0, 0, 1, 256, 1024), slot);
                    Assert.Equal(replyBody, slot.ToArray());
                    break;
                case FdfsCommand.TrunkAllocConfirm or FdfsCommand.TrunkFreeSpace:
                    var slotRequest = TrunkSlotRequest.Parse(body);
                    Assert.Equal("group1", slotRequest.Group);
                    Assert.Equal(body, slotRequest.ToArray());
                    Assert.Empty(replyBody);
                    break;
                case FdfsCommand.TrunkGetBinlogSize:
                    Assert.Empty(body);
                    var size = TrunkBinlogSizeReply.Parse(replyBody);
                    Assert.Equal(0L, size.BinlogSize);
                    var sizeBytes = new byte[TrunkBinlogSizeReply.Size];
                    size.Write(sizeBytes);
                    Assert.Equal(replyBody, sizeBytes);
                    break;
                case FdfsCommand.StorageFetchTrunkFid:
                    Assert.Empty(body);
                    Assert.Equal(replyBody, TrunkFileIdBody.Parse(replyBody).ToArray());
                    break;
                case FdfsCommand.StorageReportTrunkFid:
                    Assert.Equal(new TrunkFileIdBody(1), TrunkFileIdBody.Parse(body));
                    Assert.Equal(body, TrunkFileIdBody.Parse(body).ToArray());
                    Assert.Empty(replyBody);
                    break;
                case FdfsCommand.StorageReportTrunkFree:
                    Assert.Equal(body, TrunkFreeReport.Parse(body).ToArray());
                    Assert.Empty(replyBody);
                    break;
                default:
                    continue;
            }

            checkedFrames++;
        }

        // 27, 28, 29, 31, 72, 73 and 74 twice.
        Assert.Equal(8, checkedFrames);
    }
}
