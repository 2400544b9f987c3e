using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>
/// The https supervisor end to end: certificates made at test time, real TLS clients (.NET's SslStream), a stub origin.
/// </summary>
public class HttpsTests
{
    /// <summary>Three certificates: site (two names), api, and a wildcard; the site one is listed first, so it is the default.</summary>
    internal sealed class Certificates : IDisposable
    {
        private readonly TempDirectory _directory = new();

        public Certificates()
        {
            Pki = new TestPki(Path.Combine(_directory.Path, "certs"));
            Site = Pki.Issue("site", "site.test", "www.site.test");
            Api = Pki.Issue("api", "api.test");
            Wildcard = Pki.Issue("wild", "*.wild.test");
        }

        public TestPki Pki { get; }

        public IssuedCertificate Site { get; }

        public IssuedCertificate Api { get; }

        public IssuedCertificate Wildcard { get; }

        public string Folder => _directory.Path;

        public static string Entry(IssuedCertificate c) => $"{{ cert = \"{c.CertPath}\", key = \"{c.KeyPath}\" }}";

        /// <summary>An https listener "tls" with the given [listener.tls] extras, in front of <paramref name="origin"/>.</summary>
        public string Config(string origin, string tlsExtra = "", string listenerExtra = "", string global = "", IEnumerable<IssuedCertificate>? use = null) => $$"""
            {{RunningProxy.GlobalSection(global)}}
            [[listener]]
            name = "tls"
            bind = ["127.0.0.1:0"]
            supervisor = "https"
            backend = "app"
            forwardfor = true
            {{listenerExtra}}

            [listener.tls]
            certificates = [{{string.Join(", ", (use ?? [Site, Api, Wildcard]).Select(Entry))}}]
            {{tlsExtra}}

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{origin}}" }]
            """;

        public void Dispose()
        {
            Pki.Dispose();
            _directory.Dispose();
        }
    }

