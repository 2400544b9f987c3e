using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Options;

/// <summary>
/// The http supervisor's own listener keys (forwardfor, no_route_status, max_request_body) are bound by the plugin through
/// the SDK's binder: a wrong value or a misspelt key refuses the configuration at its file:line:column, as the host's own
/// keys do; [defaults] max_request_body still reaches the plugin.
/// </summary>
public class HttpListenerOptionsTests
{
    private static (int Line, int Column) Find(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        return (line + 1, lines[line].IndexOf(text, StringComparison.Ordinal) + 1);
    }

    [Fact]
    public async Task BadHttpKeys_AreRefusedAtTheirPlace()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9",
            listenerExtra: "no_route_status = 600\nforwardfr = true\nmaxconns = 3",
            defaults: "max_request_body = \"lots\""));
        ProxyConfig config = ConfigLoader.Load(path);

        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, NullLoggerFactory.Instance, new CapturedAccessLog()));

        var (statusLine, statusColumn) = Find(path, "600");
        var (typoLine, _) = Find(path, "forwardfr");
        var (bodyLine, bodyColumn) = Find(path, "\"lots\"");
        var (connLine, _) = Find(path, "maxconns");
        Assert.Contains($"{path}:{statusLine}:{statusColumn}: `no_route_status` must be from 404 to 503, not 600", error.Problems);
        Assert.Contains($"{path}:{typoLine}:1: unknown key `forwardfr` in listener \"web\"; did you mean `forwardfor`?", error.Problems);
        Assert.Contains($"{path}:{connLine}:1: unknown key `maxconns` in listener \"web\"; did you mean `maxconn`?", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{bodyLine}:{bodyColumn}: `max_request_body`: \"lots\" is not a size", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoRouteStatusOutsideTheTwoChoices_IsRefused()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "no_route_status = 410"));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        var (line, column) = Find(path, "410");
        Assert.Equal($"{path}:{line}:{column}: `no_route_status` must be 404 or 503, not 410", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task MaxRequestBodyFromDefaults_ReachesTheHttpSupervisor()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, defaults: "max_request_body = \"1k\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal(413, response.Status);
    }

    [Fact]
    public async Task AKeyOfTheHttpSupervisor_IsUnknownToTcp()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "forwardfor = true").Replace("supervisor = \"http\"", "supervisor = \"tcp\""));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        var (line, _) = Find(path, "forwardfor");
        Assert.StartsWith($"{path}:{line}:1: unknown key `forwardfor` in listener \"web\"", Assert.Single(error.Problems));
    }
}
