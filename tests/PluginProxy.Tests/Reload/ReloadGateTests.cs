using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Reload;

/// <summary>Reloads arriving together (SIGHUP, the admin endpoint, a saved file, a plugin or script swap) run one at a time.</summary>
public class ReloadGateTests
{
    private static string Config(string origin, int retries) => $$"""
        {{RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        retries = {{retries}}
        servers = [{ name = "a", address = "{{origin}}" }]
        """;

    [Fact]
    public async Task ConcurrentReloadsAndPipelineRebuilds_EachApplyWhole_OneAfterTheOther()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, retries: 0));
        Server server = ReloadTestKit.OnlyServer(proxy);
        File.WriteAllText(Path.Combine(proxy.Directory, "proxy.toml"), Config(origin.Address, retries: 2));

        var reloads = Enumerable.Range(0, 4).Select(_ => Task.Run(proxy.Host.ReloadConfigurationAsync)).ToList();
        var rebuilds = Enumerable.Range(0, 4).Select(_ => Task.Run(proxy.Host.RebuildPipelinesAsync)).ToList();
        await Task.WhenAll(rebuilds);

        foreach (IReadOnlyList<string> problems in await Task.WhenAll(reloads))
        {
            Assert.Empty(problems);
        }

        // Each reload carried the server over from the one before: still the same object, in the last backend.
        Assert.Same(server, ReloadTestKit.OnlyServer(proxy));
        Assert.Same(proxy.Host.Backends.Backends[0], server.Backend);
        Assert.Single(proxy.Host.Listeners);
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(proxy.EndPoint("web")));
    }
}
