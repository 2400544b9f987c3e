using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>Every error status of the http supervisor, produced for real, with nothing forwarded that should not be.</summary>
public class HttpErrorTests
{
    private static async Task<(RawResponse Response, RunningProxy Proxy, HttpOrigin Origin)> SendAsync(string request, string listenerExtra = "", HttpOrigin? origin = null, string backendExtra = "")
    {
        origin ??= HttpOrigin.Echo();
        RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, listenerExtra, backendExtra));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return (await client.ReadResponseAsync(), proxy, origin);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Content-Length with Transfer-Encoding")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "conflicting Content-Length")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "final transfer coding is not chunked")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: bogus, chunked\r\n\r\n", 501, "unknown transfer coding")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding")]
    [InlineData("GET / HTTP/1.1\nHost: a\n\n", 400, "bare LF")]
    [InlineData("GET / HTTP/1.1\r\n\r\n", 400, "missing Host")]
    [InlineData("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line")]
    [InlineData("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505, "version not supported")]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", 417, "unsupported expectation")]
    public async Task MalformedOrAmbiguousRequests_AreRefused_AndNeverForwarded(string request, int status, string logged)
    {
        var (response, proxy, origin) = await SendAsync(request);
        await using (proxy)
        await using (origin)
        {
            Assert.Equal(status, response.Status);
            Assert.Equal("close", response.Header("Connection"));
            Assert.Equal("text/html", response.Header("Content-Type"));
            Assert.Equal(0, origin.Connections);
            string line = await proxy.AccessLog.WaitForAsync(l => l.Contains($" {status} "), "the refused request in the access log");
            Assert.Contains("bad_request", line);
            Assert.Contains(logged, line);
        }
    }

    [Fact]
    public async Task BadChunkSize_InTheBody_StopsTheStreamWithoutPassingTheRestOn()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(400, response.Status);
        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task TooLargeHead_Is431_AndTooLongRequestLine_Is414()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "max_request_head = 1024"));

        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync($"GET / HTTP/1.1\r\nHost: a\r\nX-Big: {new string('x', 2000)}\r\n\r\n");
            Assert.Equal(431, (await client.ReadResponseAsync()).Status);
        }

        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync($"GET /{new string('x', 2000)} HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(414, (await client.ReadResponseAsync()).Status);
        }

        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task BodyOverMaxRequestBody_Is413()
    {
        var (response, proxy, origin) = await SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", "max_request_body = 1000");
        await using (proxy)
        await using (origin)
        {
            Assert.Equal(413, response.Status);
            Assert.Equal(0, origin.Connections);
        }
    }

    [Fact]
    public async Task SlowHead_Is408()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "timeout_request = \"300ms\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(408, response.Status);
        Assert.True(await client.IsClosedAsync());
        await proxy.AccessLog.WaitForAsync(l => l.Contains(" 408 ") && l.Contains("request_timeout"), "the 408 in the access log");
    }

    [Fact]
    public async Task IdleConnectionThatNeverSpoke_IsClosedWithoutAnAnswer()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "timeout_request = \"300ms\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task DeadServer_Is503()
    {
        using var dead = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(dead.Address, backendExtra: "retries = 1"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(503, (await client.ReadResponseAsync()).Status);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" 503 "), "the 503");
        Assert.Contains("server_refused", line);
    }

    [Fact]
    public async Task NoServerUp_Is503()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        foreach (var server in proxy.Host.Backends.Backends[0].ServerStates)
        {
            server.SetUp(false);
        }

        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(503, (await client.ReadResponseAsync()).Status);
        Assert.Contains(" no_server ", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 503 "), "the 503"));
    }

    [Fact]
    public async Task StallingServer_Is504()
    {
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            await socket.ReceiveAsync(new byte[1], SocketFlags.None);
            return false;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, backendExtra: "timeout_server = \"300ms\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(504, (await client.ReadResponseAsync()).Status);
        Assert.Contains("server_timeout", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 504 "), "the 504"));
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc")]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n")]
    public async Task ServerSendingGarbage_Is502(string answer)
    {
        await using HttpOrigin origin = HttpOrigin.Respond(answer);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(502, response.Status);
        Assert.DoesNotContain("abc", response.BodyText);
        Assert.Contains("bad_response", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 502 "), "the 502"));
    }

    [Fact]
    public async Task ServerClosingBeforeAnswering_Is502()
    {
        await using var origin = new HttpOrigin((_, _) => Task.FromResult(false));
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx");

        Assert.Equal(502, (await client.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task NoRouteAndNoDefaultBackend_AnswersTheConfiguredStatus()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        string config = $$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            no_route_status = 404

            [[listener.route]]
            path_prefix = "/api/"
            backend = "app"

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{origin.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /elsewhere HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse missing = await client.ReadResponseAsync();
        await client.SendAsync("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse routed = await client.ReadResponseAsync();

        Assert.Equal(404, missing.Status);
        Assert.Equal("keep-alive", missing.Header("Connection"));
        Assert.Equal(200, routed.Status);
    }

    [Fact]
    public async Task AnalyzerThatDenies_Answers403()
    {
        var (response, proxy, origin) = await SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "request_analyzers = [\"http_lb_req\", \"deny_all\"]");
        await using (proxy)
        await using (origin)
        {
            Assert.Equal(403, response.Status);
            Assert.Equal("denied\n", response.BodyText);
            Assert.Equal(0, origin.Connections);
            Assert.Contains("analyzer_stopped", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 403 "), "the 403"));
        }
    }

    [Fact]
    public async Task AnalyzerThatThrows_Answers500_AndOtherStreamsAreUnaffected()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        string config = HttpConfig.For(origin.Address, "request_analyzers = [\"throw_on_boom\"]");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);

        using RawHttp failing = await RawHttp.ConnectAsync(proxy);
        using RawHttp fine = await RawHttp.ConnectAsync(proxy);
        await failing.SendAsync("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n");
        await fine.SendAsync("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(500, (await failing.ReadResponseAsync()).Status);
        Assert.Equal(200, (await fine.ReadResponseAsync()).Status);
        Assert.Contains("internal_error", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 500 "), "the 500"));
        await fine.SendAsync("GET /ok-again HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await fine.ReadResponseAsync()).Status);
    }
}
