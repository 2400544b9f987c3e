using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// The SDK's typed HTTP phases (request filter, upstream selector, response filter, logger) of the Probe test plugin,
/// listed in proxy.toml like analyzers and run by the http supervisor in the same analyzer chain.
/// </summary>
public class TypedPhaseTests
{
    private const string LoggerCategory = "PluginProxy.Tests.Probe.ProbeHttpLogger";

    [Fact]
    public async Task RequestFilter_SetsAHeader_TheServerSees()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "request_analyzers = [\"probe_request_filter\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /page HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        Assert.Equal("seen", (await origin.WaitForRequestAsync()).Header("X-Probe-Filter"));
    }

    [Fact]
    public async Task RequestFilter_ThatReplies403_AnswersTheClient_AndNothingIsForwarded()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "request_analyzers = [\"probe_request_filter\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /admin/users HTTP/1.1\r\nHost: a\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(403, response.Status);
        Assert.Equal("no admin here\n", response.BodyText);
        Assert.Contains("analyzer_stopped", await proxy.AccessLog.WaitForAsync(l => l.Contains(" 403 "), "the 403 in the access log"));
        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task UpstreamSelector_RoutesByAHeader_ToASecondBackend()
    {
        await using HttpOrigin main = HttpOrigin.Named("main");
        await using HttpOrigin other = HttpOrigin.Named("other");
        string second = $$"""

            [[backend]]
            name = "other"
            servers = [{ name = "o", address = "{{other.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            HttpConfig.For(main.Address, "request_analyzers = [\"probe_backend_from_header\"]\nuse_backends = [\"other\"]", extraSections: second));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nX-Backend: other\r\n\r\n");
        Assert.Equal("other", (await client.ReadResponseAsync()).BodyText);

        using RawHttp plain = await RawHttp.ConnectAsync(proxy);
        await plain.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nX-Backend: nonesuch\r\n\r\n");
        Assert.Equal("main", (await plain.ReadResponseAsync()).BodyText);
        Assert.Contains(" web other/o ", await proxy.AccessLog.WaitForAsync(l => l.Contains("other/"), "the routed stream"));
    }

    [Fact]
    public async Task ResponseFilter_SetsXFrameOptions_OnTheServersResponse_AndAsAfterResponse_OnTheProxysOwnReply()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using (RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "response_analyzers = [\"probe_frame_options\"]")))
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal(200, response.Status);
            Assert.Equal("DENY", response.Header("X-Frame-Options"));
        }

        string afterDeny = "request_analyzers = [\"probe_request_filter\"]\nafter_response_analyzers = [\"probe_frame_options\"]";
        await using (RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, afterDeny)))
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal(403, response.Status);
            Assert.Equal("DENY", response.Header("X-Frame-Options"));
        }
    }

    [Fact]
    public async Task ResponseFilter_ThatReplies_ReplacesTheServersResponse()
    {
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "response_analyzers = [\"probe_gone_for_404\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /old HTTP/1.1\r\nHost: a\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(410, response.Status);
        Assert.Equal("gone\n", response.BodyText);
    }

    [Fact]
    public async Task Logger_ReceivesOneEntryPerRequest_WithItsStatus()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        string listed = "request_analyzers = [\"probe_logger\", \"probe_request_filter\"]";
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, listed));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /one?x=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await client.SendAsync("GET /admin HTTP/1.1\r\nHost: example.test\r\n\r\n");
        Assert.Equal(403, (await client.ReadResponseAsync()).Status);

        string ok = await proxy.Logs.WaitForAsync(LoggerCategory, l => l.Contains("/one"), "the logger's entry for /one");
        string denied = await proxy.Logs.WaitForAsync(LoggerCategory, l => l.Contains("/admin"), "the logger's entry for /admin");
        Assert.StartsWith("stream ended: GET /one?x=1 example.test status=200 bytes=", ok);
        Assert.Contains("end=Normal to=app/origin total_ok=True", ok);
        Assert.Contains("status=403", denied);
        Assert.Contains("end=AnalyzerStopped", denied);
        Assert.DoesNotContain("bytes=0 ", ok);
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count == 2, "both access-log lines");
        Assert.Equal(2, proxy.Logs.Category(LoggerCategory).Count());
    }

    [Fact]
    public async Task Logger_ListedAfterResponse_SeesTheProxysOwnReply()
    {
        using var dead = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(dead.Address, "after_response_analyzers = [\"probe_logger\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /down HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(503, (await client.ReadResponseAsync()).Status);
        string entry = await proxy.Logs.WaitForAsync(LoggerCategory, l => l.Contains("/down"), "the logger's entry for the proxy's reply");
        Assert.Contains("status=503", entry);
        Assert.True(entry.Contains("end=ServerRefused to=app/-", StringComparison.Ordinal), entry);
    }

    [Fact]
    public async Task ThrowingRequestFilter_EndsOnlyItsStream_WithA500()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "request_analyzers = [\"probe_throwing_filter\"]"));
        using RawHttp failing = await RawHttp.ConnectAsync(proxy);
        using RawHttp fine = await RawHttp.ConnectAsync(proxy);

        await failing.SendAsync("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n");
        await fine.SendAsync("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(500, (await failing.ReadResponseAsync()).Status);
        Assert.Equal(200, (await fine.ReadResponseAsync()).Status);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" 500 "), "the 500");
        Assert.Contains("internal_error", line);
        Assert.Contains("filter boom", line);
        await fine.SendAsync("GET /ok-again HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await fine.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task RequestFilter_ListedBeforeHttpLbReq_StillSeesTheDecodedRequest()
    {
        // The codec decodes the head before any analyzer runs, so the place of http_lb_req only orders the rules.
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "request_analyzers = [\"probe_request_filter\", \"http_lb_req\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /page HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        Assert.Equal("seen", (await origin.WaitForRequestAsync()).Header("X-Probe-Filter"));
    }
}
