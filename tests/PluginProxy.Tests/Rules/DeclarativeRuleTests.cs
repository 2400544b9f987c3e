using System.Net;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Rules;

/// <summary>
/// [[listener.http_request]] and [[listener.http_response]]: declarative rules over real sockets, in front of an echoing
/// origin (which answers "METHOD target body=n" and shows the request it got).
/// </summary>
public class DeclarativeRuleTests
{
    private static async Task<RawResponse> SendAsync(RunningProxy proxy, string request)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return await client.ReadResponseAsync();
    }

    private static string Get(string target, string extraHeaders = "") => $"GET {target} HTTP/1.1\r\nHost: shop.test\r\n{extraHeaders}\r\n";

    [Fact]
    public async Task ResponseRule_SetsAFixedHeader_OnEveryServerResponse()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_response]]
            set_header = { name = "Strict-Transport-Security", value = "max-age=63072000" }
            """));

        RawResponse response = await SendAsync(proxy, Get("/"));

        Assert.Equal(200, response.Status);
        Assert.Equal("max-age=63072000", response.Header("Strict-Transport-Security"));
    }

    [Fact]
    public async Task RequestRules_SetAddAndRemoveHeaders_WithVariables()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            set_header = { name = "X-Set", value = "one" }

            [[listener.http_request]]
            add_header = { name = "X-Client", value = "%[src] asked %[method] %[host]%[path]%[query]" }

            [[listener.http_request]]
            del_header = ["X-Drop", "X-Drop-Too"]
            """));

        await SendAsync(proxy, Get("/p?q=1", "X-Set: zero\r\nX-Drop: secret\r\nX-Drop-Too: also\r\n"));

        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(["one"], received.Headers("X-Set"));
        Assert.Equal("127.0.0.1 asked GET shop.test/p?q=1", received.Header("X-Client"));
        Assert.Null(received.Header("X-Drop"));
        Assert.Null(received.Header("X-Drop-Too"));
    }

    [Fact]
    public async Task Deny_ByPathAndSourceNetwork_RefusesOnlyClientsOutsideTheNetwork()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            if = { path_prefix = "/admin" }
            unless = { src = ["127.0.0.2/32", "10.0.0.0/8"] }
            deny = 403
            """));

        RawResponse outsider = await SendAsync(proxy, Get("/admin/users"));
        RawResponse elsewhere = await SendAsync(proxy, Get("/shop"));
        using RawHttp insider = await RawHttp.ConnectFromAsync(proxy, IPAddress.Parse("127.0.0.2"));
        await insider.SendAsync(Get("/admin/users"));
        RawResponse allowed = await insider.ReadResponseAsync();

        Assert.Equal(403, outsider.Status);
        Assert.Equal("Forbidden\n", outsider.BodyText);
        Assert.Equal(200, elsewhere.Status);
        Assert.Equal("GET /admin/users body=0\n", allowed.BodyText);
        Assert.Equal(2, origin.Requests.Count);
    }

    [Fact]
    public async Task Redirect_AndRespond_AnswerWithoutTheServer()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            if = { path = "/old" }
            redirect = { location = "https://%[host]/new", status = 301 }

            [[listener.http_request]]
            if = { path = "/moved" }
            redirect = "/elsewhere"

            [[listener.http_request]]
            if = { path = "/status", method = ["GET", "HEAD"] }
            respond = { status = 200, body = "{\"ok\":true}", content_type = "application/json" }
            """));

        RawResponse moved = await SendAsync(proxy, Get("/old"));
        RawResponse found = await SendAsync(proxy, Get("/moved"));
        RawResponse answered = await SendAsync(proxy, Get("/status"));
        RawResponse posted = await SendAsync(proxy, "POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");

        Assert.Equal(301, moved.Status);
        Assert.Equal("https://shop.test/new", moved.Header("Location"));
        Assert.Equal(302, found.Status);
        Assert.Equal("/elsewhere", found.Header("Location"));
        Assert.Equal(200, answered.Status);
        Assert.Equal("application/json", answered.Header("Content-Type"));
        Assert.Equal("{\"ok\":true}", answered.BodyText);
        Assert.Equal("POST /status body=0\n", posted.BodyText);
        Assert.Single(origin.Requests);
    }

    [Fact]
    public async Task RewritePath_ReachesTheServerRewritten_AndLaterRulesSeeTheNewPath()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            rewrite_path = { from_prefix = "/api/v1/", to = "/v1/" }

            [[listener.http_request]]
            if = { path_prefix = "/v1/" }
            set_header = { name = "X-Rewritten", value = "%[path]" }
            """));

        RawResponse response = await SendAsync(proxy, Get("/api/v1/users?page=2"));
        RawResponse untouched = await SendAsync(proxy, Get("/other?x"));

        Assert.Equal("GET /v1/users?page=2 body=0\n", response.BodyText);
        Assert.Equal("/v1/users", (await origin.WaitForRequestAsync()).Header("X-Rewritten"));
        Assert.Equal("GET /other?x body=0\n", untouched.BodyText);
    }

    [Fact]
    public async Task Backend_IsSetByAHeaderCondition_OverridingTheDefault()
    {
        await using HttpOrigin stable = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstable");
        await using HttpOrigin canary = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ncanary");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(stable.Address, """
            [[listener.http_request]]
            if = { header = { name = "X-Canary", value = "yes" } }
            backend = "canary"

            [[listener.http_request]]
            if = { header = [{ name = "Cookie", contains = "beta=1" }, { name = "User-Agent", prefix = "curl/" }] }
            backend = "canary"
            """, extraSections: $$"""
            [[backend]]
            name = "canary"
            servers = [{ name = "c", address = "{{canary.Address}}" }]
            """));

        Assert.Equal("canary", (await SendAsync(proxy, Get("/", "x-canary: yes\r\n"))).BodyText);
        Assert.Equal("stable", (await SendAsync(proxy, Get("/", "X-Canary: no\r\n"))).BodyText);
        Assert.Equal("canary", (await SendAsync(proxy, Get("/", "Cookie: a=b; beta=1\r\nUser-Agent: curl/8.5\r\n"))).BodyText);
        Assert.Equal("stable", (await SendAsync(proxy, Get("/", "Cookie: beta=1\r\nUser-Agent: Mozilla\r\n"))).BodyText);
    }

    [Fact]
    public async Task Rules_RunInOrder_AndTheFirstAnswerWins()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            if = { host = "*.test", path_regex = "^/private(/|$)" }
            deny = 404

            [[listener.http_request]]
            if = { path_prefix = "/private" }
            deny = 429

            [[listener.http_request]]
            deny = true
            """));

        RawResponse first = await SendAsync(proxy, Get("/private/x"));
        RawResponse second = await SendAsync(proxy, Get("/privateer"));
        RawResponse last = await SendAsync(proxy, Get("/"));

        Assert.Equal(404, first.Status);
        Assert.Equal(429, second.Status);
        Assert.Equal("Too Many Requests\n", second.BodyText);
        Assert.Equal(403, last.Status);
        Assert.Empty(origin.Requests);
    }

    [Fact]
    public async Task ResponseRules_SeeTheStatusAndResponseHeaders_AndRequestConditions()
    {
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 404 Not Found\r\nServer: origin/1.0\r\nX-Powered-By: php\r\nContent-Length: 0\r\n\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_response]]
            if = { status = [404, 410], header = { name = "Server", prefix = "origin/" } }
            set_header = { name = "X-Missing", value = "%[path]" }

            [[listener.http_response]]
            del_header = "X-Powered-By"

            [[listener.http_response]]
            if = { method = "DELETE" }
            add_header = { name = "X-Never", value = "1" }
            """));

        RawResponse response = await SendAsync(proxy, Get("/gone"));

        Assert.Equal(404, response.Status);
        Assert.Equal("/gone", response.Header("X-Missing"));
        Assert.Null(response.Header("X-Powered-By"));
        Assert.Null(response.Header("X-Never"));
    }

    [Fact]
    public async Task Rules_RunWhereTheListenerPlacesThem_AmongScripts_AndAfterResponseOnTheProxysOwnReplies()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("mark.csx", "Request.Headers.Set(\"X-Seen-By-Script\", Request.Headers.Get(\"X-Rule\") ?? \"none\");");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, """
            request_analyzers = ["http_request", "mark.csx"]
            after_response_analyzers = ["http_response"]

            [[listener.http_request]]
            if = { path = "/deny" }
            deny = 403

            [[listener.http_request]]
            set_header = { name = "X-Rule", value = "ran" }

            [[listener.http_response]]
            set_header = { name = "X-Frame-Options", value = "DENY" }
            """));

        RawResponse denied = await SendAsync(proxy, Get("/deny"));
        RawResponse passed = await SendAsync(proxy, Get("/"));

        Assert.Equal(403, denied.Status);
        Assert.Equal("DENY", denied.Header("X-Frame-Options"));
        Assert.Equal("DENY", passed.Header("X-Frame-Options"));
        Assert.Equal("ran", (await origin.WaitForRequestAsync()).Header("X-Seen-By-Script"));
    }

    [Fact]
    public async Task Reload_WithChangedRules_AppliesToNewStreams()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        string rules(string value) => HttpConfig.For(origin.Address, $$"""
            [[listener.http_response]]
            set_header = { name = "X-Version", value = "{{value}}" }
            """);
        await using RunningProxy proxy = await RunningProxy.StartAsync(rules("one"));
        Assert.Equal("one", (await SendAsync(proxy, Get("/"))).Header("X-Version"));

        File.WriteAllText(Path.Combine(proxy.Directory, "proxy.toml"), rules("two"));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());

        Assert.Equal("two", (await SendAsync(proxy, Get("/"))).Header("X-Version"));
    }

    [Fact]
    public async Task Rules_ApplyToHttp2Clients_AsToHttp1()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, """
            [[listener.http_request]]
            if = { path_prefix = "/admin", method = "GET" }
            deny = 403

            [[listener.http_request]]
            set_header = { name = "X-Via-Rule", value = "%[method] %[path]" }

            [[listener.http_response]]
            set_header = { name = "X-Frame-Options", value = "DENY" }
            """));
        using var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var root = new Uri($"http://127.0.0.1:{proxy.EndPoint().Port}");

        using HttpResponseMessage denied = await client.GetAsync(new Uri(root, "/admin/x"));
        using HttpResponseMessage passed = await client.GetAsync(new Uri(root, "/shop"));

        Assert.Equal(HttpVersion.Version20, passed.Version);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal("DENY", Assert.Single(passed.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("GET /shop", (await origin.WaitForRequestAsync()).Header("X-Via-Rule"));
    }

    [Fact]
    public async Task AnActionThatCannotApply_EndsOnlyItsStream_With500_AndTheRulesPlace()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("var.csx", "Vars[\"note\"] = Request.Path == \"/bad\" ? \"line\\nbreak\" : \"fine\";");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, """
            request_analyzers = ["var.csx", "http_request"]

            [[listener.http_request]]
            set_header = { name = "X-Note", value = "%[var.note]" }
            """));

        RawResponse failed = await SendAsync(proxy, Get("/bad"));
        RawResponse fine = await SendAsync(proxy, Get("/good"));

        Assert.Equal(500, failed.Status);
        Assert.Equal(200, fine.Status);
        Assert.Equal("fine", (await origin.WaitForRequestAsync()).Header("X-Note"));
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Any(l => l.Contains("`set_header` failed", StringComparison.Ordinal)), "the access log names the failed rule");
    }
}
