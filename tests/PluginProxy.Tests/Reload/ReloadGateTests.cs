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

    private static string CheckedConfig(string origin, string interval) => $$"""
        {{RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        check = { kind = "tcp", interval = "{{interval}}" }
        servers = [{ name = "a", address = "{{origin}}" }, { name = "b", address = "{{origin}}" }]
        """;

    [Fact]
    public async Task StopDuringReloads_StopsEachHealthCheckOnce_AndLaterReloadsSayTheProxyIsStopping()
    {
        await using var origin = HttpOrigin.Echo();
        RunningProxy proxy = await RunningProxy.StartAsync(CheckedConfig(origin.Address, "1s"));
        File.WriteAllText(Path.Combine(proxy.Directory, "proxy.toml"), CheckedConfig(origin.Address, "2s"));

        // Each reload stops the running health checks and starts new ones; the stop stops them too. Before stop and
        // reloads took the same gate, both could stop the same checks (ObjectDisposedException) or a reload could start
        // checks after the stop had released everything.
        var reloads = Enumerable.Range(0, 6).Select(_ => Task.Run(proxy.Host.ReloadConfigurationAsync)).ToList();
        Task stop = Task.Run(() => proxy.Host.StopAsync(TimeSpan.Zero));
        await stop;
        IReadOnlyList<string>[] outcomes = await Task.WhenAll(reloads);
        Assert.All(outcomes, problems => Assert.True(problems.Count == 0 || problems.Single().Contains("the proxy is stopping"), string.Join("; ", problems)));

        IReadOnlyList<string> afterStop = await proxy.Host.ReloadConfigurationAsync();
        Assert.Contains("not reloaded, the proxy is stopping", Assert.Single(afterStop));
        await proxy.DisposeAsync();
    }
}
