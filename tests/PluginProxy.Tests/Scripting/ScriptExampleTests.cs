using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Scripting;

/// <summary>The example scripts of scripts/, each through a real listener and a stub origin.</summary>
public class ScriptExampleTests
{
    private static string Config(string originAddress, string listenerExtra, string extraBackends = "") => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"
        scripts = "{{RepoPaths.Scripts}}"
        script_cache = "{{RepoPaths.ScriptCache}}"

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{originAddress}}" }]
        {{extraBackends}}
        """;

    private static async Task<RawResponse> GetAsync(RunningProxy proxy, string request)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return await client.ReadResponseAsync();
    }

    [Fact]
    public async Task SecurityHeaders_AreAdded_UnlessTheServerSetsThem()
    {
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\nContent-Length: 2\r\n\r\nok");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "response_analyzers = [\"rules/security-headers.csx\"]"));

        RawResponse response = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("SAMEORIGIN", response.Header("X-Frame-Options"));
        Assert.Equal("strict-origin-when-cross-origin", response.Header("Referrer-Policy"));
        Assert.Null(response.Header("Strict-Transport-Security"));
        Assert.Equal("ok", response.BodyText);
    }

    [Fact]
    public async Task RewritePrefix_ChangesThePathTheServerSees()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "request_analyzers = [\"rules/rewrite-prefix.csx\"]"));

        RawResponse rewritten = await GetAsync(proxy, "GET /legacy/items?page=2 HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse untouched = await GetAsync(proxy, "GET /other HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("GET /v2/items?page=2 body=0\n", rewritten.BodyText);
        Assert.Equal("/legacy/", (await origin.WaitForRequestAsync(1)).Header("X-Rewritten-From"));
        Assert.Equal("GET /other body=0\n", untouched.BodyText);
    }

    [Fact]
    public async Task Canary_SendsOptedInClientsToTheCanaryBackend()
    {
        await using HttpOrigin stable = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstable");
        await using HttpOrigin canary = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ncanary");
        string extra = $$"""
            [[backend]]
            name = "canary"
            servers = [{ name = "c", address = "{{canary.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            Config(stable.Address, "request_analyzers = [\"rules/canary.csx\"]\nuse_backends = [\"canary\"]", extra));

        Assert.Equal("canary", (await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\nX-Canary: 1\r\n\r\n")).BodyText);
        Assert.Equal("canary", (await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\nCookie: theme=dark; canary=1\r\n\r\n")).BodyText);
        Assert.Equal("stable", (await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\nCookie: canary=0\r\n\r\n")).BodyText);
        Assert.Equal("stable", (await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")).BodyText);
    }

    [Fact]
    public async Task DenyNetworks_RefusesListedClients_UsingALoadedHelper()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            Config(origin.Address, "request_analyzers = [\"rules/deny-networks.csx\"]\naccept = [\"proxy_protocol\"]"));

        RawResponse denied = await GetAsync(proxy, "PROXY TCP4 192.0.2.77 10.0.0.1 5000 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse allowed = await GetAsync(proxy, "PROXY TCP4 203.0.113.9 10.0.0.1 5000 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(403, denied.Status);
        Assert.Equal("Your network is not allowed here.\n", denied.BodyText);
        Assert.Equal(200, allowed.Status);
        Assert.Single(origin.Requests);
        await proxy.Logs.WaitForAsync("PluginProxy.Scripts", l => l.Contains("deny-networks.csx") && l.Contains("denied 192.0.2.77"), "the script's log line");
    }

    [Fact]
    public async Task Maintenance_AnswersWithoutAServer_ExceptHealthChecksFromTheOffice()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "request_analyzers = [\"rules/maintenance.csx\"]"));

        RawResponse page = await GetAsync(proxy, "GET /shop HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse health = await GetAsync(proxy, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(503, page.Status);
        Assert.Equal("300", page.Header("Retry-After"));
        Assert.Equal("text/html; charset=utf-8", page.Header("Content-Type"));
        Assert.Contains("Down for maintenance", page.BodyText);
        Assert.Equal(200, health.Status);
        Assert.Single(origin.Requests);
    }

    [Fact]
    public async Task StripServerHeader_RemovesIt()
    {
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nServer: Apache/2.4.1\r\nX-Powered-By: PHP/5\r\nContent-Length: 2\r\n\r\nok");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "response_analyzers = [\"rules/strip-server-header.csx\"]"));

        RawResponse response = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Null(response.Header("Server"));
        Assert.Null(response.Header("X-Powered-By"));
        Assert.Equal("ok", response.BodyText);
    }

    [Fact]
    public async Task RequestIdAnalyzer_AScriptThatReturnsAnAnalyzer_IsUsedLikeAPluginOne()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "request_analyzers = [\"analyzers/request-id.csx\"]"));

        await GetAsync(proxy, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
        await GetAsync(proxy, "GET /b HTTP/1.1\r\nHost: a\r\nX-Request-Id: from-client\r\n\r\n");

        string? generated = (await origin.WaitForRequestAsync(1)).Header("X-Request-Id");
        Assert.Matches("^[0-9a-f]+-[0-9a-f]+$", generated);
        Assert.Equal("from-client", (await origin.WaitForRequestAsync(2)).Header("X-Request-Id"));
    }
}

/// <summary>A protocol supervisor written as a script (scripts/supervisors/echo.csx).</summary>
public class ScriptSupervisorTests
{
    [Fact]
    public async Task ScriptThatReturnsASupervisor_RunsTheListenersSessions()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"
            scripts = "{{RepoPaths.Scripts}}"
            script_cache = "{{RepoPaths.ScriptCache}}"

            [[listener]]
            name = "echo"
            bind = ["127.0.0.1:0"]
            supervisor = "supervisors/echo.csx"
            """);
        using System.Net.Sockets.Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("ping"));
        Assert.Equal("ping", Encoding.ASCII.GetString(await client.ReadExactlyAsync(4)));
        client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.Empty(await client.ReadToEndAsync());

        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains(" echo "), "the session line");
        Assert.Contains("in=4 ", line);
    }
}
