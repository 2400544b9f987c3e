using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>The http supervisor end to end: what the origin receives, byte for byte, and what the client gets back.</summary>
public class HttpForwardingTests
{
    [Fact]
    public async Task RequestHead_WithoutHopByHopFields_ReachesTheOriginByteExact()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        string head = "GET /path/to?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\nX-Odd-Case: ValUe  With Spaces\r\n\r\n";

        await client.SendAsync(head);
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /path/to?q=1&r=%20 body=0\n", response.BodyText);
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(head, Encoding.Latin1.GetString(received.Raw));
    }

    [Fact]
    public async Task HopByHopFields_AndThoseNamedByConnection_AreRemoved()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: s\r\n" +
                               "TE: trailers\r\nProxy-Connection: keep-alive\r\nX-Kept: k\r\n\r\n");
        await client.ReadResponseAsync();

        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal("GET / HTTP/1.1\r\nHost: a\r\nX-Kept: k\r\n\r\n", received.Head);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(70_000)]
    [InlineData(3 * 1024 * 1024 + 5)]
    public async Task SizedBodies_AreForwardedByteExact_BothWays(int size)
    {
        byte[] upload = RandomNumberGenerator.GetBytes(size);
        byte[] download = RandomNumberGenerator.GetBytes(size + 11);
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {download.Length}\r\n\r\n"));
            await socket.SendAllAsync(download);
            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync($"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: {upload.Length}\r\n\r\n");
        await client.SendAsync(upload);
        RawResponse response = await client.ReadResponseAsync();

        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(SHA256.HashData(upload), SHA256.HashData(received.Body));
        Assert.Equal(SHA256.HashData(download), SHA256.HashData(response.Body));
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("\"POST /upload HTTP/1.1\""), "the access log line");
        Assert.Contains($" 200 {download.Length + response.Head.Length} normal ", line);
    }

    [Fact]
    public async Task ChunkedBodies_AreForwardedVerbatim_WithTrailers()
    {
        const string chunkedBody = "4\r\nWiki\r\n6;ext=x\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Checksum: abc\r\n\r\n";
        const string chunkedResponse = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody;
        await using HttpOrigin origin = HttpOrigin.Respond(chunkedResponse);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        string chunkedRequest = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nA;name=v\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n";

        await client.SendAsync(chunkedRequest);
        string first = await ReadChunkedResponseRawAsync(client);

        // The request reached the origin as sent, and the client got the response as the origin wrote it: every chunk
        // size, the chunk extension and the trailer field, byte for byte, with nothing added or dropped.
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(chunkedRequest, Encoding.Latin1.GetString(received.Raw));
        Assert.Equal(chunkedResponse, first);

        // Nothing stray follows the trailer section: the next response on the connection starts exactly where it ended.
        await client.SendAsync("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(chunkedResponse, await ReadChunkedResponseRawAsync(client));
    }

    /// <summary>The raw bytes of a chunked response whose data holds no "\r\n0\r\n": up to the last chunk, then trailer lines to the empty one.</summary>
    private static async Task<string> ReadChunkedResponseRawAsync(RawHttp client)
    {
        string raw = await client.ReadRawUntilAsync("\r\n0\r\n");
        string line;
        do
        {
            line = await client.ReadRawUntilAsync("\r\n");
            raw += line;
        }
        while (line != "\r\n");

        return raw;
    }

    [Fact]
    public async Task LargeChunkedUpload_IsForwardedByteExact()
    {
        byte[] data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("PUT /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int offset = 0; offset < data.Length; offset += 100_000)
        {
            int n = Math.Min(100_000, data.Length - offset);
            await client.SendAsync($"{n:x}\r\n");
            await client.SendAsync(data[offset..(offset + n)]);
            await client.SendAsync("\r\n");
        }

        await client.SendAsync("0\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal($"PUT /big body={data.Length}\n", response.BodyText);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData((await origin.WaitForRequestAsync()).Body));
    }

    [Fact]
    public async Task ResponseReadUntilClose_IsForwarded_AndTheClientIsClosedAfter()
    {
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"u8.ToArray());
            return false;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal("until the end", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
    }

    [Theory]
    [InlineData("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")]
    [InlineData("GET", "HTTP/1.1 204 No Content\r\n\r\n")]
    [InlineData("GET", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")]
    public async Task ResponsesWithoutBodies_KeepTheConnectionInStep(string method, string firstResponse)
    {
        int count = 0;
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            string answer = Interlocked.Increment(ref count) == 1 ? firstResponse : "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond";
            await socket.SendAllAsync(Encoding.ASCII.GetBytes(answer));
            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync($"{method} /first HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse first = await client.ReadResponseAsync(headRequest: method == "HEAD");
        await client.SendAsync("GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse second = await client.ReadResponseAsync();

        Assert.Empty(first.Body);
        Assert.Equal("second", second.BodyText);
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task ChunkedResponse_ToAnHttp10Client_IsDechunked_AndClosed()
    {
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.0\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Equal("abcde", response.BodyText);
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task PipelinedRequests_AreAnsweredInOrder()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("GET /1 body=0\n", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("POST /2 body=3\n", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("GET /3 body=0\n", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Expect100Continue_TheInterimResponseReachesTheClient_ThenTheBodyFlows()
    {
        await using var server = new StubServer(async socket =>
        {
            // Read the head, say 100 Continue, then read the body and answer.
            byte[] head = await ReadUntilAsync(socket, "\r\n\r\n"u8.ToArray());
            Assert.Contains("Expect: 100-continue", Encoding.ASCII.GetString(head));
            await socket.SendAllAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
            byte[] body = await socket.ReadExactlyAsync(5);
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{Encoding.ASCII.GetString(body)}"));
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(server.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        RawResponse interim = await client.ReadResponseAsync();
        Assert.Equal(100, interim.Status);
        await client.SendAsync("hello");
        RawResponse final = await client.ReadResponseAsync();

        Assert.Equal(200, final.Status);
        Assert.Equal("hello", final.BodyText);
    }

    private static async Task<byte[]> ReadUntilAsync(Socket socket, byte[] end)
    {
        var received = new List<byte>();
        var one = new byte[1];
        while (received.Count < end.Length || !received.TakeLast(end.Length).SequenceEqual(end))
        {
            if (await socket.ReceiveAsync(one, SocketFlags.None) == 0)
            {
                break;
            }

            received.Add(one[0]);
        }

        return received.ToArray();
    }

    [Fact]
    public async Task Upgrade_SwitchesTheStreamToATunnel()
    {
        await using var server = new StubServer(async socket =>
        {
            byte[] head = await ReadUntilAsync(socket, "\r\n\r\n"u8.ToArray());
            string text = Encoding.ASCII.GetString(head);
            Assert.Contains("Upgrade: websocket", text);
            Assert.Contains("Connection: upgrade", text);
            await socket.SendAllAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray());
            // Now a raw echo, in both directions, as a WebSocket server would carry frames.
            var buffer = new byte[1024];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None) is int n and > 0)
            {
                await socket.SendAllAsync(buffer.AsMemory(0, n).ToArray().Reverse().ToArray());
            }

            socket.Shutdown(SocketShutdown.Send);
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(server.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n");
        RawResponse switching = await client.ReadResponseAsync();
        Assert.Equal(101, switching.Status);
        Assert.Equal("websocket", switching.Header("Upgrade"));

        await client.SendAsync("frame-1");
        Assert.Equal("1-emarf", Encoding.ASCII.GetString(await client.Socket.ReadExactlyAsync(7)));
        await client.SendAsync("xyz");
        Assert.Equal("zyx", Encoding.ASCII.GetString(await client.Socket.ReadExactlyAsync(3)));
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.True(await client.IsClosedAsync());
        await proxy.AccessLog.WaitForAsync(l => l.Contains(" 101 ") && l.Contains("GET /chat"), "the upgraded stream in the access log");
    }

    [Fact]
    public async Task ForwardFor_AddsTheClientAndAppendsToAnExistingList()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "forwardfor = true"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: forged\r\n\r\n");
        await client.ReadResponseAsync();

        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal("203.0.113.7, 127.0.0.1", received.Header("X-Forwarded-For"));
        Assert.Equal(["http"], received.Headers("X-Forwarded-Proto"));
        Assert.Equal("shop.example", received.Header("X-Forwarded-Host"));
    }

    [Fact]
    public async Task ForwardFor_UsesTheClientFromAProxyProtocolHeader()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "forwardfor = true\naccept = [\"proxy_protocol\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("PROXY TCP4 198.51.100.23 192.0.2.1 40000 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await client.ReadResponseAsync();

        Assert.Equal("198.51.100.23", (await origin.WaitForRequestAsync()).Header("X-Forwarded-For"));
        await proxy.AccessLog.WaitForAsync(l => l.StartsWith("198.51.100.23:40000 "), "the PROXY client in the access log");
    }
}
