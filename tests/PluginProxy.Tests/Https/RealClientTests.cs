using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>The https supervisor and SNI passthrough with the clients people use: curl and openssl s_client (installed by .ci/run).</summary>
public class RealClientTests
{
    private static string Require(string program)
    {
        string? path = Tools.FindOnPath(program);
        Skip.If(path is null, $"{program} is not installed (.ci/run installs it)");
        return path!;
    }

    [SkippableFact]
    public async Task Curl_VerifiesTheChain_GetsTheSniCertificate_AndKeepsTheConnectionForTwoRequests()
    {
        string curl = Require("curl");
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        int port = proxy.EndPoint().Port;

        (int code, string output) = await Tools.RunAsync(curl,
        [
            "--silent", "--show-error", "--cacert", certificates.Pki.AuthorityPath,
            "--resolve", $"api.test:{port}:127.0.0.1",
            "--write-out", "|%{http_code} %{http_version} %{ssl_verify_result} %{num_connects}\n",
            $"https://api.test:{port}/first", $"https://api.test:{port}/second",
        ]);

        Assert.True(code == 0, output);
        // curl offers h2 first, and the listener's default alpn takes it.
        Assert.Contains("GET /first body=0\n|200 2 0 1", output);
        Assert.Contains("GET /second body=0\n|200 2 0 0", output);
        Assert.Equal(1, origin.Connections);
        Assert.Equal("https", (await origin.WaitForRequestAsync()).Header("X-Forwarded-Proto"));
    }

    [SkippableFact]
    public async Task Curl_RefusesTheCertificateForAnotherName()
    {
        string curl = Require("curl");
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        int port = proxy.EndPoint().Port;

        // No certificate names other.test: the default one (site.test) comes back, and curl refuses it.
        (int code, string output) = await Tools.RunAsync(curl,
            ["--silent", "--show-error", "--cacert", certificates.Pki.AuthorityPath, "--resolve", $"other.test:{port}:127.0.0.1", $"https://other.test:{port}/"]);

        Assert.Equal(60, code);
        Assert.Contains("other.test", output);
        Assert.Empty(origin.Requests);
    }

    [SkippableFact]
    public async Task OpenSslClient_SeesAlpnHttp11_TheChain_AndGetsAResponse()
    {
        string openssl = Require("openssl");
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));

        (_, string output) = await Tools.RunAsync(openssl,
            ["s_client", "-connect", $"127.0.0.1:{proxy.EndPoint().Port}", "-servername", "a.wild.test", "-alpn", "http/1.1",
             "-CAfile", certificates.Pki.AuthorityPath, "-verify_return_error", "-ign_eof"],
            input: "GET /hello HTTP/1.1\r\nHost: a.wild.test\r\nConnection: close\r\n\r\n");

        // (s_client's exit code depends on how the connection ended, not on the handshake: the output tells.)
        Assert.Contains("ALPN protocol: http/1.1", output);
        Assert.Contains("CN = *.wild.test", output);
        Assert.Contains("Verify return code: 0 (ok)", output);
        Assert.Contains("GET /hello body=0", output);
    }

    [SkippableFact]
    public async Task OpenSslClient_LimitedToTls11_IsRefusedByTheProxy()
    {
        string openssl = Require("openssl");
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));

        // SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all: the refusal then comes from the proxy.
        (int code, string output) = await Tools.RunAsync(openssl,
            ["s_client", "-connect", $"127.0.0.1:{proxy.EndPoint().Port}", "-servername", "site.test", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], input: "");

        Assert.NotEqual(0, code);
        Assert.Contains("alert protocol version", output);
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the refused handshake's session line");
    }

    [SkippableFact]
    public async Task SniPassthrough_WithCurl_ReachesTheServerWhoseNameWasAskedFor()
    {
        string curl = Require("curl");
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var api = new TlsOrigin(pki.Issue("api", "api.test"));
        await using var other = new TlsOrigin(pki.Issue("other", "other.test"));
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "edge"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "other"

            [[listener.route]]
            sni = "api.test"
            backend = "api"

            [[backend]]
            name = "api"
            servers = [{ name = "a", address = "{{api.Address}}" }]

            [[backend]]
            name = "other"
            servers = [{ name = "o", address = "{{other.Address}}" }]
            """);
        int port = proxy.EndPoint().Port;

        (int code, string output) = await Tools.RunAsync(curl,
            ["--silent", "--show-error", "--http1.1", "--cacert", pki.AuthorityPath, "--resolve", $"api.test:{port}:127.0.0.1", $"https://api.test:{port}/via-edge"]);

        Assert.True(code == 0, output);
        Assert.Equal("tls origin: GET /via-edge HTTP/1.1 sni=api.test", output.Trim());
        Assert.Empty(other.ServerNames);
    }
}
