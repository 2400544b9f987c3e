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
    internal static string ProbeConfig(string accept, string extra = "", string bind = "\"127.0.0.1:0\"") => $"""
        {RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}
        [[listener]]
        name = "probe-in"
        bind = [{bind}]
        supervisor = "probe"
        accept = [{accept}]
        timeout_client_hs = "500ms"
        {extra}
        """;

    internal static async Task<string> ProbeAsync(RunningProxy proxy, byte[]? send = null, IPEndPoint? endPoint = null)
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
        // An origin that accepts only when the test asks: a connection the proxy makes waits in its accept queue, where
        // the test sees it (Poll), so "no connection yet" is a fact of the kernel, not of timing.
        using var origin = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        origin.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        origin.Listen(8);
        string config = TcpConfig.For([$"127.0.0.1:{((IPEndPoint)origin.LocalEndPoint!).Port}"], listenerExtra: "request_analyzers = [\"hold_until_newline\"]")
            .WithTestPlugins();
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("first part, "));
        await WaitForHoldAsync(proxy, 12);
        // The proxy reads again only after acting on the analyzer's first answer: had it released the channel, the
        // analyzer would never see these bytes (they would be relayed), and a server connection would already exist.
        await client.SendAllAsync(Encoding.ASCII.GetBytes("second part, "));
        await WaitForHoldAsync(proxy, 25);

        Assert.False(origin.Poll(0, SelectMode.SelectRead), "the proxy connected to the server while the analyzer held the request");

        await client.SendAllAsync(Encoding.ASCII.GetBytes("end of line\nand the rest"));
        client.Shutdown(SocketShutdown.Send);

        using Socket server = await origin.AcceptAsync().WithDeadline("the proxy to connect once the analyzer released the request");
        Assert.Equal("first part, second part, end of line\nand the rest", Encoding.ASCII.GetString(await server.ReadToEndAsync()));
    }

    private static Task WaitForHoldAsync(RunningProxy proxy, int length) =>
        proxy.Logs.WaitForAsync("PluginProxy.Tests.Probe.HoldUntilNewline", l => l == $"hold_until_newline: {length} bytes held, no newline yet, holding",
            $"the analyzer to hold {length} bytes");

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
