using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Reload;

/// <summary>
/// A server present before and after a configuration reload (same backend, name, address and TLS) is the same server:
/// its health, counters and pooled connections carry over. A new or changed one starts fresh.
/// </summary>
public class ServerStateReloadTests
{
    private static string Config(string server, string backendExtra = "", string listeners = "") => $$"""
        {{RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        {{listeners}}

        [[backend]]
        name = "app"
        servers = [{{server}}]
        {{backendExtra}}
        """;

    private static string Server(string address, string extra = "") => $$"""{ name = "a", address = "{{address}}"{{extra}} }""";

    private const string Check = "check = { kind = \"tcp\", interval = \"200ms\", rise = 2, fall = 2 }";

    /// <summary>A listener added by the second configuration: a change that has nothing to do with the servers.</summary>
    private const string AnotherListener = """
        [[listener]]
        name = "other"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        """;

    [Fact]
    public async Task Reload_KeepsAServerThatChecksTookDown_DownUntilChecksBringItUp()
    {
        // Bound but not listening: connections are refused until the test starts listening.
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        string address = $"127.0.0.1:{ReloadTestKit.PortOf(server)}";
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(address), Check));
        Server before = ReloadTestKit.OnlyServer(proxy);
        await Wait.UntilAsync(() => !before.IsUp, "the checks to take the server down");

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(address), $"retries = 1\n{Check}", AnotherListener)));

        Server after = ReloadTestKit.OnlyServer(proxy);
        Assert.False(after.IsUp, "a server checks took down must not come back up because of a reload");
        Assert.StartsWith("HTTP/1.1 503", await ReloadTestKit.GetAsync(proxy.EndPoint("web")));

        // The checks go on after the reload, and bring it up once it answers.
        server.Listen(16);
        await Wait.UntilAsync(() => after.IsUp, "the checks to bring the server back up");
    }

    [Fact]
    public async Task Reload_KeepsAServersCountersAndIdentity_InItsNewBackend()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(origin.Address)));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(proxy.EndPoint()));
        Server before = ReloadTestKit.OnlyServer(proxy);
        long connections = before.TotalConnections;
        Assert.True(connections > 0);

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address), "retries = 1", AnotherListener)));

        Server after = ReloadTestKit.OnlyServer(proxy);
        Assert.Same(before, after);
        Assert.Equal(connections, after.TotalConnections);
        Assert.Same(proxy.Host.Backends.Backends[0], after.Backend);
        Assert.Equal(1, after.Backend.Retries);
    }

    [Fact]
    public async Task Reload_ReusesAPooledConnectionToAKeptServer()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(origin.Address)));
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(proxy.EndPoint()));
        // Once the session has ended its server connection is back in the pool.
        await Wait.UntilAsync(() => proxy.Host.Sessions.Count == 0, "the first session to end");
        Assert.Equal(1, origin.Connections);

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address), "retries = 1", AnotherListener)));

        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(proxy.EndPoint("web")));
        Assert.Equal(2, origin.Requests.Count);
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task Reload_ThatChangesOnlyAServersWeight_KeepsTheServerWithTheNewWeight()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(origin.Address)));
        Server before = ReloadTestKit.OnlyServer(proxy);

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address, ", weight = 7"))));

        Assert.Same(before, ReloadTestKit.OnlyServer(proxy));
        Assert.Equal(7, before.Weight);
    }

    [Fact]
    public async Task Reload_ThatChangesAServersProto_MakesANewServer_AndKeepingItKeepsTheServer()
    {
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(origin.Address)));
        Server before = ReloadTestKit.OnlyServer(proxy);
        Assert.Equal(PluginProxy.Abstractions.ServerProtocol.Http1, before.Protocol);

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address, ", proto = \"h2\""))));
        Server after = ReloadTestKit.OnlyServer(proxy);
        Assert.NotSame(before, after);
        Assert.Equal(PluginProxy.Abstractions.ServerProtocol.Http2, after.Protocol);

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address, ", proto = \"h2\", weight = 2"))));
        Assert.Same(after, ReloadTestKit.OnlyServer(proxy));
    }

    [Fact]
    public async Task Reload_ServerWithAChangedAddress_StartsFreshAndUp()
    {
        using var dead = new DeadPort();
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(dead.Address), Check));
        Server before = ReloadTestKit.OnlyServer(proxy);
        await Wait.UntilAsync(() => !before.IsUp, "the checks to take the server down");

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(origin.Address), Check)));

        Server after = ReloadTestKit.OnlyServer(proxy);
        Assert.NotSame(before, after);
        Assert.True(after.IsUp);
        Assert.Equal(0, after.TotalConnections);
        Assert.StartsWith("HTTP/1.1 200", await ReloadTestKit.GetAsync(proxy.EndPoint()));
    }

    [Fact]
    public async Task Reload_ThatRemovesTheCheck_BringsADownServerBackUp()
    {
        using var dead = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(Server(dead.Address), Check));
        Server before = ReloadTestKit.OnlyServer(proxy);
        await Wait.UntilAsync(() => !before.IsUp, "the checks to take the server down");

        Assert.Empty(await proxy.ReloadWithAsync(Config(Server(dead.Address))));

        Assert.True(ReloadTestKit.OnlyServer(proxy).IsUp, "with no check left, nothing would ever bring it back");
    }
}
