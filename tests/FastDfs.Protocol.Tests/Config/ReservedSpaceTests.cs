using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class ReservedSpaceTests
{
    [Theory]
    [InlineData("10G", 10240)]
    [InlineData("1024M", 1024)]
    [InlineData("1024MB", 1024)]
    [InlineData("1 GB", 1024)]
    [InlineData("1T", 1048576)]
    [InlineData("5242880", 5)]  // plain number = bytes
    [InlineData("1048575", 0)]  // integer division
    [InlineData("2047K", 1)]
    public void Absolute_sizes_become_megabytes(string value, long expectedMb)
    {
        var r = ReservedSpace.Parse(value);

        Assert.False(r.IsRatio);
        Assert.Equal(expectedMb, r.Megabytes);
        Assert.Equal($"{expectedMb}MB", r.ToParameterString());
    }

    [Theory]
    [InlineData("20%", 0.2, "20.00%")]
    [InlineData("12.5%", 0.125, "12.50%")]
    [InlineData("20.00%", 0.2, "20.00%")]
    [InlineData("0.01%", 0.0001, "0.01%")]
    [InlineData("99.99%", 0.9999, "99.99%")]
    public void Ratios(string value, double expectedRatio, string parameter)
    {
        var r = ReservedSpace.Parse(value);

        Assert.True(r.IsRatio);
        Assert.Equal(expectedRatio, r.Ratio, 10);
        Assert.Equal(parameter, r.ToParameterString());
    }

    [Fact]
    public void Parameter_string_round_trips()
    {
        foreach (var value in new[] { "20%", "12.5%", "1024MB", "10G" })
        {
            var r = ReservedSpace.Parse(value);
            Assert.Equal(r, ReservedSpace.Parse(r.ToParameterString()));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("%")]
    [InlineData("0%")]
    [InlineData("100%")]
    [InlineData("-5%")]
    [InlineData("150%")]
    [InlineData("20 %")]
    [InlineData("abc%")]
    [InlineData("10X")]
    [InlineData("-1G")]
    [InlineData("lots")]
    public void Invalid_values_are_errors(string value)
    {
        ConfAssert.ThrowsFor(ReservedSpace.Key, () => ReservedSpace.Parse(value));
    }

    [Fact]
    public void Default_is_1024_MB()
    {
        Assert.Equal(ReservedSpace.FromMegabytes(1024), ReservedSpace.Default);
        Assert.Equal("1024MB", ReservedSpace.Default.ToString());
    }

    [Fact]
    public void Factories_validate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReservedSpace.FromRatio(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReservedSpace.FromRatio(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReservedSpace.FromMegabytes(-1));
        Assert.Equal(ReservedSpace.Parse("25%"), ReservedSpace.FromRatio(0.25));
    }

    [Fact]
    public void Group_check_in_megabytes()
    {
        var r = ReservedSpace.FromMegabytes(1024);

        Assert.True(r.GroupHasSpace(freeMb: 1025, totalMb: 0));
        Assert.False(r.GroupHasSpace(freeMb: 1024, totalMb: 100_000));
        Assert.True(r.GroupHasSpace(freeMb: 1000, totalMb: 100_000, trunkFreeMb: 25));
    }

    [Fact]
    public void Group_check_as_ratio()
    {
        var r = ReservedSpace.Parse("20%");

        Assert.True(r.GroupHasSpace(freeMb: 201, totalMb: 1000));
        Assert.False(r.GroupHasSpace(freeMb: 200, totalMb: 1000));
        Assert.False(r.GroupHasSpace(freeMb: 500, totalMb: 0));
        Assert.True(r.GroupHasSpace(freeMb: 150, totalMb: 1000, trunkFreeMb: 51));
    }

    [Fact]
    public void Path_check_splits_megabytes_across_paths()
    {
        var r = ReservedSpace.FromMegabytes(1000);

        Assert.True(r.PathHasSpace(pathFreeMb: 334, pathTotalMb: 0, storePathCount: 3));  // 1000 / 3 = 333
        Assert.False(r.PathHasSpace(pathFreeMb: 333, pathTotalMb: 0, storePathCount: 3));
        Assert.True(r.PathHasSpace(pathFreeMb: 1001, pathTotalMb: 0, storePathCount: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.PathHasSpace(1, 1, 0));
    }

    [Fact]
    public void Path_check_as_ratio_ignores_path_count()
    {
        var r = ReservedSpace.FromRatio(0.1);

        Assert.True(r.PathHasSpace(pathFreeMb: 11, pathTotalMb: 100, storePathCount: 4));
        Assert.False(r.PathHasSpace(pathFreeMb: 10, pathTotalMb: 100, storePathCount: 4));
        Assert.False(r.PathHasSpace(pathFreeMb: 10, pathTotalMb: 0, storePathCount: 1));
    }

    [Fact]
    public void Reserved_mb_for_stats()
    {
        Assert.Equal(1024, ReservedSpace.Default.ReservedMb(totalMb: 50_000));
        Assert.Equal(10_000, ReservedSpace.Parse("20%").ReservedMb(totalMb: 50_000));
        Assert.Equal(0, ReservedSpace.Parse("20%").ReservedMb(totalMb: 0));
    }
}
