using PluginProxy.Host.Accept;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>
/// Idle HTTPS/1.1 client connections parked by the host with their TLS session (<c>park_idle_after</c>): the session
/// ends, the connection and its TLS session stay, and the client's next request, encrypted with the same keys, is served
/// by a new session on the same connection.
/// </summary>
public class HttpsParkingTests
{
    private const string ParkAtOnce = "park_idle_after = \"1ms\"";

    private static async Task<RawResponse> GetAsync(TlsClient client, string path)
    {
        await client.Http.SendAsync($"GET {path} HTTP/1.1\r\nHost: site.test\r\n\r\n");
        return await client.Http.ReadResponseAsync();
    }

    /// <summary>A TLS client connection of the "tls" listener that made one request and is parked now.</summary>
    private static async Task<(Listener Listener, TlsClient Client)> ParkedClientAsync(RunningProxy proxy)
    {
        Listener listener = proxy.Host.FindListener("tls")!;
        TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["http/1.1"]);
        Assert.Equal(200, (await GetAsync(client, "/")).Status);
        await Wait.UntilAsync(() => listener.ParkedSessions == 1, "the TLS connection parked");
        return (listener, client);
    }

    [Fact]
    public async Task IdleTlsConnection_IsParkedWithItsTlsSession_AndItsNextRequestsAreServed()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, listenerExtra: ParkAtOnce));
        Listener listener = proxy.Host.FindListener("tls")!;
        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["http/1.1"]);

        for (int i = 1; i <= 3; i++)
        {
            RawResponse response = await GetAsync(client, $"/round{i}");
            Assert.Equal(200, response.Status);
            Assert.Equal($"GET /round{i} body=0\n", response.BodyText);
            await Wait.UntilAsync(() => listener.ParkedSessions == 1 && proxy.Host.Sessions.Count == 0, $"the TLS connection parked after request {i}");
        }

        Assert.Equal(1, origin.Connections);

        // A body of many TLS records after a park (OpenSSL's buffers were given back while parked), then parked again.
        string body = new('x', 100_000);
        await client.Http.SendAsync($"POST /big HTTP/1.1\r\nHost: site.test\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        RawResponse big = await client.Http.ReadResponseAsync();
        Assert.Equal("POST /big body=100000\n", big.BodyText);
        await Wait.UntilAsync(() => listener.ParkedSessions == 1 && proxy.Host.Sessions.Count == 0, "the TLS connection parked after the large request");
        Assert.Equal(200, (await GetAsync(client, "/last")).Status);

        // A stream's line is written once its response has left: the client may read the response first.
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count >= 5, "the last request's access-log line");
        Assert.Equal(5, proxy.AccessLog.Lines.Count);
        string clientAddress = client.Http.Socket.LocalEndPoint!.ToString()!;
        Assert.All(proxy.AccessLog.Lines, line => Assert.StartsWith(clientAddress + " ", line));
    }

    [Fact]
    public async Task ParkedTlsConnection_IsClosed_WhenTheKeepAliveTimeoutPasses()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            certificates.Config(origin.Address, listenerExtra: ParkAtOnce + "\ntimeout_keep_alive = \"400ms\""));
        (Listener listener, TlsClient parked) = await ParkedClientAsync(proxy);
        using TlsClient client = parked;

        Assert.True(await client.Http.IsClosedAsync(), "the parked TLS connection must be closed at the keep-alive timeout");
        await Wait.UntilAsync(() => listener.ParkedSessions == 0, "the parked connection left the parking lot");
    }

    [Fact]
    public async Task Stop_ClosesParkedTlsConnections_AtOnce()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, listenerExtra: ParkAtOnce));
        (Listener listener, TlsClient parked) = await ParkedClientAsync(proxy);
        using TlsClient client = parked;

        await proxy.Host.StopAsync(TimeSpan.FromSeconds(30)).WithDeadline("a stop with only a parked TLS connection");
        Assert.True(await client.Http.IsClosedAsync(), "the parked TLS connection must be closed by the stop");
        Assert.Equal(0, listener.ParkedSessions);
    }

    [Fact]
    public async Task Http2OverTls_IsNotParked()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            certificates.Config(origin.Address, tlsExtra: "alpn = [\"h2\", \"http/1.1\"]", listenerExtra: ParkAtOnce));
        Listener listener = proxy.Host.FindListener("tls")!;
        using TlsClient h2 = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["h2"]);
        Assert.Equal("h2", h2.Stream.NegotiatedApplicationProtocol.ToString());
        using TlsClient h1 = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["http/1.1"]);
        Assert.Equal(200, (await GetAsync(h1, "/")).Status);

        // The HTTP/1.1 connection parks; the HTTP/2 one (its preface not even sent) keeps its session.
        await Wait.UntilAsync(() => listener.ParkedSessions == 1 && proxy.Host.Sessions.Count == 1, "the HTTP/1.1 connection parked, the h2 one not");
    }
}
