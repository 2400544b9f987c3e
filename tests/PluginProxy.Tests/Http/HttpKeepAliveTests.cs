using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>Keep-alive on both sides: client connections kept between requests, server connections pooled and reused safely.</summary>
public class HttpKeepAliveTests
{
    [Fact]
    public async Task ManyRequestsOnOneClientConnection_UseOneServerConnection()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        for (int i = 0; i < 20; i++)
        {
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal($"GET /{i} body=0\n", (await client.ReadResponseAsync()).BodyText);
        }

        Assert.Equal(1, origin.Connections);
        Assert.Equal(1, proxy.Host.Listeners[0].TotalSessions);
    }

    [Fact]
    public async Task SuccessiveClients_ReuseThePooledServerConnection()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));

        for (int i = 0; i < 5; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal("close", response.Header("Connection"));
            Assert.True(await client.IsClosedAsync());
        }

        Assert.Equal(1, origin.Connections);
        Assert.Equal(5, origin.Requests.Count);
    }

    [Fact]
    public async Task RealClient_HttpClient_KeepsItsConnectionAndGetsEveryAnswer()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxy.EndPoint().Port}/") };

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal($"GET /item/{i} body=0\n", await http.GetStringAsync($"item/{i}"));
        }

        using var content = new StringContent("posted body");
        HttpResponseMessage posted = await http.PostAsync("form", content);
        Assert.Equal("POST /form body=11\n", await posted.Content.ReadAsStringAsync());
        Assert.Equal(1, proxy.Host.Listeners[0].TotalSessions);

        // The GETs share one server connection; the POST, which could not be sent again if the server were closing an
        // idle connection as it arrives, gets a new one (http-reuse safe).
        Assert.Equal(2, origin.Connections);
    }

    [Fact]
    public async Task ServerThatCloses_IsNotReused()
    {
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
            return false;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal("ok", response.BodyText);
            // The server's Connection: close is hop-by-hop: the client connection stays open.
            Assert.Null(response.Header("Connection"));
        }

        Assert.Equal(3, origin.Connections);
    }

    [Fact]
    public async Task PooledConnectionClosedByTheServer_IsDetected_AndTheRequestGoesOnANewOne()
    {
        // The origin answers, keeps the connection a moment, then closes it while the proxy holds it in its pool.
        var closeNow = new TaskCompletionSource();
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
            if (request.Connection == 1)
            {
                await closeNow.Task;
                return false;
            }

            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));

        using (RawHttp first = await RawHttp.ConnectAsync(proxy))
        {
            await first.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal("ok", (await first.ReadResponseAsync()).BodyText);
        }

        closeNow.SetResult();
        using RawHttp second = await RawHttp.ConnectAsync(proxy);
        await second.SendAsync("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("ok", (await second.ReadResponseAsync()).BodyText);
        Assert.Equal(2, origin.Connections);
    }

    [Fact]
    public async Task Http10Client_IsClosedAfterItsResponse_UnlessItAsksForKeepAlive()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));

        using (RawHttp plain = await RawHttp.ConnectAsync(proxy))
        {
            await plain.SendAsync("GET / HTTP/1.0\r\n\r\n");
            Assert.Equal("close", (await plain.ReadResponseAsync()).Header("Connection"));
            Assert.True(await plain.IsClosedAsync());
        }

        using RawHttp keepAlive = await RawHttp.ConnectAsync(proxy);
        await keepAlive.SendAsync("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("keep-alive", (await keepAlive.ReadResponseAsync()).Header("Connection"));
        await keepAlive.SendAsync("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("GET /b body=0\n", (await keepAlive.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task AccessLogLine_HasTheDocumentedFields()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /logged?x=\"1\" HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("/logged"), "the access log line");
        Assert.Matches(
            @"^127\.0\.0\.1:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] web app/origin \d+/0/\d+/\d+/\d+ 200 (\d+) normal retries=0 ""GET /logged\?x=\\x221\\x22 HTTP/1\.1""$",
            line);
        int bytes = int.Parse(System.Text.RegularExpressions.Regex.Match(line, @" 200 (\d+) ").Groups[1].Value);
        Assert.Equal(response.Head.Length + response.Body.Length, bytes);
    }
}
