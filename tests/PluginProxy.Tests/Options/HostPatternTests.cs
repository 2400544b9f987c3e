using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Options;

/// <summary>The SDK's host name patterns, shared by the http and tcp routes (<c>host</c>, <c>sni</c>).</summary>
public class HostPatternTests
{
    [Theory]
    [InlineData("api.example.com", "api.example.com", true)]
    [InlineData("api.example.com", "API.Example.COM", true)]
    [InlineData("api.example.com", "api.example.com.", true)]
    [InlineData("api.example.com", "www.example.com", false)]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "a.b.EXAMPLE.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", ".example.com", false)]
    [InlineData("api.example.com", "", false)]
    [InlineData("api.example.com", null, false)]
    public void Matches_IgnoresCase_AndAWildcardNeedsALabel(string pattern, string? name, bool matches) =>
        Assert.Equal(matches, HostPattern.Matches(pattern, name));

    [Theory]
    [InlineData("api.example.com", true)]
    [InlineData("*.example.com", true)]
    [InlineData("localhost", true)]
    [InlineData("", false)]
    [InlineData("api.example.com:443", false)]
    [InlineData("api.example.com/v1", false)]
    [InlineData("*example.com", false)]
    [InlineData("api.*.com", false)]
    [InlineData("*", false)]
    public void IsValid_AcceptsNamesAndLeadingWildcards_Only(string pattern, bool valid) =>
        Assert.Equal(valid, HostPattern.IsValid(pattern));
}
