using PluginProxy.Host.Admin;
using PluginProxy.Host.Tables;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Tables;

/// <summary>
/// Two proxy instances whose stick table has a <c>store</c>, on one real redis-server: a persistent client keeps its
/// server whichever instance it reaches, and a key's request rate is the sum of what both instances counted.
/// </summary>
public class SharedStickTableTests
{
    internal static string Config(RedisServer redis, string prefix, HttpOrigin[] origins, string listenerExtra = "", string store = "shared", string expire = "10m") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        track = ["users"]
        {{listenerExtra}}

        [[backend]]
        name = "app"
        balance = "roundrobin"
        stick_table = "users"
        servers = [{{string.Join(", ", origins.Select((o, i) => $"{{ name = \"s{i}\", address = \"{o.Address}\" }}"))}}]

        [[stick_table]]
        name = "users"
        key = "header:X-User"
        rate_period = "10m"
        expire = "{{expire}}"
        store = "{{store}}"

        [[store]]
        name = "{{store}}"
        kind = "redis"
        address = "{{redis.Address}}"
        prefix = "{{prefix}}"
        sync_interval = "50ms"
        """;

    internal static async Task<RawResponse> GetAsync(RunningProxy proxy, string user)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET /x HTTP/1.1\r\nHost: a\r\nX-User: {user}\r\n\r\n");
        return await client.ReadResponseAsync();
    }

    internal static StickTable Users(RunningProxy proxy) => proxy.Host.StickTables.Current.Find("users")!;

    [SkippableFact]
    public async Task APersistentClient_KeepsItsServer_WhicheverInstanceItReaches()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        HttpOrigin[] origins = Enumerable.Range(0, 3).Select(i => HttpOrigin.Named($"s{i}")).ToArray();
        string prefix = $"t{Guid.NewGuid():N}:";
        try
        {
            await using RunningProxy a = await RunningProxy.StartAsync(Config(redis, prefix, origins));
            await using RunningProxy b = await RunningProxy.StartAsync(Config(redis, prefix, origins));
            await Wait.UntilAsync(() => Users(a).Share?.Store.State == Abstractions.Stores.StoreState.Up
                && Users(b).Share?.Store.State == Abstractions.Stores.StoreState.Up, "both stores up");

            var servedBy = new Dictionary<string, string>();
            for (int u = 0; u < 20; u++)
            {
                string user = $"user{u}; \"quoted\"\ttab";
                RawResponse first = await GetAsync(a, user);
                Assert.Equal(200, first.Status);
                servedBy[user] = first.BodyText;
                await Wait.UntilAsync(() => Users(b).Find(user)?.Server == $"app/{first.BodyText}", $"instance B learning {user}'s server");
            }

            // Round robin alone would spread the users over the three servers on each instance in its own order.
            Assert.Equal(3, servedBy.Values.Distinct().Count());
            for (int round = 0; round < 3; round++)
            {
                foreach ((string user, string server) in servedBy)
                {
                    Assert.Equal(server, (await GetAsync(b, user)).BodyText);
                    Assert.Equal(server, (await GetAsync(a, user)).BodyText);
                }
            }

            // The server came from A: B counted the user's requests, and knew the server without one.
            Assert.Equal(3, Users(b).Find(servedBy.Keys.First())!.Requests);
        }
        finally
        {
            foreach (HttpOrigin origin in origins)
            {
                await origin.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task ARequestRate_IsTheSumOverInstances_AndTheApiShowsTheStore()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        await using HttpOrigin origin = HttpOrigin.Named("s0");
        string prefix = $"t{Guid.NewGuid():N}:";
        const string Limit = """

