using System.Net.Sockets;
using System.Text.RegularExpressions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>A plugin analyzer that throws is logged as the operator knows it: its name, its plugin and that plugin's version.</summary>
public class AnalyzerFailureTests
{
    private const string ThrowerSource = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using PluginProxy.Abstractions;

        public sealed class ThrowerPlugin : IPlugin
        {
            public void Configure(IPluginBuilder builder) => builder.AddAnalyzer<AlwaysThrows>("always_throws");
        }

        public sealed class AlwaysThrows : IFlowAnalyzer
        {
            public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
                throw new InvalidOperationException("thrown on purpose");
        }
        """;

    [Fact]
    public async Task ThrowingAnalyzer_IsLoggedWithItsNamePluginAndVersion_ByTheHttpAndTcpSupervisors()
    {
        using var plugins = new TempDirectory();
        PluginFactory.Build(plugins.Path, "Thrower", ThrowerSource);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection(plugins: plugins.Path)}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            request_analyzers = ["always_throws"]

            [[listener]]
            name = "raw"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "app"
            request_analyzers = ["always_throws"]

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{origin.Address}}" }]
            """);
        int version = proxy.Host.Plugins.Plugins.Single(p => p.Name == "Thrower").Generation;
        string named = $"always_throws (plugin Thrower version {version})";

        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(500, (await client.ReadResponseAsync()).Status);
        }

        using (Socket raw = await proxy.ConnectAsync("raw"))
        {
            await raw.SendAllAsync("hello\n"u8.ToArray());
            Assert.True(await raw.WaitForCloseAsync());
        }

        string http = await proxy.Logs.WaitForAsync("PluginProxy.Http.HttpSupervisor", l => l.Contains(" threw"), "the http supervisor's error line");
        Assert.StartsWith($"Session ", http);
        Assert.Contains($": request analyzer {named} threw | System.InvalidOperationException: thrown on purpose", http);
        Assert.Contains($"\"{named} threw InvalidOperationException: thrown on purpose\"", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 500 "), "the 500"));
        string tcp = await proxy.Logs.WaitForAsync("PluginProxy.Tcp.TcpSupervisor", l => l.Contains(" threw"), "the tcp supervisor's error line");
        Assert.Matches(new Regex($@"^Session \d+: request analyzer #1, {Regex.Escape(named)}, threw \| System.InvalidOperationException"), tcp);
    }
}
