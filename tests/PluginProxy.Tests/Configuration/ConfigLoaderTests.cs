using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Configuration;

public class ConfigLoaderTests
{
    private const string Backend = """

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]
        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    private static IReadOnlyList<ConfigError> Errors(string toml) =>
        Assert.Throws<ConfigException>(() => Parse(toml)).Errors;

    [Fact]
    public void ValidConfig_BindsEveryKey()
    {
        ProxyConfig config = Parse("""
            [global]
            plugins = "my/plugins"
            admin = "127.0.0.1:8404"
            grace = "3s"

            [defaults]
            timeout_connect = "250ms"
            timeout_client = "1m"
            timeout_tunnel = "1h"
            max_request_head = "8k"
            retries = 1

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080", "[::1]:8081", "*:8082"]
            supervisor = "tcp"
            accept = ["nodelay", "keepalive", "proxy_protocol"]
            maxconn = 500
            backend = "app"
            timeout_client = "5s"

            [[backend]]
            name = "app"
            balance = "leastconn"
            servers = [{ name = "a", address = "127.0.0.1:9001", weight = 3 }, { name = "b", address = "localhost:9002" }]
            check = { kind = "http", path = "/health", interval = "2s", rise = 2, fall = 3 }
            """);

        Assert.Equal("/etc/pluginproxy/my/plugins", config.Global.PluginsDirectory);
        Assert.Equal(TimeSpan.FromSeconds(3), config.Global.Grace);
        Assert.Equal(8404, config.Global.Admin!.Port);
        ListenerConfig web = Assert.Single(config.Listeners);
        Assert.Equal(3, web.Binds.Count);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, web.Binds[1].EndPoint.AddressFamily);
        Assert.Equal(System.Net.IPAddress.Any, web.Binds[2].EndPoint.Address);
        Assert.Equal(AcceptFlags.NoDelay | AcceptFlags.KeepAlive | AcceptFlags.ProxyProtocol, web.Accept);
        Assert.Equal(500, web.MaxConn);
        Assert.Equal(TimeSpan.FromSeconds(5), web.Settings.Timeouts.Client);
        Assert.Equal(8192, web.Settings.MaxRequestHead);
        BackendConfig app = Assert.Single(config.Backends);
        Assert.Equal(BalanceAlgorithm.LeastConn, app.Balance);
        Assert.Equal(TimeSpan.FromMilliseconds(250), app.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromHours(1), app.Timeouts.Tunnel);
        Assert.Equal(1, app.Retries);
        Assert.Equal(3, app.Servers[0].Weight);
        // A host name is resolved when the host is built (and again every resolve_interval), not while parsing.
        Assert.Equal(System.Net.IPAddress.Loopback, app.Servers[0].EndPoint!.Address);
        Assert.Null(app.Servers[1].EndPoint);
        Assert.Equal(("localhost", 9002, false), (app.Servers[1].HostName!.Host, app.Servers[1].HostName!.Port, app.Servers[1].HostName!.Srv));
        Assert.Equal(HealthCheckKind.Http, app.Check!.Kind);
        Assert.Equal(3, app.Check.Fall);
    }

    [Fact]
    public void HttpReuse_IsSafeByDefault_SetInDefaultsOrPerBackend_AndAnUnknownValueIsAnError()
    {
        const string Listener = """
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "http"
            backend = "app"

            """;
        Assert.Equal(HttpReuse.Safe, Parse(Listener + Backend).Backends[0].HttpReuse);
        Assert.Equal(HttpReuse.Always, Parse("[defaults]\nhttp_reuse = \"always\"\n" + Listener + Backend).Backends[0].HttpReuse);
        Assert.Equal(HttpReuse.Always, Parse(Listener + Backend + "\nhttp_reuse = \"always\"").Backends[0].HttpReuse);

        ConfigError error = Assert.Single(Errors(Listener + Backend + "\nhttp_reuse = \"never\""));
        Assert.Equal("proxy.toml:10:14: `http_reuse` \"never\" is unknown; use safe (only requests that can be sent again go on idle connections) or always", error.ToString());
    }

    [Fact]
    public void ServerProto_IsH1ByDefault_H2WhenSaid_AndAnyOtherValueIsAnErrorAtTheValue()
    {
        const string Listener = """
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "http"
            backend = "app"

            [[backend]]
            name = "app"

