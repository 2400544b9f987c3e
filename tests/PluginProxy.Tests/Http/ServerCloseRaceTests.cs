using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// A server that closes idle keep-alive connections at random moments, as servers with short keep-alive timeouts do:
/// some of those closes cross a request already on its way. No request may fail because of it: a replayable one is
/// sent again on a new connection, and any other never goes on a connection that may be dead.
/// </summary>
public class ServerCloseRaceTests
{
    /// <summary>Requests per run; the figure (100k) runs with PLUGINPROXY_RACE_REQUESTS=100000.</summary>
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("PLUGINPROXY_RACE_REQUESTS"), out int n) ? n : 12_000;

    private const int Clients = 8;

    [Fact]
    public async Task ServerClosingIdleConnectionsAtRandomMoments_NoRequestFails()
    {
        int closes = 0;
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            string body = $"{request.Method} {request.Target} body={request.Body.Length}\n";
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));

            // Now and then the connection is idle "too long" (0 to 2 ms here): closed unless a request already arrived,
            // whatever may be on its way.
            if (Random.Shared.Next(4) == 0)
            {
                await Task.Delay(Random.Shared.Next(3));
                if (socket.Available == 0)
                {
                    Interlocked.Increment(ref closes);
                    return false;
                }
            }

            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            access_log = false

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "{{origin.Address}}" }, { name = "b", address = "{{origin.Address}}" }]
            """);

        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            for (int i = 0; i < Requests / Clients; i++)
            {
                (string request, string expected) = (i % 3) switch
                {
                    0 => ($"GET /g/{c}/{i} HTTP/1.1\r\nHost: x\r\n\r\n", $"GET /g/{c}/{i} body=0\n"),
                    1 => ($"POST /p/{c}/{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", $"POST /p/{c}/{i} body=5\n"),
                    _ => ($"POST /c/{c}/{i} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", $"POST /c/{c}/{i} body=7\n"),
                };
                await client.SendAsync(request);
                RawResponse response = await client.ReadResponseAsync();
                if (response.Status != 200 || response.BodyText != expected)
                {
                    lock (failures)
                    {
                        failures.Add($"{request.Split('\r')[0]}: {response.Status} {response.BodyText}");
                    }
                }
            }
        }))).WithDeadline("every request answered", TimeSpan.FromMinutes(3));

        Assert.Empty(failures);
        Assert.Equal(Requests / Clients * Clients, origin.Requests.Count(r => r.Method is "GET" or "POST"));
        Assert.True(closes > Requests / 20, $"the origin closed idle connections {closes} times: the race was exercised");
    }
}
