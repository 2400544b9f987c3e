using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>What a TLS port does with clients that do not complete a handshake, and with bad [listener.tls] tables.</summary>
// Handshakes (bystanders included) must complete within timeout_client_hs = 500 ms, closes within a bound.
[Collection(TimingSensitive.Name)]
public class HttpsBadInputTests
{
    private static async Task<RunningProxy> StartAsync(HttpsTests.Certificates certificates, HttpOrigin origin) =>
        await RunningProxy.StartAsync(certificates.Config(origin.Address, listenerExtra: "timeout_client_hs = \"500ms\""));

    /// <summary>Sends <paramref name="bytes"/> (then half-closes when asked) and returns how long until the proxy closed.</summary>
    private static async Task<TimeSpan> ClosedAfterAsync(RunningProxy proxy, byte[] bytes, bool finish)
    {
        using Socket socket = await proxy.ConnectAsync();
        var clock = Stopwatch.StartNew();
        byte[] answer;
        try
        {
            if (bytes.Length > 0)
            {
                await socket.SendAllAsync(bytes);
            }

            if (finish)
            {
                socket.Shutdown(SocketShutdown.Send);
            }

            answer = await socket.ReadToEndAsync(TimeSpan.FromSeconds(5));
        }
        catch (SocketException)
        {
            // Reset while sending or reading: closed.
            answer = [];
        }

        Assert.True(answer.Length == 0 || answer[0] == 0x15, $"only a TLS alert may come back, got {Encoding.Latin1.GetString(answer)}");
        return clock.Elapsed;
    }

    public static TheoryData<string, byte[], bool> BadClients => new()
    {
        { "garbage", [0x16, 0x03, 0x01, 0xff, 0xff, .. Encoding.ASCII.GetBytes(" garbage that is not a handshake at all")], true },
        { "truncated ClientHello", TlsBytes.ClientHello(serverName: "site.test", offerTls13: true)[..40], true },
        { "oversized ClientHello", TlsBytes.ClientHello(serverName: "site.test", offerTls13: true, padding: 140_000), false },
        { "nothing", [], false },
        { "stalled half ClientHello", TlsBytes.ClientHello(serverName: "site.test", offerTls13: true)[..60], false },
    };

    [Theory]
    [MemberData(nameof(BadClients))]
    public async Task ClientThatDoesNotCompleteAHandshake_IsClosedWithinTheHandshakeTimeout_AndLogged_WhileOthersAreServed(string what, byte[] bytes, bool finish)
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await StartAsync(certificates, origin);
        using TlsClient bystander = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");

        TimeSpan closedAfter = await ClosedAfterAsync(proxy, bytes, finish);