            """;
        IReadOnlyList<ServerConfig> servers = Parse(Listener + """
            servers = [{ name = "a", address = "127.0.0.1:9001" }, { name = "b", address = "127.0.0.1:9002", proto = "h1" },
                       { name = "c", address = "127.0.0.1:9003", proto = "h2" }]
            """).Backends[0].Servers;
        Assert.Equal([ServerProtocol.Http1, ServerProtocol.Http1, ServerProtocol.Http2], servers.Select(s => s.Protocol));

        ConfigError error = Assert.Single(Errors(Listener + """servers = [{ name = "a", address = "127.0.0.1:9001", proto = "h3" }]"""));
        Assert.Equal("proxy.toml:9:62: server `proto` \"h3\" is unknown; use \"h1\" (HTTP/1.1) or \"h2\" (HTTP/2)", error.ToString());

        error = Assert.Single(Errors(Listener + """servers = [{ name = "a", address = "127.0.0.1:9001", proto = 2 }]"""));
        Assert.StartsWith("proxy.toml:9:62: ", error.ToString());
        Assert.Contains("`proto` must be \"h1\" or \"h2\"", error.Message);
    }

    [Fact]
    public void CheckPathAndHost_ThatCannotGoOnTheRequestLineOrInHost_AreRefusedAtTheirValue()
    {
        const string Listener = """
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "http"
            backend = "app"

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9001" }]

