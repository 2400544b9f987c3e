using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// A reply the proxy makes itself (a deny, an error page) skips the response analyzers; <c>after_response_analyzers</c>
/// run on every response the client gets, as HAProxy's http-after-response rules do.
/// </summary>
public class AfterResponseTests
{
    private static async Task<RawResponse> SendAsync(RunningProxy proxy, string request)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return await client.ReadResponseAsync();
    }

    private static string Config(ScriptFolder scripts, string origin, string analyzers)
    {
        scripts.Write("deny.csx", "if (Request.Path == \"/deny\") { Deny(); }\n");
        scripts.Write("respond.csx", "Response.Headers.Add(\"X-Response\", \"1\");\n");
        scripts.Write("after.csx", "Response.Headers.Add(\"X-After\", Response.Status.ToString());\n");
        scripts.Write("teapot.csx", "if (Response.Status >= 500) { Respond(418, \"no server, have tea\\n\"); }\n");
        return scripts.Config(origin, analyzers + "\nuse_backends = [\"down\"]", extra: $$"""

            [[listener.route]]
            path = "/down"
            backend = "down"

            [[backend]]
            name = "down"
            retries = 0
            servers = [{ name = "dead", address = "127.0.0.1:1" }]
            """);
    }

    [Fact]
    public async Task ProxyReplies_SkipResponseAnalyzers_ButNotAfterResponseAnalyzers()
    {
        using var scripts = new ScriptFolder();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(scripts, origin.Address,
            "request_analyzers = [\"deny.csx\"]\nresponse_analyzers = [\"respond.csx\"]\nafter_response_analyzers = [\"after.csx\"]"));

        RawResponse served = await SendAsync(proxy, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse denied = await SendAsync(proxy, "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse noServer = await SendAsync(proxy, "GET /down HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse malformed = await SendAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");

        // A server's response: response analyzers, then after-response ones, each once.
        Assert.Equal(200, served.Status);
        Assert.Equal("1", served.Header("X-Response"));
        Assert.Equal("200", served.Header("X-After"));
        Assert.Single(served.Head.Split("\r\n"), l => l.StartsWith("X-After:", StringComparison.Ordinal));

        // The proxy's own replies: no response analyzer, but the after-response ones, and the reply is otherwise intact.
        Assert.Equal(403, denied.Status);
        Assert.Null(denied.Header("X-Response"));
        Assert.Equal("403", denied.Header("X-After"));
        Assert.Equal("Forbidden\n", denied.BodyText);
        Assert.InRange(noServer.Status, 502, 503);
        Assert.Equal(noServer.Status.ToString(), noServer.Header("X-After"));
        Assert.Contains("<html>", noServer.BodyText);
        Assert.Equal(400, malformed.Status);
        Assert.Equal("400", malformed.Header("X-After"));
    }

    [Fact]
    public async Task AfterResponseAnalyzerThatStops_ReplacesTheProxysReply()
    {
        using var scripts = new ScriptFolder();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(scripts, origin.Address, "after_response_analyzers = [\"teapot.csx\"]"));

        RawResponse noServer = await SendAsync(proxy, "GET /down HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse served = await SendAsync(proxy, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(418, noServer.Status);
        Assert.Equal("no server, have tea\n", noServer.BodyText);
        Assert.Equal(200, served.Status);
    }

    [Fact]
    public async Task AfterResponseAnalyzerThatThrows_IsLogged_AndTheReplyGoesOutUnchanged()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("broken.csx", "throw new InvalidOperationException(\"broken rule\");\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(scripts, origin.Address,
            "request_analyzers = [\"deny.csx\"]\nafter_response_analyzers = [\"broken.csx\"]"));

        RawResponse denied = await SendAsync(proxy, "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(403, denied.Status);
        Assert.Equal("Forbidden\n", denied.BodyText);
        string logged = await proxy.Logs.WaitForAsync("PluginProxy.Http.HttpSupervisor", l => l.Contains("after-response analyzer"), "the failure to be logged");
        Assert.Contains("broken.csx (version ", logged);
        Assert.Contains("threw on the proxy's 403 reply, sent unchanged", logged);
    }

    [Fact]
    public void AnAnalyzerInBothResponseLists_IsRefused()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("proxy.toml", Config(scripts, "127.0.0.1:9", "response_analyzers = [\"after.csx\"]\nafter_response_analyzers = [\"after.csx\"]"));

        ConfigException error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));

        Assert.Contains("\"after.csx\" is in response_analyzers too: it would run twice on a server's response; list it in one of them", Assert.Single(error.Errors).Message);
    }
}
