using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Configuration;

public class UnitsTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData(" 10s ", 10_000)]
    public void Duration_WithUnit_Parses(string text, double milliseconds)
    {
        Assert.True(Units.TryParseDuration(text, out TimeSpan value, out string? error), error);
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("5", "has no unit")]
    [InlineData("5x", "unknown unit")]
    [InlineData("s", "is not a duration")]
    [InlineData("-5s", "is not a duration")]
    [InlineData("", "is not a duration")]
    [InlineData("30d", "too long")]
    public void Duration_Invalid_IsExplained(string text, string expected)
    {
        Assert.False(Units.TryParseDuration(text, out _, out string? error));
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("16384", 16384)]
    [InlineData("16k", 16384)]
    [InlineData("16K", 16384)]
    [InlineData("16kb", 16384)]
    [InlineData("16KiB", 16384)]
    [InlineData("1m", 1048576)]
    [InlineData("2g", 2147483648)]
    public void Size_Parses(string text, long bytes)
    {
        Assert.True(Units.TryParseSize(text, out long value, out string? error), error);
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("16q")]
    [InlineData("k")]
    [InlineData("-1k")]
    [InlineData("1.5k")]
    [InlineData("99999999999999g")]
    public void Size_Invalid_IsRefused(string text)
    {
        Assert.False(Units.TryParseSize(text, out _, out string? error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData(250, "250ms")]
    [InlineData(5000, "5s")]
    [InlineData(120_000, "2m")]
    [InlineData(7_200_000, "2h")]
    public void Duration_FormatsAsWritten(double milliseconds, string expected) =>
        Assert.Equal(expected, Units.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
