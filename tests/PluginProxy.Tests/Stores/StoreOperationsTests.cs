using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Stores;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;
using PluginProxy.Tests.Admin;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Stores;

/// <summary>
/// A store as an operator and a script author see it, over real sockets with a real redis-server: its state and
/// exchanges in <c>/metrics</c> and <c>/api/stats</c>, and its counters in a rule script.
/// </summary>
public class StoreOperationsTests
{
    private static string StoreSection(RedisServer redis, string prefix) => $"""

        [[store]]
        name = "shared"
        kind = "redis"
        address = "{redis.Address}"
        prefix = "{prefix}"
        sync_interval = "50ms"
        timeout = "300ms"
        """;

    private static string Config(string originAddress, string store) => $$"""
        {{RunningProxy.GlobalSection("admin = \"127.0.0.1:0\"")}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{originAddress}}" }]
        {{store}}
        """;

    private static HttpClient AdminClient(RunningProxy proxy) =>
        new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/"), Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<Dictionary<string, double>> MetricsAsync(HttpClient admin) =>
        PrometheusText.Parse(await admin.GetStringAsync("/metrics"));

    [SkippableFact]
    public async Task Metrics_ShowTheStoreUp_ThenDownWhenRedisIsKilled()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, StoreSection(redis, $"t{Guid.NewGuid():N}:")));
        proxy.Host.Stores.Find("shared")!.Counter("k", TimeSpan.FromMinutes(1)).Increment();
        using HttpClient admin = AdminClient(proxy);
        const string Store = "{store=\"shared\"}";
        Dictionary<string, double> samples = [];

        await Wait.ForAsync(async () =>
        {
            samples = await MetricsAsync(admin);
            return samples.GetValueOrDefault($"pluginproxy_store_up{Store}") == 1 && samples.GetValueOrDefault($"pluginproxy_store_exchanges_total{Store}") >= 2;
        }, "the store up with exchanges in /metrics");
        Assert.Equal(0, samples[$"pluginproxy_store_exchange_failures_total{Store}"]);
        Assert.Equal(1, samples[$"pluginproxy_store_counters{Store}"]);
        Assert.InRange(samples[$"pluginproxy_store_exchange_duration_seconds{Store}"], 1e-7, 0.3);

        redis.Kill();
        await Wait.ForAsync(async () =>
        {
            samples = await MetricsAsync(admin);
            return samples.GetValueOrDefault($"pluginproxy_store_up{Store}", -1) == 0;
        }, "the store down in /metrics");
        Assert.True(samples[$"pluginproxy_store_exchange_failures_total{Store}"] >= 1);
    }

    [SkippableFact]
    public async Task Stats_ListTheStore_WithItsStateExchangesAndSettings_AndWhyItWasLastDown()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, StoreSection(redis, $"t{Guid.NewGuid():N}:")));
        using HttpClient admin = AdminClient(proxy);

        JsonElement store = default;
        await Wait.ForAsync(async () =>
        {
            using JsonDocument stats = JsonDocument.Parse(await admin.GetStringAsync("/api/stats"));
            store = stats.RootElement.GetProperty("stores")[0].Clone();
            return store.GetProperty("state").GetString() == "up";
        }, "the store up in /api/stats");
        Assert.Equal(("shared", "redis", redis.Address), (store.GetProperty("name").GetString(), store.GetProperty("kind").GetString(), store.GetProperty("address").GetString()));
        Assert.Equal(("50ms", "open"), (store.GetProperty("sync_interval").GetString(), store.GetProperty("on_store_failure").GetString()));
        Assert.True(store.GetProperty("exchanges").GetInt64() >= 1);
        Assert.Equal(0, store.GetProperty("failures").GetInt64());
        Assert.Equal(JsonValueKind.Null, store.GetProperty("last_failure").ValueKind);
        DateTimeOffset upSince = store.GetProperty("since").GetDateTimeOffset();
        Assert.InRange(upSince, proxy.Host.StartedAt.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        redis.Kill();
        await Wait.ForAsync(async () =>
        {
            using JsonDocument stats = JsonDocument.Parse(await admin.GetStringAsync("/api/stats"));
            store = stats.RootElement.GetProperty("stores")[0].Clone();
            return store.GetProperty("state").GetString() == "down";
        }, "the store down in /api/stats");
        Assert.True(store.GetProperty("failures").GetInt64() >= 1);
        Assert.False(string.IsNullOrEmpty(store.GetProperty("last_failure").GetString()));
        Assert.True(store.GetProperty("since").GetDateTimeOffset() >= upSince);

        // The dashboard's document lists it too.
        using JsonDocument dashboard = JsonDocument.Parse(await admin.GetStringAsync("/api/dashboard"));
        Assert.Equal("shared", dashboard.RootElement.GetProperty("stores")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Stats_WithoutAStore_ListNone()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, ""));
        using HttpClient admin = AdminClient(proxy);

        using JsonDocument stats = JsonDocument.Parse(await admin.GetStringAsync("/api/stats"));

        Assert.Equal(0, stats.RootElement.GetProperty("stores").GetArrayLength());
    }

    [SkippableFact]
    public async Task Script_CountsInTheSharedStore_AndSeesWhatAnotherInstanceCounted()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        string prefix = $"t{Guid.NewGuid():N}:";
        using var scripts = new ScriptFolder();
        scripts.Write("count.csx", """
            double? rate = Stores.Find("shared")?.Increment("script:" + Request.Path, TimeSpan.FromDays(1));
            Request.Headers["X-Rate"] = rate?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no store";
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"count.csx\"]", extra: StoreSection(redis, prefix)));
        // Another instance of the proxy, as far as the store can tell: the same server and prefix.
        await using SharedStore other = new(new StoreConfig("shared", "redis", redis.Address, null, prefix, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300), false,
            new SourceSpot("other.toml", 1, 1)), NullLogger.Instance);
        other.Start();
        ISharedCounter there = other.Counter("script:/x", TimeSpan.FromDays(1));
        await Wait.UntilAsync(() => other.State == StoreState.Up && proxy.Host.Stores.All[0].State == StoreState.Up, "both instances sharing");

        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(200, (await SendAsync(proxy, "/x")).Status);
            Assert.Equal(i.ToString(), (await origin.WaitForRequestAsync(i)).Header("X-Rate"));
        }

        await Wait.UntilAsync(() => Math.Abs(there.Rate - 3) < 0.01, "the script's counts reaching the other instance");
        there.Increment(10);
        int sent = 3;
        await Wait.ForAsync(async () =>
        {
            await SendAsync(proxy, "/x");
            return (await origin.WaitForRequestAsync(++sent)).Header("X-Rate") is { } seen && double.Parse(seen, System.Globalization.CultureInfo.InvariantCulture) >= 14;
        }, "the script seeing the other instance's counts");
    }

    [Fact]
    public async Task Script_OnAHostWithoutStores_FindsNone()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("count.csx", """
            Request.Headers["X-Store"] = Stores.Find("shared") is null ? $"none of {Stores.All.Count}" : "found";
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"count.csx\"]"));

        await SendAsync(proxy, "/x");

        Assert.Equal("none of 0", (await origin.WaitForRequestAsync()).Header("X-Store"));
    }

    private static async Task<RawResponse> SendAsync(RunningProxy proxy, string path)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
        return await client.ReadResponseAsync();
    }
}