            """;
        HealthCheckConfig check = Parse(Listener + """check = { kind = "http", path = "/health?full=1", host = "api.example.com:8080" }""").Backends[0].Check!;
        Assert.Equal("/health?full=1", check.Path);
        Assert.Equal("api.example.com:8080", check.Host);

        ConfigError error = Assert.Single(Errors(Listener + """check = { kind = "http", path = "/a b" }"""));
        Assert.Equal("proxy.toml:10:33: check `path` \"/a b\" must be visible ASCII without spaces or '#' (percent-encode them)", error.ToString());
        error = Assert.Single(Errors(Listener + """check = { kind = "http", path = "/health#top" }"""));
        Assert.Equal("proxy.toml:10:33: check `path` \"/health#top\" must be visible ASCII without spaces or '#' (percent-encode them)", error.ToString());
        error = Assert.Single(Errors(Listener + """check = { kind = "http", host = "a host" }"""));
        Assert.Equal("proxy.toml:10:33: check `host` \"a host\" is not a valid Host: a name or an address, with an optional port", error.ToString());
    }

    [Fact]
    public void SyntaxError_IsReportedAtItsLineAndColumn()
    {
        ConfigError error = Errors("""
            [global]
            plugins = "plugins/bin
            """)[0];

        Assert.Equal(2, error.Where.Line);
        Assert.StartsWith("proxy.toml:2:", error.ToString());
        Assert.Contains("TOML syntax", error.Message);
    }

    [Fact]
    public void SeveralSyntaxErrors_AreAllReported()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [global]
            plugins = = "x"
            [defaults]
            timeout_client = "5s" "6s"
            """);

        Assert.Contains(errors, e => e.Where.Line == 2);
        Assert.Contains(errors, e => e.Where.Line == 4);
    }

    [Fact]
    public void UnknownKey_IsAnErrorAtTheKey_WithASuggestion()
    {
        ConfigError error = Assert.Single(Errors("""
            [defaults]
            timout_client = "5s"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"
            """ + Backend));

        Assert.Equal("proxy.toml:2:1", error.Where.ToString());
        Assert.Contains("unknown key `timout_client` in [defaults]", error.Message);
        Assert.Contains("did you mean `timeout_client`", error.Message);
    }

    [Fact]
    public void UnknownKeyInAnInlineTable_IsAnErrorAtThatKey()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"

            [[backend]]
            name = "app"
            servers = [{ name = "a", adress = "127.0.0.1:9001" }]
            """);

        // The missing `address` is reported at the server's table, the typo at the typo.
        Assert.Equal(2, errors.Count);
        Assert.Equal("proxy.toml:9:12", errors[0].Where.ToString());
        Assert.Contains("needs `address`", errors[0].Message);
        Assert.Equal("proxy.toml:9:26", errors[1].Where.ToString());
        Assert.Contains("unknown key `adress`", errors[1].Message);
        Assert.Contains("did you mean `address`", errors[1].Message);
    }

    [Fact]
    public void WrongType_IsAnErrorAtTheValue()
    {
        ConfigError error = Assert.Single(Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            maxconn = "lots"
            backend = "app"
            """ + Backend));

        Assert.Equal("proxy.toml:5:11", error.Where.ToString());
        Assert.Contains("`maxconn` must be an integer", error.Message);
        Assert.Contains("not a string", error.Message);
    }

    [Fact]
    public void WrongTypeInsideAnArray_PointsAtTheElement()
    {
        ConfigError error = Assert.Single(Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080", 8081]
            supervisor = "tcp"
            backend = "app"
            """ + Backend));

        Assert.Equal("proxy.toml:3:27", error.Where.ToString());
    }

    [Fact]
    public void MissingBackend_IsAnErrorAtTheReference_NamingTheDefinedOnes()
    {
        ConfigError error = Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "ap"
            """ + Backend).First(e => e.Message.Contains("not defined"));

        Assert.Equal("proxy.toml:5:11", error.Where.ToString());
        Assert.Contains("backend \"ap\"", error.Message);
        Assert.Contains("did you mean \"app\"", error.Message);
    }

    [Fact]
    public void UnreachableBackend_IsAnError()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"
            """ + Backend + """

            [[backend]]
            name = "orphan"
            servers = [{ name = "a", address = "127.0.0.1:9003" }]
            """);

        ConfigError error = Assert.Single(errors);
        Assert.Equal(10, error.Where.Line);
        Assert.Contains("backend \"orphan\" is not reachable", error.Message);
    }

    [Fact]
    public void AllSemanticErrors_AreReportedAtOnce_InFileOrder()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [defaults]
            timeout_server = "5"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:99999"]
            supervisor = "tcp"
            accept = ["nodelay", "nodely"]
            backend = "app"
            """ + Backend);

        Assert.Equal(3, errors.Count);
        Assert.Equal([2, 6, 8], errors.Select(e => e.Where.Line));
        Assert.Contains("has no unit", errors[0].Message);
        Assert.Contains("invalid port", errors[1].Message);
        Assert.Contains("did you mean \"nodelay\"", errors[2].Message);
    }

    [Theory]
    [InlineData("bind = [\"127.0.0.1\"]", "has no port")]
    [InlineData("bind = [\"::1:80\"]", "write an IPv6 address in brackets")]
    [InlineData("bind = [\"[::1]\"]", "is not an address")]
    [InlineData("bind = [\"300.1.1.1:80\"]", "invalid host")]
    public void BadBindAddress_IsExplained(string line, string expected)
    {
        ConfigError error = Assert.Single(Errors($"""
            [[listener]]
            name = "web"
            {line}
            supervisor = "tcp"
            backend = "app"
            """ + Backend));

        Assert.Equal(3, error.Where.Line);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void MissingRequiredKeys_AreNamed()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [[listener]]
            name = "web"
            backend = "app"
            """ + Backend);

        Assert.Contains(errors, e => e.Message.Contains("needs `bind`"));
        Assert.Contains(errors, e => e.Message.Contains("needs `supervisor`"));
    }

    [Fact]
    public void ServerTimeoutInAListener_IsRefusedRatherThanIgnored()
    {
        ConfigError error = Assert.Single(Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"
            timeout_connect = "1s"
            """ + Backend));

        Assert.Equal("proxy.toml:6:1", error.Where.ToString());
        Assert.Contains("does not apply to listener \"web\"", error.Message);
    }

    [Fact]
    public void DuplicateNamesAndAddresses_AreErrors()
    {
        IReadOnlyList<ConfigError> errors = Errors("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"
            """ + Backend);

        Assert.Contains(errors, e => e.Where.Line == 8 && e.Message.Contains("already defined"));
        Assert.DoesNotContain(errors, e => e.Message.Contains("already bound") && e.Where.Line != 9);
    }

    [Fact]
    public void NoListener_IsAnError()
    {
        Assert.Contains(Errors("[global]\n"), e => e.Message.Contains("no [[listener]]"));
    }

    [Fact]
    public void ListenerOptions_ArePassedThroughForPlugins()
    {
        ProxyConfig config = Parse("""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "app"
            options = { greeting = "hi", limit = 5 }
            """ + Backend);

        IReadOnlyDictionary<string, object?> options = config.Listeners[0].Settings.Options;
        Assert.Equal("hi", options["greeting"]);
        Assert.Equal(5L, options["limit"]);
    }
}
