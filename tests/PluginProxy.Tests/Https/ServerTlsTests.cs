using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Tls;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>TLS from the proxy to servers: <c>tls = true</c>, <c>sni</c>, and <c>verify</c> (system, a CA file, none).</summary>
public class ServerTlsTests
{
    private static string Config(TlsOrigin origin, string serverExtra, string check = "") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "secure"

        [[backend]]
        name = "secure"
        servers = [{ name = "origin", address = "{{origin.Address}}", tls = true, {{serverExtra}} }]
        {{check}}
        """;

    private static async Task<RawResponse> GetAsync(RunningProxy proxy, string path = "/")
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: app.test\r\n\r\n");
        return await client.ReadResponseAsync();
    }

    [Fact]
    public async Task VerifiedAgainstACaFile_WithSni_RequestsFlowOverOnePooledTlsConnection()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var origin = new TlsOrigin(pki.Issue("origin", "origin.test"));
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin, $"sni = \"origin.test\", verify = \"{pki.AuthorityPath}\""));

        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET /one HTTP/1.1\r\nHost: app.test\r\n\r\n");
        RawResponse first = await client.ReadResponseAsync();
        await client.SendAsync("GET /two HTTP/1.1\r\nHost: app.test\r\n\r\n");
        RawResponse second = await client.ReadResponseAsync();

        Assert.Equal("tls origin: GET /one HTTP/1.1 sni=origin.test\n", first.BodyText);
        Assert.Equal("tls origin: GET /two HTTP/1.1 sni=origin.test\n", second.BodyText);
        Assert.Equal(["origin.test"], origin.ServerNames);
    }

    [Fact]
    public async Task IpAddressServer_IsVerifiedAgainstItsIpName_WithoutSni()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var origin = new TlsOrigin(pki.Issue("origin", "127.0.0.1"));
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin, $"verify = \"{pki.AuthorityPath}\""));

        RawResponse response = await GetAsync(proxy);

        Assert.Equal(200, response.Status);
        Assert.Equal([""], origin.ServerNames);
    }

    public static TheoryData<string, string> Untrusted => new()
    {
        { "another CA", "the remote certificate is invalid because of errors in the certificate chain" },
        { "the wrong name", "RemoteCertificateNameMismatch" },
        { "the system store", "the remote certificate is invalid because of errors in the certificate chain" },
    };

    [Theory]
    [MemberData(nameof(Untrusted))]
    public async Task CertificateThatDoesNotVerify_Is502_WithALogLineSayingWhy(string against, string reason)
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(Path.Combine(folder.Path, "real"));
        using var other = new TestPki(Path.Combine(folder.Path, "other"), "Some Other CA");
        await using var origin = new TlsOrigin(pki.Issue("origin", "origin.test"));
        string server = against switch
        {
            "another CA" => $"sni = \"origin.test\", verify = \"{other.AuthorityPath}\"",
            "the wrong name" => $"sni = \"elsewhere.test\", verify = \"{pki.AuthorityPath}\"",
            _ => "sni = \"origin.test\"",
        };
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin, server));

        RawResponse response = await GetAsync(proxy);

        Assert.Equal(502, response.Status);
        string warning = await proxy.Logs.WaitForAsync("PluginProxy.Backends", l => l.Contains("TLS handshake"), "the failed verification's log line");
        Assert.Contains("secure/origin", warning);
        Assert.True(warning.Contains(reason, StringComparison.OrdinalIgnoreCase), warning);
        string access = await proxy.AccessLog.WaitForAsync(l => l.Contains(" 502 "), "the access log line");
        Assert.Contains("server_handshake_failed", access);
        Assert.Empty(origin.RequestLines);
    }

    [Fact]
    public async Task VerifyNone_AcceptsAnyCertificate()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var origin = new TlsOrigin(pki.Issue("origin", "origin.test"));
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin, "sni = \"whatever.test\", verify = \"none\""));

        RawResponse response = await GetAsync(proxy);

        Assert.Equal(200, response.Status);
        Assert.Equal(["whatever.test"], origin.ServerNames);
    }

    [Fact]
    public async Task HealthCheck_OfATlsServer_DoesTheHandshake_AServerThatDoesNotVerifyGoesDown_AVerifiedOneStaysUp()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        using var other = new TestPki(Path.Combine(folder.Path, "other"), "Some Other CA");
        await using var origin = new TlsOrigin(pki.Issue("origin", "origin.test"));
        // fall = 1: a single failed check would take the server down.
        string check = "check = { kind = \"http\", path = \"/health\", interval = \"100ms\", timeout = \"5s\", rise = 1, fall = 1 }";
        await using RunningProxy good = await RunningProxy.StartAsync(Config(origin, $"sni = \"origin.test\", verify = \"{pki.AuthorityPath}\"", check));
        await using RunningProxy bad = await RunningProxy.StartAsync(Config(origin, $"sni = \"origin.test\", verify = \"{other.AuthorityPath}\"", check));
        var goodServer = (PluginProxy.Host.Backends.Server)good.Host.Backends.Find("secure")!.Servers[0];
        var badServer = (PluginProxy.Host.Backends.Server)bad.Host.Backends.Find("secure")!.Servers[0];

        // The certificate does not verify against the CA the proxy was given: the check fails on the handshake, the
        // server goes down, and clients get 503 instead of a request sent to it.
        await Wait.UntilAsync(() => !badServer.IsUp, "the server whose certificate does not verify to be marked down");
        Assert.StartsWith("TLS: ", badServer.LastCheckFailure);
        await bad.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("secure/origin is DOWN") && l.Contains("TLS:"), "the server going down, saying TLS");
        Assert.Equal(503, (await GetAsync(bad)).Status);

        // Every request that reached the origin came from the proxy that verified it. Two of them mean the first check's
        // result was acted on (a check starts only after the previous one was counted): it passed, the server is up.
        await Wait.UntilAsync(() => origin.RequestLines.Count(l => l == "GET /health HTTP/1.1") >= 2, "two health checks over TLS");
        Assert.True(goodServer.IsUp, $"the verified server is down: {goodServer.LastCheckFailure}");
        Assert.Null(goodServer.LastCheckFailure);
        Assert.Equal(200, (await GetAsync(good)).Status);
    }

    [Fact]
    public void SniOrVerifyWithoutTls_AndAMissingCaFile_AreConfigErrors()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("proxy.toml", $$"""
            {{RunningProxy.GlobalSection()}}
            [[backend]]
            name = "b"
            servers = [{ name = "a", address = "127.0.0.1:9", sni = "x.test" }, { name = "c", address = "127.0.0.1:9", tls = true, verify = "missing-ca.pem" }]
            """);

        var error = Assert.Throws<PluginProxy.Host.Configuration.ConfigException>(() => PluginProxy.Host.Configuration.ConfigMaterializer.Load(path));

        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains("x.test")) + 1;
        Assert.Contains(error.Errors, e => e.ToString() == $"{path}:{line}:{lines[line - 1].IndexOf("\"x.test\"") + 1}: server `sni` only applies to TLS: add tls = true");
        Assert.Contains(error.Errors, e => e.ToString().StartsWith($"{path}:{line}:{lines[line - 1].IndexOf("\"missing-ca.pem\"") + 1}: server `verify`: cannot read the CA file"));
    }

    [Fact]
    public async Task AnH2Server_OffersAlpnH2InItsHandshake_AnH1ServerOffersNone()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        IssuedCertificate issued = pki.Issue("origin", "origin.test");
        using X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(issued.CertPath, issued.KeyPath);
        string path = folder.Write("proxy.toml", $$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "b"

            [[backend]]
            name = "b"
            servers = [{ name = "one", address = "127.0.0.1:9", tls = true, sni = "origin.test", verify = "{{pki.AuthorityPath}}" },
                       { name = "two", address = "127.0.0.1:9", tls = true, sni = "origin.test", verify = "{{pki.AuthorityPath}}", proto = "h2" }]
            """);
        using MaterializedConfig loaded = ConfigMaterializer.Load(path);
        IReadOnlyList<ServerConfig> servers = loaded.Config.Backends[0].Servers;

        Assert.Empty(servers[0].Tls!.ApplicationProtocols);
        Assert.Equal([SslApplicationProtocol.Http2], servers[1].Tls!.ApplicationProtocols);
        Assert.Equal(("", ""), await HandshakeAsync(servers[0].Tls!, certificate));
        Assert.Equal(("h2", "h2"), await HandshakeAsync(servers[1].Tls!, certificate));
    }

    /// <summary>A handshake with a server that accepts h2 and http/1.1: what each side says ALPN agreed ("" for none).</summary>
    private static async Task<(string Server, string Client)> HandshakeAsync(ServerTls tls, X509Certificate2 certificate)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Task<string> serverSide = Task.Run(async () =>
        {
            using Socket accepted = await listener.AcceptAsync();
            await using var stream = new SslStream(new NetworkStream(accepted, ownsSocket: false));
            await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            });
            return stream.NegotiatedApplicationProtocol.ToString();
        });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint!);
        using TlsTransport transport = await tls.HandshakeAsync(socket, CancellationToken.None);
        return (await serverSide.WaitAsync(TimeSpan.FromSeconds(10)), transport.Tls.ApplicationProtocol ?? "");
    }
}
