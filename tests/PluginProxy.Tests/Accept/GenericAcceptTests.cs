using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Accept;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Accept;

/// <summary>
/// The host's generic accept, observed through the test plugin's <c>probe</c> supervisor, which answers each
/// connection with what the accept learned and set.
/// </summary>
public class GenericAcceptTests
{
    private static string ProbeConfig(string accept, string extra = "", string bind = "\"127.0.0.1:0\"") => $"""
        {RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}
        [[listener]]
        name = "probe-in"
        bind = [{bind}]
        supervisor = "probe"
        accept = [{accept}]
        timeout_client_hs = "500ms"
        {extra}
        """;

    private static async Task<string> ProbeAsync(RunningProxy proxy, byte[]? send = null, IPEndPoint? endPoint = null)
    {
        using Socket client = await SocketExtensions.ConnectAsync(endPoint ?? proxy.EndPoint());
        if (send is not null)
        {
            await client.SendAllAsync(send);
        }

        return Encoding.ASCII.GetString(await client.ReadToEndAsync()).TrimEnd('\n');
    }

    [Fact]
    public async Task AcceptedSocket_CarriesTheOptionsTheFlagsAskFor()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"nodelay\", \"keepalive\""));

        string probe = await ProbeAsync(proxy);

        Assert.Contains("nodelay=1 keepalive=1", probe);
        Assert.Contains("listener=probe-in", probe);
    }

    [Fact]
    public async Task WithoutFlags_TheSocketKeepsTheSystemDefaults()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig(""));

        Assert.Contains("nodelay=0 keepalive=0 ", await ProbeAsync(proxy));
    }

    [Fact]
    public async Task ListeningSocket_CarriesReusePortAndDeferAccept()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"reuseport\", \"defer_accept\""));
        Socket listening = proxy.Host.Listeners[0].ListeningSockets[0];

        Assert.True(LinuxSocketOptions.GetReusePort(listening));
        Assert.True(LinuxSocketOptions.GetDeferAccept(listening) > 0);
        // With defer_accept the kernel hands over the connection once the client has sent something.
        Assert.StartsWith("client=127.0.0.1:", await ProbeAsync(proxy, [0x01]));
    }

    [Fact]
    public async Task OriginalDestination_OfAConnectionThatWasNotRedirected_IsUnknown()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"original_dst\""));

        string probe = await ProbeAsync(proxy);

        Assert.Contains("original=-", probe);
        Assert.Contains($"destination=127.0.0.1:{proxy.EndPoint().Port}", probe);
    }

    [Fact]
    public async Task ProxyV1Header_BecomesTheClientAndDestination()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"proxy_protocol\""));

        string probe = await ProbeAsync(proxy, Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"));

        Assert.Contains("client=192.0.2.10:56324 peer=127.0.0.1:", probe);
        Assert.Contains("destination=198.51.100.1:443", probe);
        Assert.Contains("proxy=1", probe);
    }

    [Fact]
    public async Task ProxyV2Header_BecomesTheClient()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"proxy_protocol\""));
        byte[] header = ProxyProtocolParserTests.V2Inet(IPAddress.Parse("2001:db8::7"), 4242, IPAddress.Parse("2001:db8::1"), 443);

        string probe = await ProbeAsync(proxy, header);

        Assert.Contains("client=[2001:db8::7]:4242", probe);
        Assert.Contains("proxy=2", probe);
    }

    [Fact]
    public async Task ProxyHeaderSentInPieces_IsStillReadExactly()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"proxy_protocol\""));
        using Socket client = await proxy.ConnectAsync();
        byte[] header = Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");

        foreach (byte b in header)
        {
            await client.SendAllAsync(new[] { b });
        }

        string probe = Encoding.ASCII.GetString(await client.ReadToEndAsync());
        Assert.Contains("client=192.0.2.10:56324", probe);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "does not start with a PROXY protocol header")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 99999 443\r\n", "ports")]
    public async Task MalformedProxyHeader_ClosesTheConnection_AndIsLogged(string sent, string logged)
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"proxy_protocol\""));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes(sent));

        // Closed (with a reset, since unread bytes remain), and the supervisor never ran.
        Assert.True(await client.WaitForCloseAsync());
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the handshake failure");
        Assert.Contains(logged, line);
        Assert.DoesNotContain(proxy.Logs.SessionLines, l => l.Contains(" probe/"));
    }

    [Fact]
    public async Task MissingProxyHeader_IsClosedAfterTheHandshakeTimeout()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("\"proxy_protocol\""));
        using Socket client = await proxy.ConnectAsync();

        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromSeconds(5)), "a silent client must be closed");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the handshake timeout");
        Assert.Contains("no complete PROXY header within 500ms", line);
    }

    [Fact]
    public async Task ProxyHeader_IsStrippedBeforeForwarding_AndNamesTheClientInTheLog()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new StubServer(async socket => received.SetResult(Encoding.ASCII.GetString(await socket.ReadToEndAsync())));
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            TcpConfig.For([server.Address], listenerExtra: "accept = [\"proxy_protocol\"]").Replace("accept = [\"nodelay\"]\n", ""));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.9 198.51.100.1 40000 443\r\nhello"));
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal("hello", await received.Task.WithDeadline("the payload at the server"));
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("tcp-in"), "the session line");
        Assert.StartsWith("203.0.113.9:40000 ", line);
    }

    [Fact]
    public async Task SeveralBindAddresses_IncludingIPv6_AllAccept()
    {
        bool ipv6 = Socket.OSSupportsIPv6 && HasIPv6Loopback();
        string binds = ipv6 ? "\"127.0.0.1:0\", \"127.0.0.2:0\", \"[::1]:0\"" : "\"127.0.0.1:0\", \"127.0.0.2:0\"";
        await using RunningProxy proxy = await RunningProxy.StartAsync(ProbeConfig("", bind: binds));

        IReadOnlyList<IPEndPoint> bound = proxy.Host.Listeners[0].BoundEndPoints;
        Assert.Equal(ipv6 ? 3 : 2, bound.Count);
        foreach (IPEndPoint endPoint in bound)
        {
            string probe = await ProbeAsync(proxy, endPoint: endPoint);
            Assert.Contains($"destination={(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString())}:{endPoint.Port}", probe);
        }
    }

    private static bool HasIPv6Loopback()
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task FullMaxconn_HoldsTheNextClientUntilASlotFrees()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For([echo.Address], listenerExtra: "maxconn = 1"));
        Listener listener = proxy.Host.Listeners[0];
        Socket first = await proxy.ConnectAsync();
        await first.SendAllAsync(new byte[] { 1 });
        await first.ReadExactlyAsync(1);

        // The kernel completes the second handshake (backlog), but the proxy does not accept it while full.
        using Socket second = await proxy.ConnectAsync();
        await second.SendAllAsync(new byte[] { 2 });
        for (int i = 0; i < 5; i++)
        {
            // Round trips through the proxy give its event loop every chance to (wrongly) serve the second client.
            await first.SendAllAsync(new byte[] { 3 });
            await first.ReadExactlyAsync(1);
        }

        Assert.Equal(1, listener.TotalSessions);
        Assert.Equal(0, second.Available);

        first.Dispose();

        Assert.Equal(2, (await second.ReadExactlyAsync(1))[0]);
        Assert.Equal(2, listener.TotalSessions);
    }

    [Fact]
    public async Task RequestAnalyzer_HoldsTheChannel_UntilItReleasesIt()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new StubServer(async socket => received.SetResult(Encoding.ASCII.GetString(await socket.ReadToEndAsync())));
        string config = TcpConfig.For([server.Address], listenerExtra: "request_analyzers = [\"hold_until_newline\"]")
            .WithTestPlugins();
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("first part, "));
        for (int i = 0; i < 3; i++)
        {
            // Nothing reaches a server while the analyzer holds the channel.
            await Task.Yield();
            Assert.Equal(0, server.Accepted);
        }

        await client.SendAllAsync(Encoding.ASCII.GetBytes("end of line\nand the rest"));
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal("first part, end of line\nand the rest", await received.Task.WithDeadline("the held bytes, then the rest"));
    }

    [Fact]
    public async Task RequestAnalyzer_ThatStops_AnswersAndClosesWithoutContactingAServer()
    {
        await using StubServer echo = StubServer.Echo();
        string config = TcpConfig.For([echo.Address], listenerExtra: "request_analyzers = [\"deny_all\"]")
            .WithTestPlugins();
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("anything"));

        Assert.Equal("denied\n", Encoding.ASCII.GetString(await client.ReadToEndAsync()));
        Assert.Equal(0, echo.Accepted);
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("analyzer_stopped"), "the stopped stream");
    }

    [Fact]
    public async Task RequestAnalyzer_ThatNeverReleases_TimesOut()
    {
        await using StubServer echo = StubServer.Echo();
        string config = TcpConfig.For([echo.Address], listenerExtra: "request_analyzers = [\"hold_until_newline\"]\ntimeout_request = \"300ms\"")
            .WithTestPlugins();
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("no newline"));

        Assert.True(await client.WaitForCloseAsync());
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("request_timeout"), "the request timeout");
        Assert.Equal(0, echo.Accepted);
    }
}
