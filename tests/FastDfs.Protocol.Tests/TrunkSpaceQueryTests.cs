using FastDfs.Protocol.Messages;

namespace FastDfs.Protocol.Tests;

public sealed class TrunkSpaceQueryTests
{
    [Fact]
    public void Response_RoundTrips_AsSixBigEndianLongs()
    {
        var space = new TrunkSpace(3, 192L << 20, 5_000_123, (192L << 20) - 5_000_123, 77_824, long.MaxValue);
        var body = new byte[TrunkSpaceQuery.ResponseSize];
        TrunkSpaceQuery.WriteResponse(body, space);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 3 }, body[..8]);
        Assert.Equal(new byte[] { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, body[40..]);
        Assert.Equal(space, TrunkSpaceQuery.ParseResponse(body));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(47)]
    [InlineData(56)]
    public void Response_OfAnotherSize_IsAProtocolError(int size) =>
        Assert.Throws<ProtocolException>(() => TrunkSpaceQuery.ParseResponse(new byte[size]));
}
