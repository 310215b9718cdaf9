using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class TrackerAddressTests
{
    [Theory]
    [InlineData("192.168.0.1:22122", "192.168.0.1", null, 22122)]
    [InlineData(" tracker.example.com:22200 ", "tracker.example.com", null, 22200)]
    [InlineData("127.0.0.1:22122", "127.0.0.1", null, 22122)]
    [InlineData("10.0.0.1", "10.0.0.1", null, 22122)]
    [InlineData("[fe80::1]:22123", "fe80::1", null, 22123)]
    [InlineData("[::1]", "::1", null, 22122)]
    [InlineData("10.0.0.5,172.16.0.5:22122", "10.0.0.5", "172.16.0.5", 22122)]
    [InlineData("10.0.0.5, 172.16.0.5:22125", "10.0.0.5", "172.16.0.5", 22125)]
    [InlineData("10.0.0.5,fe80::5:22122", "10.0.0.5", "fe80::5", 22122)]
    [InlineData("10.0.0.5,[fe80::5]:22122", "10.0.0.5", "fe80::5", 22122)]
    public void Parses_stock_forms(string text, string host, string? secondHost, int port)
    {
        var a = TrackerAddress.Parse(text);

        Assert.Equal(host, a.Host);
        Assert.Equal(secondHost, a.SecondHost);
        Assert.Equal(port, a.Port);
        Assert.Equal(secondHost is null ? [host] : new[] { host, secondHost }, a.Hosts);
    }

    [Theory]
    [InlineData("192.168.0.1:22122")]
    [InlineData("[fe80::1]:22123")]
    [InlineData("10.0.0.5,172.16.0.5:22122")]
    [InlineData("10.0.0.5,fe80::5:22122")]
    public void ToString_round_trips(string text)
    {
        var a = TrackerAddress.Parse(text);

        Assert.Equal(text, a.ToString());
        Assert.Equal(a, TrackerAddress.Parse(a.ToString()));
    }

    [Fact]
    public void Default_port_can_be_chosen()
    {
        Assert.Equal(80, TrackerAddress.Parse("web", defaultPort: 80).Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":22122")]
    [InlineData("host:")]
    [InlineData("host:abc")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:-1")]
    [InlineData("[fe80::1:22122")]
    [InlineData("[fe80::1]x")]
    [InlineData("[a,b]:22122")]
    [InlineData("a,b,c:22122")]
    [InlineData("a,:22122")]
    public void Rejects_invalid_forms(string text)
    {
        Assert.Throws<FormatException>(() => TrackerAddress.Parse(text));
    }
}