        // Within timeout_client_hs (500 ms) plus scheduling slack; far from the 10 s default.
        Assert.True(closedAfter < TimeSpan.FromSeconds(3), $"{what}: closed after {closedAfter}");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), $"the {what} session line");
        Assert.Contains(" tls ", line);
        await bystander.Http.SendAsync("GET /still-fine HTTP/1.1\r\nHost: site.test\r\n\r\n");
        Assert.Equal(200, (await bystander.Http.ReadResponseAsync()).Status);
        Assert.DoesNotContain(origin.Requests, r => r.Target != "/still-fine");
    }

    [Fact]
    public async Task PlainHttpOnTheTlsPort_Gets400SayingSo_AndIsClosed_WithoutReachingAServer()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await StartAsync(certificates, origin);
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();

        Assert.Equal(400, response.Status);
        Assert.Equal("The plain HTTP request was sent to an HTTPS port.\n", response.BodyText);
        Assert.True(await client.IsClosedAsync(), "the connection must be closed after the answer");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the session line");
        Assert.Contains("a plain HTTP request on a TLS port", line);
        Assert.Empty(origin.Requests);
    }

    [Fact]
    public async Task StalledHandshake_SaysItTimedOut()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await StartAsync(certificates, origin);

        await ClosedAfterAsync(proxy, TlsBytes.ClientHello(serverName: "site.test")[..30], finish: false);

        await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed") && l.Contains("no TLS handshake within 500ms"), "the timeout reason");
    }

    private static async Task<(StartupException Error, string Path)> OrConfigErrorAsync(string toml)
    {
        var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", toml);
        // As `check` does: the errors of the file do not stop the certificates being loaded and the plugins resolved.
        var errors = new List<ConfigError>();
        if (ConfigLoader.Read(path, errors) is not { } config)
        {
            return (new StartupException(errors.Select(e => e.ToString()).ToList()), path);
        }

        return (await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, NullLoggerFactory.Instance, new CapturedAccessLog(), errors)), path);
    }

    private static (int Line, int Column) Find(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int index = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(index >= 0, $"{text} not in the config");
        return (index + 1, lines[index].IndexOf(text, StringComparison.Ordinal) + 1);
    }

    [Fact]
    public async Task MissingFile_KeyThatDoesNotMatch_AndUnsupportedValues_AreEachReportedAtTheirPlace()
    {
        using var certificates = new HttpsTests.Certificates();
        string missing = Path.Combine(certificates.Folder, "missing.pem");
        string toml = certificates.Config("127.0.0.1:9", tlsExtra: "alpn = [\"h3\"]\nmin_version = \"1.1\"\nstrict_snl = true", use: [])
            .Replace("certificates = []", $$"""certificates = [{ cert = "{{missing}}", key = "{{certificates.Site.KeyPath}}" }, { cert = "{{certificates.Site.CertPath}}", key = "{{certificates.Api.KeyPath}}" }]""");

        (StartupException error, string path) = await OrConfigErrorAsync(toml);

        var (line, missingColumn) = Find(path, $"\"{missing}\"");
        (_, int mismatchColumn) = Find(path, $"\"{certificates.Site.CertPath}\"");
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{line}:{missingColumn}: ") && p.Contains(missing) && p.Contains("no such file"));
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{line}:{mismatchColumn}: ") && p.Contains(certificates.Api.KeyPath) && p.Contains("cannot be used"));
        var (alpnLine, alpnColumn) = Find(path, "\"h3\"");
        Assert.Contains($"{path}:{alpnLine}:{alpnColumn}: `alpn` \"h3\" is not supported yet; the https supervisor speaks HTTP/2 and HTTP/1.x: use [\"h2\", \"http/1.1\"]", error.Problems);
        var (versionLine, versionColumn) = Find(path, "\"1.1\"");
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{versionLine}:{versionColumn}: `min_version` \"1.1\" is not offered"));
        var (typoLine, typoColumn) = Find(path, "strict_snl");
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{typoLine}:{typoColumn}: unknown key `strict_snl`") && p.Contains("did you mean `strict_sni`?"));
    }

    [Fact]
    public async Task HttpsWithoutTls_AndTlsOnAPlainListener_AreRefused()
    {
        using var certificates = new HttpsTests.Certificates();
        string withoutTls = $$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "secure"
            bind = ["127.0.0.1:0"]
            supervisor = "https"
            backend = "app"

            [[listener]]
            name = "plain"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"

            [listener.tls]
            certificates = [{{HttpsTests.Certificates.Entry(certificates.Site)}}]

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """;

        (StartupException error, string path) = await OrConfigErrorAsync(withoutTls);

        var (httpsLine, httpsColumn) = Find(path, "\"https\"");
        Assert.Contains($"{path}:{httpsLine}:{httpsColumn}: supervisor \"https\" terminates TLS: give the listener a [listener.tls] table with its certificates", error.Problems);
        var (tlsLine, _) = Find(path, "[listener.tls]");
        Assert.Contains(error.Problems, p => p.StartsWith($"{path}:{tlsLine}:") && p.Contains("[listener.tls] is only used by a supervisor that terminates TLS"));
    }
}
