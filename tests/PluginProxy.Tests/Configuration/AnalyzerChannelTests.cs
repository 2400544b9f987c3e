using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Configuration;

/// <summary>
/// An analyzer made for one channel (<c>IFlowAnalyzer.Direction</c>), a typed HTTP phase included, is refused on the other,
/// at its place.
/// </summary>
public class AnalyzerChannelTests
{
    private static async Task<(string Path, IReadOnlyList<string> Problems)> BuildAsync(string analyzers, string plugins)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{plugins}}"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            {{analyzers}}

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);
        try
        {
            await (await ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog())).DisposeAsync();
            return (path, []);
        }
        catch (StartupException ex)
        {
            return (path, ex.Problems);
        }
    }

    [Theory]
    [InlineData("request_analyzers = [\"http_lb_resp\"]", "9:22", "http_lb_resp", "response", "request")]
    [InlineData("response_analyzers = [\"http_lb_req\"]", "9:23", "http_lb_req", "request", "response")]
    [InlineData("response_analyzers = [\"http_lb_resp\", \"rate_limit\"]", "9:39", "rate_limit", "request", "response")]
    public async Task AnalyzerOnTheWrongChannel_IsRefusedWhereItIsListed(string analyzers, string at, string name, string made, string listed)
    {
        (string path, IReadOnlyList<string> problems) = await BuildAsync(analyzers, RepoPaths.PluginsBin);

        Assert.Equal($"{path}:{at}: analyzer \"{name}\" works on the {made} channel: list it in {made}_analyzers, not in {listed}_analyzers", Assert.Single(problems));
    }

    [Theory]
    [InlineData("request_analyzers = [\"probe_frame_options\"]", "9:22", "probe_frame_options", "response", "request")]
    [InlineData("response_analyzers = [\"probe_request_filter\"]", "9:23", "probe_request_filter", "request", "response")]
    [InlineData("after_response_analyzers = [\"probe_backend_from_header\"]", "9:29", "probe_backend_from_header", "request", "response")]
    public async Task TypedPhaseOnTheWrongChannel_IsRefusedWhereItIsListed(string analyzers, string at, string name, string made, string listed)
    {
        (string path, IReadOnlyList<string> problems) = await BuildAsync(analyzers, RepoPaths.TestPluginsBin);

        Assert.Equal($"{path}:{at}: analyzer \"{name}\" works on the {made} channel: list it in {made}_analyzers, not in {listed}_analyzers", Assert.Single(problems));
    }

    [Fact]
    public async Task AnalyzersOnTheirOwnChannel_AndOnesThatDoNotSay_AreAccepted()
    {
        (_, IReadOnlyList<string> problems) = await BuildAsync(
            "request_analyzers = [\"http_lb_req\", \"deny_all\", \"probe_logger\", \"probe_request_filter\", \"probe_backend_from_header\"]\n" +
            "response_analyzers = [\"http_lb_resp\", \"deny_all\", \"probe_frame_options\"]\nafter_response_analyzers = [\"probe_gone_for_404\"]",
            RepoPaths.TestPluginsBin);

        Assert.Empty(problems);
    }
}
