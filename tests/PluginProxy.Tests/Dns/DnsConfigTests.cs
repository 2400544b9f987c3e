using System.Net;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Dns;

/// <summary>The keys of servers named by host name: what they bind to, and each bad value refused at its file:line:column.</summary>
public class DnsConfigTests
{
    private const string Listener = """
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"

        """;

    private static string Config(string global = "", string defaults = "", string server = "{ name = \"a\", address = \"app.internal:9001\" }", string backend = "") => $$"""
        [global]
        {{global}}

        [defaults]
        {{defaults}}

        {{Listener}}
        [[backend]]
        name = "app"
        servers = [{{server}}]
        {{backend}}
        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    /// <summary>The one error, as "line:column: message".</summary>
    private static string Error(string toml)
    {
        ConfigError error = Assert.Single(Assert.Throws<ConfigException>(() => Parse(toml)).Errors);
        return $"{error.Where.Line}:{error.Where.Column}: {error.Message}";
    }

    [Fact]
    public void Defaults_AreTheSystemResolver_EveryTenSeconds()
    {
        ProxyConfig config = Parse(Config());

        Assert.Empty(config.Global.Dns.Nameservers);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Global.Dns.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(10), config.Backends[0].ResolveInterval);
        ServerConfig server = config.Backends[0].Servers[0];
        Assert.Equal(new ServerHostName("app.internal", 9001, false, false, server.HostName!.Spot), server.HostName);
        Assert.Equal("app.internal", server.HostName.Written[..^5]);
    }

    [Fact]
    public void Keys_BindToTheirSettings()
    {
        ProxyConfig config = Parse(Config(
            global: "resolvers = [\"127.0.0.1:5353\", \"10.0.0.2\", \"[::1]:53\"]\nresolve_timeout = \"500ms\"",
            defaults: "resolve_interval = \"30s\"",
            server: "{ name = \"a\", address = \"_http._tcp.app.internal\", srv = true, init_addr = \"none\", tls = true }, { name = \"b\", address = \"b.internal:80\" }",
            backend: "resolve_interval = \"2s\""));

        Assert.Equal([IPEndPoint.Parse("127.0.0.1:5353"), IPEndPoint.Parse("10.0.0.2:53"), IPEndPoint.Parse("[::1]:53")], config.Global.Dns.Nameservers);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.Global.Dns.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Backends[0].ResolveInterval);
        ServerConfig srv = config.Backends[0].Servers[0];
        Assert.Equal(("_http._tcp.app.internal", 0, true, true), (srv.HostName!.Host, srv.HostName.Port, srv.HostName.Srv, srv.HostName.StartWithoutAddress));
        Assert.Equal("app.internal", srv.TlsFiles!.TargetHost); // SNI: the SRV name without its service and protocol labels
        Assert.Equal(TimeSpan.FromSeconds(30), Parse(Config(defaults: "resolve_interval = \"30s\"")).Backends[0].ResolveInterval);
        Assert.Null(Parse(Config(server: "{ name = \"a\", address = \"127.0.0.1:9001\" }")).Backends[0].Servers[0].HostName);
    }

    [Theory]
    [InlineData("resolvers = [\"dns.internal:53\"]", "2:14: `resolvers`: \"dns.internal:53\" is not a nameserver; write an IP address with an optional port, such as \"127.0.0.1:53\", \"10.0.0.2\" or \"[::1]:5353\"")]
    [InlineData("resolvers = [\"5353\"]", "2:14: `resolvers`: \"5353\" is not a nameserver; write an IP address with an optional port, such as \"127.0.0.1:53\", \"10.0.0.2\" or \"[::1]:5353\"")]
    [InlineData("resolvers = []", "2:13: `resolvers` is empty; list nameservers such as [\"10.0.0.2:53\"], or remove the key to use the system's resolver")]
    [InlineData("resolvers = [53]", "2:14: `resolvers` must hold strings, not an integer")]
    [InlineData("resolve_timeout = \"5ms\"", "2:19: `resolve_timeout` must be at least 10ms, not \"5ms\"")]
    [InlineData("resolve_timeout = \"soon\"", "2:19: `resolve_timeout`: ")]
    public void BadGlobalValues_AreRefusedWhereWritten(string line, string expected) =>
        Assert.StartsWith(expected, Error(Config(global: line)));

    [Fact]
    public void BadIntervals_AreRefusedWhereWritten()
    {
        Assert.Equal("5:20: `resolve_interval` must be at least 100ms, not \"10ms\"", Error(Config(defaults: "resolve_interval = \"10ms\"")));
        Assert.StartsWith("16:20: `resolve_interval`: ", Error(Config(backend: "resolve_interval = \"often\"")));
        Assert.StartsWith("5:20: `resolve_interval` must be a duration string", Error(Config(defaults: "resolve_interval = 10")));
    }

    [Theory]
    [InlineData("{ name = \"a\", address = \"app.internal:9001\", init_addr = \"later\" }", "15:69: server `init_addr` \"later\" is unknown; use \"resolve\" (the default: a name that does not resolve at start is an error) or \"none\" (start without an address until it resolves)")]
    [InlineData("{ name = \"a\", address = \"127.0.0.1:9001\", init_addr = \"none\" }", "15:66: server `init_addr` only applies to a server named by host name, and \"127.0.0.1:9001\" is an IP address")]
    [InlineData("{ name = \"a\", address = \"_http._tcp.app.internal:80\", srv = true }", "15:36: server \"a\" `address`: \"_http._tcp.app.internal:80\" is not an SRV name; an SRV name has no port (its records give the ports)")]
    [InlineData("{ name = \"a\", address = \"_http/app\", srv = true }", "15:36: server \"a\" `address`: \"_http/app\" is not an SRV name; write an SRV name such as \"_http._tcp.app.internal\"")]
    [InlineData("{ name = \"a\", address = \"app.internal\" }", "15:36: server \"a\" `address`: \"app.internal\" has no port; write \"host:port\", for example \"127.0.0.1:8080\"")]
    [InlineData("{ name = \"a\", address = \"app.internal:9001\", srv = \"yes\" }", "15:63: `srv` must be")]
    public void BadServerValues_AreRefusedWhereWritten(string server, string expected) =>
        Assert.StartsWith(expected, Error(Config(server: server)));
}
