using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Stores;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>rate_limit's <c>store</c> as <c>pluginproxy check</c> sees it: a store the configuration does not define, and a <c>burst</c> it cannot honour.</summary>
public class SharedRateLimitCheckTests
{
    private static string Config(string limit, string stores) => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        request_analyzers = ["rate_limit"]
        options = { rate_limit = {{limit}} }

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9" }]
        {{stores}}
        """;

    private const string TwoStores = """

        [[store]]
        name = "shared"
        kind = "redis"
        address = "127.0.0.1:6379"

        [[store]]
        name = "edge"
        kind = "redis"
        address = "127.0.0.1:6380"
        """;

    private static int ColumnOf(string path, string text)
    {
        string line = File.ReadAllLines(path).Single(l => l.Contains("rate_limit =", StringComparison.Ordinal));
        return line.IndexOf(text, StringComparison.Ordinal) + 1;
    }

    [Fact]
    public async Task Check_RefusesAStoreThatIsNotDefined_AtItsValue_ListingTheDefinedStores()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("""{ requests = 100, per = "1s", store = "shraed" }""", TwoStores));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:10:{ColumnOf(path, "\"shraed\"")}: `options.rate_limit.store` names store \"shraed\", which is not defined; did you mean \"shared\"? (defined stores: \"shared\", \"edge\")", output);
    }

    [Fact]
    public async Task Check_RefusesAStore_WhenNoneIsDefined()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("""{ requests = 100, per = "1s", store = "shared" }""", ""));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:10:{ColumnOf(path, "\"shared\"")}: `options.rate_limit.store` names store \"shared\", which is not defined; no [[store]] is defined", output);
    }

    [Fact]
    public async Task Check_RefusesBurstWithAStore_AndAcceptsTheSharedLimitWithout()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("""{ requests = 100, per = "1s", burst = 200, store = "edge" }""", TwoStores));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:10:{ColumnOf(path, "burst")}: `options.rate_limit.burst` does not apply with `store`", output);

        directory.Write("proxy.toml", Config("""{ requests = 100, per = "1s", store = "edge" }""", TwoStores));
        (code, output) = await ProxyProcess.RunAsync("check", "--config", path);
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task TheSharedCounter_ReadAndCountedPerRequest_AllocatesNothing()
    {
        // What the shared limit does per request of a known client: read the rate, count one (the store not started:
        // counting never touches it).
        await using var store = new SharedStore(new StoreConfig("shared", "redis", "127.0.0.1:9", null, "t:", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), false,
            new SourceSpot("proxy.toml", 1, 1)), NullLogger.Instance);
        ISharedCounter counter = store.Counter("rl:web:127.0.0.1", TimeSpan.FromSeconds(1));
        _ = counter.Rate;
        counter.Increment();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            if (counter.Rate < double.MaxValue)
            {
                counter.Increment();
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