            [[listener.http_request]]
            if = { table = { name = "users", counter = "http_req_rate", gt = 6 } }
            deny = 429
            """;
        await using RunningProxy a = await RunningProxy.StartAsync(Config(redis, prefix, [origin], Limit));
        await using RunningProxy b = await RunningProxy.StartAsync(Config(redis, prefix, [origin], Limit));
        await Wait.UntilAsync(() => Users(a).Share?.Store.State == Abstractions.Stores.StoreState.Up
            && Users(b).Share?.Store.State == Abstractions.Stores.StoreState.Up, "both stores up");

        // Three requests on each instance: at most six are counted anywhere, so none is refused.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await GetAsync(a, "bob")).Status);
            Assert.Equal(200, (await GetAsync(b, "bob")).Status);
        }

        await Wait.UntilAsync(() => Users(a).Find("bob")!.RequestRate > 5.5 && Users(b).Find("bob")!.RequestRate > 5.5, "each instance counting both instances' requests");
        Assert.Equal(429, (await GetAsync(a, "bob")).Status);
        Assert.Equal(429, (await GetAsync(b, "bob")).Status);
        Assert.Equal(200, (await GetAsync(b, "alice")).Status);
        // Totals stay each instance's own.
        Assert.Equal(4, Users(a).Find("bob")!.Requests);
        Assert.Equal(4, Users(b).Find("bob")!.Requests);

        string list = System.Text.Encoding.UTF8.GetString(TableApi.List(a.Host).Body);
        Assert.Contains("\"store\": \"shared\"", list);
        Assert.Contains("\"store_state\": \"up\"", list);
    }

    [SkippableFact]
    public async Task AReloadThatMovesTheTableToAnotherStore_SharesItsServersThere_AndKeepsSharing()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        HttpOrigin[] origins = Enumerable.Range(0, 3).Select(i => HttpOrigin.Named($"s{i}")).ToArray();
        string before = $"t{Guid.NewGuid():N}:", after = $"t{Guid.NewGuid():N}:";
        try
        {
            await using RunningProxy a = await RunningProxy.StartAsync(Config(redis, before, origins));
            await using RunningProxy b = await RunningProxy.StartAsync(Config(redis, before, origins));
            StickTable users = Users(a);
            await Wait.UntilAsync(() => Users(a).Share?.Store.State == Abstractions.Stores.StoreState.Up, "A's store up");
            string carol = (await GetAsync(a, "carol")).BodyText;

            foreach (RunningProxy proxy in new[] { a, b })
            {
                File.WriteAllText(proxy.Host.Config.FilePath, Config(redis, after, origins, store: "other"));
                Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
            }

            Assert.Same(users, Users(a));
            Assert.Equal("other", Users(a).Share!.Store.Name);
            await Wait.UntilAsync(() => Users(a).Share!.Store.State == Abstractions.Stores.StoreState.Up
                && Users(b).Share!.Store.State == Abstractions.Stores.StoreState.Up, "the new stores up");

            // An instance that starts on the new store learns the server A had before the reload.
            await using RunningProxy c = await RunningProxy.StartAsync(Config(redis, after, origins, store: "other"));
            await Wait.UntilAsync(() => Users(c).Find("carol")?.Server == $"app/{carol}", "C learning carol's server");
            Assert.Equal(carol, (await GetAsync(c, "carol")).BodyText);

            string dave = (await GetAsync(a, "dave")).BodyText;
            await Wait.UntilAsync(() => Users(b).Find("dave")?.Server == $"app/{dave}", "B learning dave's server through the new store");
            Assert.Equal(dave, (await GetAsync(b, "dave")).BodyText);
        }
        finally
        {
            foreach (HttpOrigin origin in origins)
            {
                await origin.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task AKeyInUseLongerThanItsExpiry_StaysInTheStore_ForAnInstanceThatStartsLater()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        HttpOrigin[] origins = Enumerable.Range(0, 3).Select(i => HttpOrigin.Named($"s{i}")).ToArray();
        string prefix = $"t{Guid.NewGuid():N}:";
        try
        {
            await using RunningProxy a = await RunningProxy.StartAsync(Config(redis, prefix, origins, expire: "2s"));
            await Wait.UntilAsync(() => Users(a).Share?.Store.State == Abstractions.Stores.StoreState.Up, "the store up");
            string frank = (await GetAsync(a, "frank")).BodyText;

            // Frank keeps using A for longer than the store would keep a value set once.
            var busy = System.Diagnostics.Stopwatch.StartNew();
            await Wait.ForAsync(async () => (await GetAsync(a, "frank")).BodyText == frank && busy.Elapsed > TimeSpan.FromSeconds(3.5), "frank using A for 3.5 s");

            await using RunningProxy c = await RunningProxy.StartAsync(Config(redis, prefix, origins, expire: "2s"));
            await Wait.UntilAsync(() => Users(c).Find("frank")?.Server == $"app/{frank}", "C learning frank's server from the store");
        }
        finally
        {
            foreach (HttpOrigin origin in origins)
            {
                await origin.DisposeAsync();
            }
        }
    }
}
