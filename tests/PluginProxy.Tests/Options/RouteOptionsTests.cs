using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Options;

/// <summary>
/// The conditions of <c>[[listener.route]]</c> belong to the plugin that routes by them (the http supervisor, the tcp
/// supervisor), bound with the SDK's binder; the host reads only each route's <c>backend</c>. A wrong condition, one the
/// supervisor cannot apply, or one no component of the listener reads is refused at its file:line:column.
/// </summary>
public class RouteOptionsTests
{
    private static string Listener(string supervisor, string routes, string global = "") => $$"""
        {{RunningProxy.GlobalSection(global)}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "{{supervisor}}"
        backend = "app"

        {{routes}}

        [[backend]]
        name = "app"
        servers = [{ name = "s", address = "127.0.0.1:9" }]
        """;

    /// <summary>Where <paramref name="text"/> first occurs after the line holding <paramref name="after"/> (1-based).</summary>
    private static string At(string path, string text, string? after = null)
    {
        string[] lines = File.ReadAllLines(path);
        int from = after is null ? 0 : Array.FindIndex(lines, l => l.Contains(after, StringComparison.Ordinal));
        int line = Array.FindIndex(lines, from, l => l.Contains(text, StringComparison.Ordinal));
        return $"{path}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}";
    }

    /// <summary>Every problem the configuration has, found in one pass as <c>check</c> does (the file's, then the plugins').</summary>
    private static async Task<(string Path, IReadOnlyList<string> Problems)> ProblemsAsync(TempDirectory directory, string toml)
    {
        string path = directory.Write("proxy.toml", toml);
        var errors = new List<ConfigError>();
        ProxyConfig config = ConfigLoader.Read(path, errors) ?? throw new InvalidOperationException("not TOML");
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, NullLoggerFactory.Instance, new CapturedAccessLog(), errors));
        return (path, error.Problems);
    }

    [Fact]
    public async Task HttpRoute_WithBadConditions_IsRefusedAtEachPlace()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await ProblemsAsync(directory, Listener("http", """
            [[listener.route]]
            host = "api.example.com:8080"
            backend = "app"

            [[listener.route]]
            sni = "*api.test"
            path = "v1"
            backend = "app"

            [[listener.route]]
            method = ["GET", "B AD"]
            backend = "app"

            [[listener.route]]
            header = { value = "1" }
            backend = "app"

            [[listener.route]]
            hots = "x"
            backend = "app"
            """));

        const string Hint = "write \"api.example.com\", or \"*.example.com\" for any subdomain (no port, no path)";
        Assert.Equal(
            [
                $"{At(path, "\"api.example.com:8080\"")}: route `host` \"api.example.com:8080\" is not a host name; {Hint}",
                $"{At(path, "\"*api.test\"")}: route `sni` \"*api.test\" is not a host name; {Hint}",
                $"{At(path, "\"v1\"")}: a route path must start with '/', not \"v1\"",
                $"{At(path, "\"B AD\"")}: route `method` \"B AD\" is not a method name",
                $"{At(path, "{ value")}: a route's `header` needs `name` (a header name)",
                $"{At(path, "hots")}: unknown key `hots` in `route`; did you mean `host`?",
            ],
            problems);
    }

    [Fact]
    public async Task HttpsListener_BindsTheHttpRoutes_AndRefusesTheirErrors()
    {
        using var directory = new TempDirectory();
        using var pki = new TestPki(directory.Path);
        IssuedCertificate site = pki.Issue("site", "site.test");
        (string path, IReadOnlyList<string> problems) = await ProblemsAsync(directory, Listener("https", $$"""
            [[listener.route]]
            path_prefix = "v1/"
            backend = "app"

            [listener.tls]
            certificates = [{ cert = "{{site.CertPath}}", key = "{{site.KeyPath}}" }]
            """));

        Assert.Equal($"{At(path, "\"v1/\"")}: a route path must start with '/', not \"v1/\"", Assert.Single(problems));
    }

    [Fact]
    public async Task TcpRoute_WithConditionsOnlyHttpApplies_IsRefusedAtEachKey()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await ProblemsAsync(directory, Listener("tcp", """
            [[listener.route]]
            sni = "api.test"
            path = "/v1"
            backend = "app"

            [[listener.route]]
            method = "GET"
            header = { name = "X-A" }
            backend = "app"

            [[listener.route]]
            snii = "api.test"
            backend = "app"

            [[listener.route]]
            sni = "api.test:443"
            backend = "app"
            """));

        Assert.Equal(
            [
                $"{At(path, "path")}: route `path` has no effect with supervisor \"tcp\": it routes by `sni` only",
                $"{At(path, "method")}: route `method` has no effect with supervisor \"tcp\": it routes by `sni` only",
                $"{At(path, "header")}: route `header` has no effect with supervisor \"tcp\": it routes by `sni` only",
                $"{At(path, "snii")}: unknown key `snii` in `route`; did you mean `sni`?",
                $"{At(path, "\"api.test:443\"")}: route `sni` \"api.test:443\" is not a host name; write \"api.example.com\", or \"*.example.com\" for any subdomain (no port, no path)",
            ],
            problems);
    }

    [Fact]
    public async Task RouteConditions_OnASupervisorThatReadsNoRoutes_AreRefused_NotIgnored()
    {
        using var directory = new TempDirectory();
        string global = $"scripts = \"{RepoPaths.Scripts}\"\nscript_cache = \"{RepoPaths.ScriptCache}\"";
        (string path, IReadOnlyList<string> problems) = await ProblemsAsync(directory, Listener("supervisors/echo.csx", """
            [[listener.route]]
            path = "/v1"
            backend = "app"
            """, global));

        Assert.Equal(
            $"{At(path, "path =")}: route `path` has no effect with supervisor \"supervisors/echo.csx\": none of the listener's supervisors and analyzers reads route conditions",
            Assert.Single(problems));
    }

    [Fact]
    public void RouteBackend_ThatIsNoBackend_IsRefused()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Listener("http", """
            [[listener.route]]
            path = "/v1"
            backend = "ap"
            """));

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));

        Assert.Equal($"{At(path, "\"ap\"")}: listener \"web\" names backend \"ap\", which is not defined; did you mean \"app\"?", Assert.Single(error.Errors).ToString());
    }

    [Fact]
    public async Task RouteBackend_OfTheWrongType_IsReportedOnce_ByTheHost()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await ProblemsAsync(directory, Listener("http", """
            [[listener.route]]
            path = "/v1"
            backend = 5
            """));

        Assert.Equal($"{At(path, "5")}: `backend` must be the backend matching streams go to, not an integer", Assert.Single(problems));
    }

    [Fact]
    public async Task HttpRoutes_WrittenInline_WithOneMethodAndAHeaderPresence_Route()
    {
        await using HttpOrigin app = HttpOrigin.Named("app");
        await using HttpOrigin posts = HttpOrigin.Named("posts");
        await using HttpOrigin flagged = HttpOrigin.Named("flagged");
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            route = [{ method = "POST", backend = "posts" }, { header = { name = "X-Flag" }, backend = "flagged" }]

            [[backend]]
            name = "app"
            servers = [{ name = "s", address = "{{app.Address}}" }]

            [[backend]]
            name = "posts"
            servers = [{ name = "s", address = "{{posts.Address}}" }]

            [[backend]]
            name = "flagged"
            servers = [{ name = "s", address = "{{flagged.Address}}" }]
            """);

        foreach ((string head, string expected) in new[]
        {
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n", "posts"),
            ("GET / HTTP/1.1\r\nHost: a\r\nx-flag: anything\r\n", "flagged"),
            ("GET / HTTP/1.1\r\nHost: a\r\n", "app"),
        })
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync(head + "\r\n");
            Assert.Equal(expected, (await client.ReadResponseAsync()).BodyText);
        }
    }

    [Fact]
    public async Task TcpRoutes_WrittenInline_RouteByTheClientHellosServerName()
    {
        byte[] hello = TlsBytes.ClientHello(serverName: "shop.b.test");
        await using StubServer a = Answering("a", hello.Length);
        await using StubServer b = Answering("b", hello.Length);
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "edge"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "a"
            route = [{ sni = "a.test", backend = "a" }, { sni = "*.b.test", backend = "b" }]

            [[backend]]
            name = "a"
            servers = [{ name = "s", address = "{{a.Address}}" }]

            [[backend]]
            name = "b"
            servers = [{ name = "s", address = "{{b.Address}}" }]
            """);
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(hello);

        Assert.Equal("b", Encoding.ASCII.GetString(await client.ReadToEndAsync()));
        Assert.Equal(0, a.Accepted);
    }

    /// <summary>A server that reads the ClientHello, answers its name and closes.</summary>
    private static StubServer Answering(string name, int helloLength) => new(async socket =>
    {
        await socket.ReadExactlyAsync(helloLength);
        await socket.SendAllAsync(Encoding.ASCII.GetBytes(name));
        socket.Shutdown(SocketShutdown.Send);
    });
}
