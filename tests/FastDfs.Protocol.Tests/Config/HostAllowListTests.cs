using System.Net;
using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class HostAllowListTests
{
    private static readonly Func<string, IReadOnlyList<IPAddress>> Dns = host => host switch
    {
        "tracker.example" => [IPAddress.Parse("10.1.1.1")],
        "host02.example" => [IPAddress.Parse("10.2.0.2")],
        "host09.example" => [IPAddress.Parse("10.2.0.9")],
        _ => [],
    };

    private static bool Allows(string address, params string[] patterns) => HostAllowList.Parse(patterns, Dns).Allows(IPAddress.Parse(address));

    [Fact]
    public void StarOrNothingAllowsEveryone()
    {
        Assert.True(HostAllowList.Parse(["*"], Dns).AllowsEveryone);
        Assert.True(HostAllowList.Parse([], Dns).AllowsEveryone);
        Assert.True(HostAllowList.Parse(["10.0.0.1", "*"], Dns).AllowsEveryone);
    }

    [Theory]
    [InlineData("10.0.0.5", true)]
    [InlineData("10.0.0.6", false)]
    [InlineData("::ffff:10.0.0.5", true)] // an IPv4-mapped peer
    public void SingleAddresses(string address, bool allowed) => Assert.Equal(allowed, Allows(address, "10.0.0.5"));

    [Theory]
    [InlineData("10.0.1.1", true)]
    [InlineData("10.0.1.15", true)]
    [InlineData("10.0.1.16", false)]
    [InlineData("10.0.1.20", true)]
    [InlineData("10.0.1.0", false)]
    public void StockRanges(string address, bool allowed) => Assert.Equal(allowed, Allows(address, "10.0.1.[1-15,20]"));

    [Theory]
    [InlineData("192.168.5.64", true)]
    [InlineData("192.168.5.127", true)]
    [InlineData("192.168.5.128", false)]
    [InlineData("192.168.5.63", false)]
    [InlineData("fd00::1:2", true)]
    [InlineData("fd01::1", false)]
    public void CidrBlocks(string address, bool allowed) => Assert.Equal(allowed, Allows(address, "192.168.5.64/26", "fd00::/16"));

    [Fact]
    public void HostNamesAndZeroPaddedHostRangesAreResolved()
    {
        var list = HostAllowList.Parse(["tracker.example", "host[01-02,09].example", "gone.example"], Dns);
        Assert.True(list.Allows(IPAddress.Parse("10.1.1.1")));
        Assert.True(list.Allows(IPAddress.Parse("10.2.0.2")));
        Assert.True(list.Allows(IPAddress.Parse("10.2.0.9")));
        Assert.False(list.Allows(IPAddress.Parse("10.2.0.3")));
        Assert.Equal(["host01.example", "gone.example"], list.Unresolved);
        Assert.Equal(["h08", "h09", "h10"], HostAllowList.Expand("h[08-10]"));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.[5-1]")]
    [InlineData("10.0.0.[1-2")]
    [InlineData("10.0.0.1 extra")]
    [InlineData("10.[0-255].[0-255].[0-255]")]
    public void InvalidPatternsAreRefused(string pattern) => Assert.Throws<FormatException>(() => HostAllowList.Parse([pattern], Dns));
}
