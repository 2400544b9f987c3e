using System.Net;
using System.Security.Cryptography;
using System.Text;
using PluginProxy.Tests.Https;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// HTTP/2 clients through the proxy to HTTP/1.1 servers, end to end with .NET's HttpClient: h2c with prior knowledge
/// on an http listener (beside HTTP/1.1 on the same port), and h2 negotiated by ALPN on an https listener.
/// </summary>
public class Http2ProxyTests
{
    /// <summary>An HttpClient that speaks only HTTP/2 (prior knowledge on http://, ALPN h2 on https://), one connection.</summary>
    internal static HttpClient H2Client() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        EnableMultipleHttp2Connections = false,
    })
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    internal static string Url(RunningProxy proxy, string path, string scheme = "http") => $"{scheme}://127.0.0.1:{proxy.EndPoint().Port}{path}";

    [Fact]
    public async Task H2c_AndHttp11_ShareThePort_AndTheServerGetsHttp11()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "forwardfor = true"));
        using HttpClient client = H2Client();

        using HttpResponseMessage response = await client.GetAsync(Url(proxy, "/a//b/%63?x=1"));
        using RawHttp h1 = await RawHttp.ConnectAsync(proxy);
        await h1.SendAsync("GET /h1 HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /a/b/c?x=1 body=0\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("GET /h1 body=0\n", (await h1.ReadResponseAsync()).BodyText);
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal("GET /a/b/c?x=1 HTTP/1.1", received.RequestLine);
        Assert.Equal($"127.0.0.1:{proxy.EndPoint().Port}", received.Header("host"));
        Assert.Equal("127.0.0.1", received.Header("X-Forwarded-For"));
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("HTTP/2.0"), "the h2 stream's log line");
        Assert.True(line.EndsWith("\"GET /a//b/c?x=1 HTTP/2.0\"", StringComparison.Ordinal), line);
    }

    [Fact]
    public async Task AnUpgradeToH2c_IsDeclined_AndTheRequestServedAsHttp11()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /up body=0\n", response.BodyText);
        Assert.Equal("GET /up HTTP/1.1\r\nHost: a\r\n\r\n", (await origin.WaitForRequestAsync()).Head);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RequestBodies_ReachTheServer_WithTheirLength_OrChunked(bool knownLength)
    {
        byte[] upload = RandomNumberGenerator.GetBytes(300_000);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using HttpClient client = H2Client();
        HttpContent content = knownLength ? new ByteArrayContent(upload) : new StreamContent(new UnknownLengthStream(upload));

        using HttpResponseMessage response = await client.PostAsync(Url(proxy, "/up"), content);

        Assert.Equal("POST /up body=300000\n", await response.Content.ReadAsStringAsync());
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(upload, received.Body);
        Assert.Equal(knownLength ? "300000" : null, received.Header("Content-Length"));
        Assert.Equal(knownLength ? null : "chunked", received.Header("Transfer-Encoding"));
    }

    [Fact]
    public async Task AChunkedResponse_IsDechunked_AndItsTrailersReachTheClient()
    {
        await using HttpOrigin origin = HttpOrigin.Respond(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\nConnection: keep-alive\r\n\r\n" +
            "5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: abc123\r\n\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using HttpClient client = H2Client();

        using HttpResponseMessage response = await client.GetAsync(Url(proxy, "/t"));

        Assert.Equal("hello world", await response.Content.ReadAsStringAsync());
        Assert.Equal(["abc123"], response.TrailingHeaders.GetValues("x-checksum"));
        Assert.False(response.Headers.Contains("Connection"));
        Assert.False(response.Headers.TransferEncodingChunked ?? false);
    }

    [Fact]
    public async Task LargeResponse_FlowsThroughTheWindows_ByteExact()
    {
        byte[] download = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {download.Length}\r\n\r\n"));
            await socket.SendAllAsync(download);
            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using HttpClient client = H2Client();

        byte[] got = await client.GetByteArrayAsync(Url(proxy, "/big"));

        Assert.Equal(download, got);
    }

    [Fact]
    public async Task ManyConcurrentStreams_OnOneConnection_AllSucceed()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using HttpClient client = H2Client();

        string[] bodies = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => client.GetStringAsync(Url(proxy, $"/s{i}"))));

        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"GET /s{i} body=0\n"), bodies);
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count(l => l.Contains("HTTP/2.0")) == 60, "60 h2 log lines");
    }

    [Fact]
    public async Task TheProxysOwnAnswers_GoOnTheStream_AndTheConnectionGoesOn()
    {
        using var dead = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(dead.Address));
        using HttpClient client = H2Client();

        using HttpResponseMessage first = await client.GetAsync(Url(proxy, "/"));
        using HttpResponseMessage second = await client.GetAsync(Url(proxy, "/again"));
        using HttpResponseMessage bad = await client.GetAsync(Url(proxy, "/%2e%2e/x%00"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Contains("503", await first.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("bad_request", await proxy.AccessLog.WaitForAsync(l => l.Contains("HTTP/2.0") && l.Contains(" 400 "), "the 400 in the log"));
    }

    [Fact]
    public async Task Https_NegotiatesH2ByDefault_AndHttp11ForClientsThatOfferOnlyIt()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        using HttpClient client = H2Client();
        using TlsClient h1 = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["http/1.1"]);

        using HttpResponseMessage response = await client.GetAsync(Url(proxy, "/secure", "https"));
        await h1.Http.SendAsync("GET /one HTTP/1.1\r\nHost: site.test\r\n\r\n");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("GET /secure body=0\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("https", (await origin.WaitForRequestAsync()).Header("X-Forwarded-Proto"));
        Assert.Equal("GET /one body=0\n", (await h1.Http.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task AClientReset_EndsOnlyItsStream()
    {
        var release = new TaskCompletionSource();
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            if (request.Target == "/slow")
            {
                await release.Task;
            }

            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using HttpClient client = H2Client();
        using var cancel = new CancellationTokenSource();

        Task slow = client.GetAsync(Url(proxy, "/slow"), cancel.Token);
        await origin.WaitForRequestAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("/slow"), "the reset stream's log line");
        release.SetResult();

        Assert.Contains("client_aborted", line);
        Assert.Equal("ok", await client.GetStringAsync(Url(proxy, "/fast")));
    }

    /// <summary>A stream whose length HttpClient cannot know: its body goes as DATA frames without content-length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
