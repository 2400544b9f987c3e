using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>
/// SNI routing without termination: a tcp listener reads the server name from the ClientHello, picks the backend of the
/// route whose <c>sni</c> matches, and forwards the TLS bytes untouched; the client's handshake is with the server.
/// </summary>
// A ClientHello must be read within timeout_client_hs = 500 ms in every test here.
[Collection(TimingSensitive.Name)]
public class SniPassthroughTests
{
    private static string Config(string api, string web, string fallback, string extra = "") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "edge"
        bind = ["127.0.0.1:0"]
        supervisor = "tcp"
        backend = "fallback"
        timeout_client_hs = "500ms"
        {{extra}}

        [[listener.route]]
        sni = "api.test"
        backend = "api"

        [[listener.route]]
        sni = "*.web.test"
        backend = "web"

        [[backend]]
        name = "api"
        servers = [{ name = "a", address = "{{api}}" }]

        [[backend]]
        name = "web"
        servers = [{ name = "w", address = "{{web}}" }]

        [[backend]]
        name = "fallback"
        servers = [{ name = "f", address = "{{fallback}}" }]
        """;

    [Theory]
    [InlineData("api.test", "api")]
    [InlineData("API.test", "api")]
    [InlineData("shop.web.test", "web")]
    [InlineData("web.test", "fallback")]
    [InlineData(null, "fallback")]
    public async Task ServerName_PicksTheBackend_AndTheHandshakeIsWithThatServer(string? serverName, string expected)
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var api = new TlsOrigin(pki.Issue("api", "api.test"));
        await using var web = new TlsOrigin(pki.Issue("web", "*.web.test"));
        await using var fallback = new TlsOrigin(pki.Issue("fallback", "fallback.test"));
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(api.Address, web.Address, fallback.Address));

        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), serverName);
        await client.Http.SendAsync("GET /through HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await client.Http.ReadResponseAsync();

        TlsOrigin chosen = expected switch { "api" => api, "web" => web, _ => fallback };
        Assert.Single(chosen.ServerNames);
        Assert.Equal(200, response.Status);
        Assert.StartsWith("tls origin: GET /through HTTP/1.1 sni=", response.BodyText);
        Assert.True(pki.Trusts(client.Presented));
        Assert.Contains(expected == "web" ? "*.web.test" : expected + ".test", client.Presented.Subject);
        client.Dispose();
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains(" edge "), "the session line");
        Assert.Contains($" {expected}/", line);
    }

    [Fact]
    public async Task BytesAreForwardedExactly_ClientHelloAndWhatFollowsIt_BothWays()
    {
        var received = new MemoryStream();
        var done = new TaskCompletionSource();
        byte[] hello = TlsBytes.ClientHello(serverName: "api.test", offerTls13: true);
        byte[] after = Encoding.ASCII.GetBytes("\x17\x03\x03 pretend application data");
        await using var api = new StubServer(async socket =>
        {
            var buffer = new byte[65536];
            while (received.Length < hello.Length + after.Length)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                received.Write(buffer, 0, n);
            }

            await socket.SendAllAsync(Encoding.ASCII.GetBytes("server bytes"));
            socket.Shutdown(SocketShutdown.Send);
            done.TrySetResult();
        });
        await using var other = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(api.Address, other.Address, other.Address));
        using Socket client = await proxy.ConnectAsync();

        // The ClientHello arrives in two pieces, then more data follows.
        await client.SendAllAsync(hello[..7]);
        await client.SendAllAsync(hello[7..]);
        await client.SendAllAsync(after);
        byte[] answer = await client.ReadToEndAsync();

        await done.Task.WithDeadline("the api server to receive everything");
        Assert.Equal([.. hello, .. after], received.ToArray());
        Assert.Equal("server bytes", Encoding.ASCII.GetString(answer));
    }

    public static TheoryData<string, byte[], bool> NotAClientHello => new()
    {
        { "plain HTTP", Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: api.test\r\n\r\n"), false },
        { "garbage record", [0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00], false },
        { "too large", TlsBytes.ClientHello(serverName: "api.test", padding: 20_000), false },
        { "truncated then closed", TlsBytes.ClientHello(serverName: "api.test")[..50], true },
        { "stalled", TlsBytes.ClientHello(serverName: "api.test")[..50], false },
    };

    [Theory]
    [MemberData(nameof(NotAClientHello))]
    public async Task AnythingButAClientHello_IsClosedQuickly_Logged_AndNeverForwarded(string what, byte[] bytes, bool finish)
    {
        await using var api = new StubServer(_ => Task.CompletedTask);
        await using var other = new StubServer(_ => Task.CompletedTask);
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(api.Address, other.Address, other.Address));
        using Socket client = await proxy.ConnectAsync();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await client.SendAllAsync(bytes);
            if (finish)
            {
                client.Shutdown(SocketShutdown.Send);
            }

            Assert.Empty(await client.ReadToEndAsync(TimeSpan.FromSeconds(5)));
        }
        catch (SocketException)
        {
            // Reset: closed too.
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"{what}: closed after {clock.Elapsed}");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains(" edge "), $"the {what} session line");
        Assert.Contains("handshake_failed", line);
        Assert.Equal(0, api.Accepted + other.Accepted);
    }
}

public class TcpRouteConditionTests
{
    [Fact]
    public async Task HostOrPathRoutes_OnATcpListener_AreRefusedAtTheirPlace_NotIgnored()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "edge"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "a"

            [[listener.route]]
            host = "api.test"
            backend = "a"

            [[listener.route]]
            sni = "api.test"
            path_prefix = "/v1/"
            backend = "a"

            [[backend]]
            name = "a"
            servers = [{ name = "s", address = "127.0.0.1:9" }]
            """);
        PluginProxy.Host.Configuration.ProxyConfig config = PluginProxy.Host.Configuration.ConfigLoader.Load(path);

        var error = await Assert.ThrowsAsync<PluginProxy.Host.StartupException>(() =>
            PluginProxy.Host.ProxyHost.BuildAsync(config, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, new CapturedAccessLog()));

        string[] lines = File.ReadAllLines(path);
        int host = Array.FindIndex(lines, l => l.StartsWith("host = ")) + 1;
        int prefix = Array.FindIndex(lines, l => l.StartsWith("path_prefix = ")) + 1;
        Assert.Equal(2, error.Problems.Count);
        Assert.Contains($"{path}:{host}:1: route `host` has no effect with supervisor \"tcp\": it routes by `sni` only", error.Problems);
        Assert.Contains($"{path}:{prefix}:1: route `path_prefix` has no effect with supervisor \"tcp\": it routes by `sni` only", error.Problems);
    }
}
