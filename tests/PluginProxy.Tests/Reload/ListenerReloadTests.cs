using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Accept;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Reload;

/// <summary>
/// A configuration reload binds every new socket before it stops any old one: a reload that cannot bind is refused as a
/// whole, and an address a listener keeps is handed over already bound.
/// </summary>
public class ListenerReloadTests
{
    /// <param name="binds">The inside of the web listener's <c>bind</c> list.</param>
    private static string Config(string origin, string binds, string listenerExtra = "", string extraSections = "", string global = "") => $$"""
        {{RunningProxy.GlobalSection(extra: global, plugins: RepoPaths.TestPluginsBin)}}
        [[listener]]
        name = "web"
        bind = [{{binds}}]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{origin}}" }]

        {{extraSections}}
        """;

    private const string ExtraListener = """
        [[listener]]
        name = "extra"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        """;

    [Fact]
    public async Task Reload_ThatCannotBindAChangedListenerAddress_IsRefusedAndChangesNothing()
    {
        await using var origin = HttpOrigin.Echo();
        await using var otherOrigin = HttpOrigin.Echo();
        using Socket taken = ReloadTestKit.ListenElsewhere();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\""));
        Listener running = proxy.Host.FindListener("web")!;
        IPEndPoint address = proxy.EndPoint("web");

        // The listener moves to a taken address; the same file adds a listener and points the backend elsewhere.
        string takenAddress = $"127.0.0.1:{ReloadTestKit.PortOf(taken)}";
        IReadOnlyList<string> problems = await proxy.ReloadWithAsync(Config(otherOrigin.Address, $"\"{takenAddress}\"", extraSections: ExtraListener));

        string expected = $"{ReloadTestKit.SpotOf(proxy, $"\"{takenAddress}\"")}: listener \"web\" cannot bind {takenAddress}: the address is already in use (another process listens there)";
        Assert.Equal(expected, Assert.Single(problems));
        Assert.Same(running, Assert.Single(proxy.Host.Listeners));
        Assert.Null(proxy.Host.FindListener("extra"));
        Assert.Equal(address, proxy.EndPoint("web"));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(address));
        Assert.Single(origin.Requests);
        Assert.Empty(otherOrigin.Requests);
        await proxy.Logs.WaitForAsync("PluginProxy.Host", l => l.Contains("refused") && l.Contains(expected), "the refusal logged with its place");
    }

    [Fact]
    public async Task Reload_ThatCannotBindTheNewAdminAddress_IsRefusedAndChangesNothing()
    {
        await using var origin = HttpOrigin.Echo();
        using Socket taken = ReloadTestKit.ListenElsewhere();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\"", global: "admin = \"127.0.0.1:0\""));
        IPEndPoint admin = proxy.Host.AdminEndPoint!;

        string takenAddress = $"127.0.0.1:{ReloadTestKit.PortOf(taken)}";
        IReadOnlyList<string> problems = await proxy.ReloadWithAsync(Config(origin.Address, "\"127.0.0.1:0\"", extraSections: ExtraListener, global: $"admin = \"{takenAddress}\""));

        string expected = $"{ReloadTestKit.SpotOf(proxy, $"\"{takenAddress}\"")}: the admin endpoint cannot bind {takenAddress}: the address is already in use (another process listens there)";
        Assert.Equal(expected, Assert.Single(problems));
        Assert.Equal(admin, proxy.Host.AdminEndPoint);
        Assert.Null(proxy.Host.FindListener("extra"));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(admin));
    }

    [Fact]
    public async Task Reload_ThatChangesAListenersAddresses_HandsOverTheAddressItKeeps_WithItsWaitingClients()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\"", listenerExtra: "maxconn = 1"));
        IPEndPoint kept = proxy.EndPoint("web");

        // The one slot is taken, so a second client waits in the listening socket's queue, not yet accepted.
        using var first = await RawHttp.ConnectAsync(proxy);
        await first.SendAsync("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).Status);
        using Socket waiting = await SocketExtensions.ConnectAsync(kept);
        await waiting.SendAllAsync("GET /waiting HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"u8.ToArray());

        int added = ReloadTestKit.FreePort();
        Assert.Empty(await proxy.ReloadWithAsync(Config(origin.Address, $"\"127.0.0.1:{kept.Port}\", \"127.0.0.1:{added}\"", listenerExtra: "maxconn = 10")));

        // The kept address was never closed: the waiting client is served by the new listener.
        Assert.StartsWith("HTTP/1.1 200", System.Text.Encoding.Latin1.GetString(await waiting.ReadToEndAsync()));
        Listener replaced = proxy.Host.FindListener("web")!;
        Assert.Equal([kept, new IPEndPoint(IPAddress.Loopback, added)], replaced.BoundEndPoints);
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(new IPEndPoint(IPAddress.Loopback, added)));

        // The session accepted before goes on.
        await first.SendAsync("GET /again HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task Reload_ThatMovesAListenerToAFreeAddress_AcceptsThereAndNoLongerOnTheOldOne()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\""));
        IPEndPoint old = proxy.EndPoint("web");

        int moved = ReloadTestKit.FreePort();
        Assert.Empty(await proxy.ReloadWithAsync(Config(origin.Address, $"\"127.0.0.1:{moved}\"")));

        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(new IPEndPoint(IPAddress.Loopback, moved)));
        var refused = await Assert.ThrowsAsync<SocketException>(() => SocketExtensions.ConnectAsync(old));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Reload_ThatAddsAnAddressToAListenerOnAnEphemeralPort_KeepsThePortItHad()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\""));
        IPEndPoint before = proxy.EndPoint("web");

        Assert.Empty(await proxy.ReloadWithAsync(Config(origin.Address, "\"127.0.0.1:0\", \"127.0.0.1:0\"")));

        IReadOnlyList<IPEndPoint> after = proxy.Host.FindListener("web")!.BoundEndPoints;
        Assert.Equal(2, after.Count);
        Assert.Equal(before, after[0]);
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(after[0]));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(after[1]));
    }

    [Fact]
    public async Task Reload_ThatTogglesReusePortOnAnAddressItKeeps_IsRefusedWithTheReason()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"127.0.0.1:0\""));
        Listener running = proxy.Host.FindListener("web")!;
        IPEndPoint address = proxy.EndPoint("web");

        // SO_REUSEPORT only takes effect at bind: the kept socket cannot take it, and closing it first would leave a gap.
        IReadOnlyList<string> problems = await proxy.ReloadWithAsync(Config(origin.Address, $"\"{address}\"", listenerExtra: "accept = [\"reuseport\"]"));

        Assert.Equal($"{ReloadTestKit.SpotOf(proxy, $"\"{address}\"")}: listener \"web\" cannot take over {address} from the running listener \"web\": " +
                     "the accept flag \"reuseport\" changed, and it only applies when the address is bound; restart the proxy to change it, or bind another address",
            Assert.Single(problems));
        Assert.Same(running, proxy.Host.FindListener("web"));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(address));
    }

    [Fact]
    public async Task Reload_ThatMovesAListenerFromTheWildcardToOneAddressOfTheSamePort_IsRefusedWithTheReason()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, "\"0.0.0.0:0\""));
        int port = proxy.Host.FindListener("web")!.BoundEndPoints[0].Port;

        IReadOnlyList<string> problems = await proxy.ReloadWithAsync(Config(origin.Address, $"\"127.0.0.1:{port}\""));

        Assert.StartsWith($"{ReloadTestKit.SpotOf(proxy, $"\"127.0.0.1:{port}\"")}: listener \"web\" cannot bind 127.0.0.1:{port}: it overlaps 0.0.0.0:{port}, which the running listener \"web\" holds",
            Assert.Single(problems));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(new IPEndPoint(IPAddress.Loopback, port)));
    }
}
