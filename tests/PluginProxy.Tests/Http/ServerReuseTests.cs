using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// Connections to servers are picked once per request and reused per server, and reuse never makes a request fail:
/// backends of several servers, servers that close idle connections at any moment.
/// </summary>
public class ServerReuseTests
{
    private static string TwoServers(string first, string second, string balance = "roundrobin", string listenerExtra = "") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        balance = "{{balance}}"
        servers = [{ name = "a", address = "{{first}}" }, { name = "b", address = "{{second}}" }]
        """;

    private static async Task<string> EchoHandler(OriginRequest request, Socket socket, string name)
    {
        string body = $"{name} {request.Method} {request.Target} body={request.Body.Length}\n";
        await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        return body;
    }

    [Fact]
    public async Task RoundRobin_TwoServers_EachKeepsOneConnectionForAKeepAliveClient()
    {
        await using var a = new HttpOrigin(async (r, s) => { await EchoHandler(r, s, "a"); return true; });
        await using var b = new HttpOrigin(async (r, s) => { await EchoHandler(r, s, "b"); return true; });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TwoServers(a.Address, b.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        var answeredBy = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            answeredBy.Add((await client.ReadResponseAsync()).BodyText[..1]);
        }

        // One pick per request: the servers alternate, and each one's idle connection serves its next turn.
        Assert.Equal(string.Concat(Enumerable.Repeat("ab", 10)), string.Concat(answeredBy));
        Assert.Equal(1, a.Connections);
        Assert.Equal(1, b.Connections);
    }

    [Fact]
    public async Task Uri_RequestReplayedOnANewConnection_StaysOnTheServerOfItsHash()
    {
        // Each origin closes a reused connection as the second request arrives on it, without answering: the proxy
        // must send that request again on a new connection, to the server the uri hash chose.
        var served = new ConcurrentQueue<(string Server, string Target)>();
        Func<OriginRequest, Socket, Task<bool>> Handler(string name)
        {
            var seen = new ConcurrentDictionary<int, int>();
            return async (request, socket) =>
            {
                if (seen.AddOrUpdate(request.Connection, 1, (_, n) => n + 1) == 2)
                {
                    return false;
                }

                served.Enqueue((name, request.Target));
                await EchoHandler(request, socket, name);
                return true;
            };
        }

        await using var a = new HttpOrigin(Handler("a"));
        await using var b = new HttpOrigin(Handler("b"));
        await using RunningProxy proxy = await RunningProxy.StartAsync(TwoServers(a.Address, b.Address, "uri"));

        for (int i = 0; i < 12; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            for (int round = 0; round < 2; round++)
            {
                await client.SendAsync($"GET /item/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.Equal(200, (await client.ReadResponseAsync()).Status);
            }
        }

        Assert.Equal(24, served.Count);
        Assert.All(served.GroupBy(s => s.Target), g => Assert.Single(g.Select(s => s.Server).Distinct()));
        Assert.Equal(2, served.Select(s => s.Server).Distinct().Count());
        Assert.True(a.Connections + b.Connections >= 24, "every second request was replayed on a new connection");
    }

    [Fact]
    public async Task IdleConnection_TheServerCloses_LeavesThePoolAtOnce()
    {
        // The origin closes the connection after answering on it, when the test says so, without announcing it.
        var close = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            await EchoHandler(request, socket, "o");
            await close.Task;
            return false;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        Server server = proxy.Host.Backends.Backends[0].ServerStates[0];
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await Wait.UntilAsync(() => server.ActiveStreams == 0, "the connection to go idle into the pool");
        Assert.Equal(1, server.ActiveConnections);

        // Well before the pool's idle timeout (30 s), the proxy notices the close and drops the connection.
        close.SetResult();
        await Wait.UntilAsync(() => server.ActiveConnections == 0, "the closed connection to leave the pool", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task NonReplayableRequest_NeverGoesOnAnIdleConnection()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        await client.ReadResponseAsync();
        await client.SendAsync("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        await client.ReadResponseAsync();
        await client.SendAsync("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
        await client.ReadResponseAsync();

        OriginRequest[] requests = origin.Requests.ToArray();
        Assert.Equal(["GET", "POST", "GET"], requests.Select(r => r.Method));
        Assert.NotEqual(requests[0].Connection, requests[1].Connection);

        // The GET may take any idle connection again.
        Assert.Contains(requests[2].Connection, new[] { requests[0].Connection, requests[1].Connection });
    }

    [Fact]
    public async Task HttpReuseAlways_LetsANonReplayableRequestTakeAnIdleConnection()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, backendExtra: "http_reuse = \"always\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        await client.ReadResponseAsync();
        await client.SendAsync("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        OriginRequest[] requests = origin.Requests.ToArray();
        Assert.Equal(requests[0].Connection, requests[1].Connection);
        Assert.Equal(1, origin.Connections);
    }
}