    private static async Task<RawResponse> GetAsync(TlsClient client, string path = "/", string host = "site.test")
    {
        await client.Http.SendAsync($"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        return await client.Http.ReadResponseAsync();
    }

    [Theory]
    [InlineData("site.test", "site")]
    [InlineData("www.site.test", "site")]
    [InlineData("api.test", "api")]
    [InlineData("API.Test", "api")]
    [InlineData("a.wild.test", "wild")]
    [InlineData("b.a.wild.test", "site")]
    [InlineData("wild.test", "site")]
    [InlineData("unknown.test", "site")]
    [InlineData(null, "site")]
    public async Task ServerName_PicksTheCertificate_ExactThenWildcardThenTheFirst(string? serverName, string expected)
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));

        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), serverName);

        IssuedCertificate wanted = expected switch { "site" => certificates.Site, "api" => certificates.Api, _ => certificates.Wildcard };
        Assert.Equal(wanted.Thumbprint, client.Presented.Thumbprint);
        Assert.True(certificates.Pki.Trusts(client.Presented), "the chain in the PEM file must be presented");
        Assert.Equal(200, (await GetAsync(client)).Status);
    }

    [Fact]
    public async Task RequestsGoThroughTheHttpSupervisor_WithKeepAlive_AndForwardedProtoHttps()
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");

        RawResponse first = await GetAsync(client, "/one");
        RawResponse second = await GetAsync(client, "/two");

        Assert.Equal("GET /one body=0\n", first.BodyText);
        Assert.Equal("GET /two body=0\n", second.BodyText);
        OriginRequest seen = await origin.WaitForRequestAsync(2);
        Assert.Equal("https", seen.Header("X-Forwarded-Proto"));
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal(1, origin.Connections);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("/two"), "the access log line");
        Assert.Contains(" 200 ", line);
    }

    [Fact]
    public async Task Alpn_AgreesOnHttp11_WhenOffered_AndWorksWithoutIt()
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));

        using TlsClient offering = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["spdy/3", "http/1.1"]);
        using TlsClient silent = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");

        Assert.Equal(SslApplicationProtocol.Http11, offering.Stream.NegotiatedApplicationProtocol);
        Assert.Equal(default, silent.Stream.NegotiatedApplicationProtocol);
        Assert.Equal(200, (await GetAsync(offering)).Status);
        Assert.Equal(200, (await GetAsync(silent)).Status);
    }

    [Fact]
    public async Task StrictSni_RefusesUnknownNamesAndClientsWithoutSni_AndServesKnownOnes()
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, "strict_sni = true"));

        await Assert.ThrowsAnyAsync<Exception>(() => TestPki.ConnectAsync(proxy.EndPoint(), "unknown.test"));
        await Assert.ThrowsAnyAsync<Exception>(() => TestPki.ConnectAsync(proxy.EndPoint(), null));
        using TlsClient known = await TestPki.ConnectAsync(proxy.EndPoint(), "a.wild.test");

        Assert.Equal(certificates.Wildcard.Thumbprint, known.Presented.Thumbprint);
        Assert.Equal(200, (await GetAsync(known)).Status);
        string refused = await proxy.Logs.WaitForSessionAsync(l => l.Contains("unknown.test"), "the refused handshake's session line");
        Assert.Contains("handshake_failed", refused);
        Assert.Contains("no certificate for server name 'unknown.test' and strict_sni is on", refused);
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("sent no server name (SNI) and strict_sni is on"), "the no-SNI refusal");
    }

    [Fact]
    public async Task MinVersion13_RefusesATls12Client()
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, "min_version = \"1.3\""));

        await Assert.ThrowsAnyAsync<Exception>(() => TestPki.ConnectAsync(proxy.EndPoint(), "site.test", protocols: SslProtocols.Tls12));
        using TlsClient modern = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");

        Assert.Equal(SslProtocols.Tls13, modern.Stream.SslProtocol);
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the refused TLS 1.2 handshake");
    }

    [Fact]
    public async Task Tls11ClientHello_IsRefused()
    {
        using var certificates = new Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        using Socket socket = await proxy.ConnectAsync();

        // A TLS 1.1 ClientHello (legacy_version 3.2, no supported_versions), as an old client sends it.
        await socket.SendAllAsync(TlsBytes.ClientHello(legacyVersion: 0x0302, serverName: "site.test", offerTls13: false));

        byte[] answer = await socket.ReadToEndAsync();
        Assert.True(answer.Length == 0 || answer[0] == 0x15, $"expected an alert or a close, got {Convert.ToHexString(answer)}");
        Assert.DoesNotContain((byte)0x16, answer.Take(1));
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the refused TLS 1.1 handshake");
    }

    [Fact]
    public async Task RoutesMayMatchTheHandshakesServerName()
    {
        using var certificates = new Certificates();
        await using HttpOrigin site = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nsite");
        await using HttpOrigin api = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\napi");
        string config = certificates.Config(site.Address) + $$"""

            [[backend]]
            name = "api"
            servers = [{ name = "a", address = "{{api.Address}}" }]
            """;
        config = config.Replace("[listener.tls]", "[[listener.route]]\nsni = \"api.test\"\nbackend = \"api\"\n\n[listener.tls]");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);

        using TlsClient toApi = await TestPki.ConnectAsync(proxy.EndPoint(), "api.test");
        using TlsClient toSite = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");

        // The Host header does not matter here: the route asks for the TLS server name.
        Assert.Equal("api", (await GetAsync(toApi, host: "site.test")).BodyText);
        Assert.Equal("site", (await GetAsync(toSite, host: "api.test")).BodyText);
    }

    [Fact]
    public async Task TlsFacts_AreVisibleToScripts()
    {
        using var certificates = new Certificates();
        using var scripts = new ScriptFolder();
        scripts.Write("tls.csx", """
            Request.Headers.Set("X-Sni", Sni ?? "-");
            Request.Headers.Set("X-Tls", $"{IsTls} {Tls?.Version} {Tls?.ApplicationProtocol ?? "-"}");
            Request.Headers.Set("X-Scheme", Request.Scheme);
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        string config = certificates.Config(origin.Address, listenerExtra: "request_analyzers = [\"tls.csx\"]",
            global: $"scripts = \"{scripts.Path}\"\nscript_cache = \"{RepoPaths.ScriptCache}\"");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), "Api.Test", ["http/1.1"]);

        Assert.Equal(200, (await GetAsync(client)).Status);

        OriginRequest seen = await origin.WaitForRequestAsync();
        Assert.Equal("api.test", seen.Header("X-Sni"), ignoreCase: true);
        Assert.Equal("https", seen.Header("X-Scheme"));
        Assert.Equal($"True {(client.Stream.SslProtocol == SslProtocols.Tls13 ? "TLSv1.3" : "TLSv1.2")} http/1.1", seen.Header("X-Tls"));
    }
}

public class CertificateReloadTests
{
    [Fact]
    public async Task ChangedCertificate_ServesNewHandshakes_AndABrokenOneIsRefusedWhileTheLastGoodOneStays()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, global: "hot_reload = true"));
        using TlsClient before = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");
        Assert.Equal(certificates.Site.Thumbprint, before.Presented.Thumbprint);

        // A renewed certificate (new key) written over the same files.
        IssuedCertificate renewed = certificates.Pki.Issue("site", "site.test", "www.site.test");
        string presented = "";
        await Wait.UntilAsync(() =>
        {
            using TlsClient probe = TestPki.ConnectAsync(proxy.EndPoint(), "site.test").GetAwaiter().GetResult();
            presented = probe.Presented.Thumbprint;
            return presented == renewed.Thumbprint;
        }, $"new handshakes to get the renewed certificate; log:\n{proxy.Logs.Dump()}");
        await proxy.Logs.WaitForAsync("PluginProxy.Tls", l => l.Contains("reloaded from") && l.Contains(renewed.CertPath), "the reload to be logged");

        // The connection made before keeps working.
        await before.Http.SendAsync("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
        Assert.Equal(200, (await before.Http.ReadResponseAsync()).Status);

        // A broken file: refused, logged, and the renewed certificate stays.
        File.WriteAllText(renewed.CertPath, "-----BEGIN NOTHING-----\n");
        string refused = await proxy.Logs.WaitForAsync("PluginProxy.Tls", l => l.Contains("certificate refused"), "the broken certificate to be refused");
        Assert.Contains(renewed.CertPath, refused);
        Assert.Contains("the current certificates stay in use", refused);
        using TlsClient after = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test");
        Assert.Equal(renewed.Thumbprint, after.Presented.Thumbprint);
        Assert.Equal(200, (await GetAsync(after)).Status);
    }

    private static async Task<RawResponse> GetAsync(TlsClient client)
    {
        await client.Http.SendAsync("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
        return await client.Http.ReadResponseAsync();
    }
}
