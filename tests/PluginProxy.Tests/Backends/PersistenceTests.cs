using System.Net;
using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Http.H2;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// Consistent hashing on a header, persistence by an inserted cookie (HTTP/1.1 and HTTP/2 clients) and by a stick table,
/// and a script that denies a client whose request rate in a tracked table is too high: end to end over real sockets.
/// </summary>
public class PersistenceTests
{
    private static async Task<RawResponse> GetAsync(RunningProxy proxy, string headers = "")
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET /x HTTP/1.1\r\nHost: a\r\n{headers}\r\n");
        return await client.ReadResponseAsync();
    }

    private static async Task<(HttpOrigin[] Origins, RunningProxy Proxy)> StartAsync(int servers, string backendExtra, string extra = "", string listenerExtra = "")
    {
        HttpOrigin[] origins = Enumerable.Range(0, servers).Select(i => HttpOrigin.Named($"s{i}")).ToArray();
        RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            {{listenerExtra}}

            [[backend]]
            name = "app"
            servers = [{{string.Join(", ", origins.Select((o, i) => $"{{ name = \"s{i}\", address = \"{o.Address}\" }}"))}}]
            {{backendExtra}}
            {{extra}}
            """);
        return (origins, proxy);
    }

    private static async Task StopAsync(HttpOrigin[] origins, RunningProxy proxy)
    {
        await proxy.DisposeAsync();
        foreach (HttpOrigin origin in origins)
        {
            await origin.DisposeAsync();
        }
    }

    [Fact]
    public async Task HashOnAHeader_SendsEachUserToOneServer()
    {
        (HttpOrigin[] origins, RunningProxy proxy) = await StartAsync(4, "balance = \"hash\"\nhash_key = \"header:X-User\"");
        try
        {
            var servedBy = new Dictionary<string, string>();
            for (int round = 0; round < 3; round++)
            {
                for (int user = 0; user < 12; user++)
                {
                    string body = (await GetAsync(proxy, $"X-User: user-{user}\r\n")).BodyText;
                    Assert.Equal(servedBy.TryAdd($"user-{user}", body) ? body : servedBy[$"user-{user}"], body);
                }
            }

            Assert.True(servedBy.Values.Distinct().Count() >= 2, string.Join(",", servedBy.Values));

            // A request without the header is balanced round robin: two in a row reach two servers.
            Assert.NotEqual((await GetAsync(proxy)).BodyText, (await GetAsync(proxy)).BodyText);
        }
        finally
        {
            await StopAsync(origins, proxy);
        }
    }

    [Fact]
    public async Task AnInsertedCookie_KeepsAClientOnItsServer_UntilThatServerIsDown()
    {
        (HttpOrigin[] origins, RunningProxy proxy) = await StartAsync(3, "cookie = \"SRV\"");
        try
        {
            RawResponse first = await GetAsync(proxy);
            string server = first.BodyText;
            Assert.Equal($"SRV={server}; Path=/; HttpOnly", first.Header("Set-Cookie"));

            for (int i = 0; i < 6; i++)
            {
                RawResponse again = await GetAsync(proxy, $"Cookie: theme=dark; SRV={server}\r\n");
                Assert.Equal(server, again.BodyText);
                Assert.Null(again.Header("Set-Cookie"));
            }

            // The client's cookie reaches the server as sent.
            Assert.Contains(origins.SelectMany(o => o.Requests), r => r.Header("Cookie") == $"theme=dark; SRV={server}");

            // A cookie that names no server of the backend is replaced.
            RawResponse unknown = await GetAsync(proxy, "Cookie: SRV=nosuch\r\n");
            Assert.Equal($"SRV={unknown.BodyText}; Path=/; HttpOnly", unknown.Header("Set-Cookie"));

            var backend = (Backend)proxy.Host.Backends.Find("app")!;
            backend.Find(server)!.SetUp(false);
            RawResponse moved = await GetAsync(proxy, $"Cookie: SRV={server}\r\n");
            Assert.NotEqual(server, moved.BodyText);
            Assert.Equal($"SRV={moved.BodyText}; Path=/; HttpOnly", moved.Header("Set-Cookie"));
        }
        finally
        {
            await StopAsync(origins, proxy);
        }
    }

    [Fact]
    public async Task AnInsertedCookie_WorksForHttp2Clients()
    {
        (HttpOrigin[] origins, RunningProxy proxy) = await StartAsync(3, "cookie = \"SRV\"");
        try
        {
            using HttpClient client = Http2ProxyTests.H2Client(); // keeps cookies, as a browser does
            using HttpResponseMessage first = await client.GetAsync(Http2ProxyTests.Url(proxy, "/x"));
            string server = await first.Content.ReadAsStringAsync();

            Assert.Equal(HttpVersion.Version20, first.Version);
            Assert.Equal([$"SRV={server}; Path=/; HttpOnly"], first.Headers.GetValues("Set-Cookie"));
            for (int i = 0; i < 4; i++)
            {
                using HttpResponseMessage again = await client.GetAsync(Http2ProxyTests.Url(proxy, "/x"));
                Assert.Equal(server, await again.Content.ReadAsStringAsync());
                Assert.False(again.Headers.Contains("Set-Cookie"));
            }
        }
        finally
        {
            await StopAsync(origins, proxy);
        }
    }

    [Fact]
    public async Task AStickTable_KeepsAClientOnTheServerThatServedIt()
    {
        (HttpOrigin[] origins, RunningProxy proxy) = await StartAsync(3, "stick_table = \"clients\"", """

            [[stick_table]]
            name = "clients"
            key = "source"
            """);
        try
        {
            string server = (await GetAsync(proxy)).BodyText;
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal(server, (await GetAsync(proxy)).BodyText);
            }

            Assert.Equal($"app/{server}", proxy.Host.StickTables.Find("clients")!.Find("127.0.0.1")!.Server);

            // A server that goes down loses its clients to another server, which the table then remembers.
            ((Backend)proxy.Host.Backends.Find("app")!).Find(server)!.SetUp(false);
            string next = (await GetAsync(proxy)).BodyText;
            Assert.NotEqual(server, next);
            Assert.Equal(next, (await GetAsync(proxy)).BodyText);
        }
        finally
        {
            await StopAsync(origins, proxy);
        }
    }

    [Fact]
    public async Task AScript_DeniesAClientWhoseRequestRateIsTooHigh_AndTheApiShowsTheTable()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("limit.csx", "if (Tracked(\"clients\")?.RequestRate > 5) Deny(429);\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, """
            request_analyzers = ["limit.csx"]
            track = ["clients"]
            """, extra: """

            [[stick_table]]
            name = "clients"
            key = "source"
            rate_period = "1m"
            """));

        int[] statuses = new int[7];
        for (int i = 0; i < statuses.Length; i++)
        {
            statuses[i] = (await GetAsync(proxy)).Status;
        }

        Assert.Equal([200, 200, 200, 200, 200, 429, 429], statuses);
        var entry = proxy.Host.StickTables.Find("clients")!.Find("127.0.0.1")!;
        Assert.Equal(7, entry.Requests);
        // The proxy's own 4xx answers count as errors, when their streams end (just after the client has the answer).
        await Wait.UntilAsync(() => entry.Errors == 2, "two errors counted");
        string list = System.Text.Encoding.UTF8.GetString(TableApi.List(proxy.Host).Body);
        Assert.Contains("\"name\": \"clients\"", list);
        Assert.Contains("\"count\": 1", list);
        string show = System.Text.Encoding.UTF8.GetString(TableApi.Show(proxy.Host, "clients").Body);
        Assert.Contains("\"key\": \"127.0.0.1\"", show);
        Assert.Contains("\"requests\": 7", show);
    }
}
