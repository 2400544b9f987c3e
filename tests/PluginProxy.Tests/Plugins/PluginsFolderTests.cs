using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// A configuration kept outside the clone (in /etc, in a temp folder): the built-in plugins are found wherever it is,
/// the default plugins folder may be absent, and the clone's sample plugins are not built in.
/// </summary>
public class PluginsFolderTests
{
    private static string Config(string origin, string global = "", string listenerExtra = "") => $$"""
        [global]
        {{global}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[listener]]
        name = "raw"
        bind = ["127.0.0.1:0"]
        supervisor = "tcp"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{origin}}" }]
        """;

    [Fact]
    public async Task DefaultPluginsFolderThatDoesNotExist_IsNoError_AndTheBuiltInPluginsServe()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();

        // RunningProxy writes the file into a fresh temp folder: its plugins/bin does not exist.
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET /through HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        string expected = Path.Combine(proxy.Directory, "plugins", "bin");
        Assert.Contains(proxy.Logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Information
            && l.Message.Contains($"No plugins folder at {expected} (the default of `plugins` in [global]): only the built-in plugins are loaded"));
        Assert.Equal(["PluginProxy.Compression", "PluginProxy.Http", "PluginProxy.Https", "PluginProxy.Tcp"], proxy.Host.Plugins.Plugins.Select(p => p.Name).Order());
    }

    [Fact]
    public async Task CheckCommand_AcceptsAConfigurationOutsideTheClone()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("127.0.0.1:9"));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.True(code == 0, output);
        Assert.Contains("configuration is valid (2 listener(s), 1 backend(s), 4 plugin(s))", output);
    }

    [Fact]
    public async Task NamedPluginsFolderThatDoesNotExist_IsAnErrorAtTheKey()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("127.0.0.1:9", "plugins = \"my-plugins\""));

        StartupException error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));

        Assert.Equal(
            $"{path}:2:11: the plugins folder {Path.Combine(directory.Path, "my-plugins")} does not exist; create it, fix `plugins` in [global], or remove the key to use only the built-in plugins",
            Assert.Single(error.Problems));
    }

    [Fact]
    public async Task SamplePlugin_IsNotBuiltIn_OutsideTheClone()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("127.0.0.1:9", listenerExtra: "request_analyzers = [\"rate_limit\"]"));

        StartupException error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));

        Assert.Contains($"{path}:9:22: analyzer \"rate_limit\" is not provided by any loaded plugin", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task SamplePluginsName_IsFreeForAPluginOfTheUsersOwn()
    {
        using var directory = new TempDirectory();
        string plugins = Path.Combine(directory.Path, "plugins", "bin");
        PluginFactory.Build(plugins, "MyLimits", """
            using System.Threading;
            using System.Threading.Tasks;
            using PluginProxy.Abstractions;

            public sealed class MyLimitsPlugin : IPlugin
            {
                public void Configure(IPluginBuilder builder) => builder.AddAnalyzer<DenyEverything>("rate_limit");
            }

            public sealed class DenyEverything : IFlowAnalyzer
            {
                public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
                    ValueTask.FromResult(AnalyzerVerdict.Stop(AnalyzerReply.Text(429, "mine\n")));
            }
            """);
        string path = directory.Write("proxy.toml", Config("127.0.0.1:9", listenerExtra: "request_analyzers = [\"rate_limit\"]"));

        await using ProxyHost host = await ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog());

        Assert.Equal(["MyLimits", "PluginProxy.Compression", "PluginProxy.Http", "PluginProxy.Https", "PluginProxy.Tcp"], host.Plugins.Plugins.Select(p => p.Name).Order());
    }
}
