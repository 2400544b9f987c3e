using System.Net.Security;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

/// <summary>
/// <c>[listener.tls] alpn</c> belongs to the https supervisor: the plugin binds it (a bad value refused at its
/// file:line:column, in today's words), the host keeps refusing the keys of [listener.tls] that no one claims, and the
/// listener's list is what clients negotiate, before and after a certificate reload.
/// </summary>
public class HttpsAlpnTests
{
    private static async Task<(StartupException Error, string Path)> RefusedAsync(string toml)
    {
        var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", toml);
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        return (error, path);
    }

    private static (int Line, int Column) Find(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int index = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(index >= 0, $"{text} not in the config");
        return (index + 1, lines[index].IndexOf(text, StringComparison.Ordinal) + 1);
    }

    [Theory]
    [InlineData("[\"http/1.1\", \"spdy/3\"]", "\"spdy/3\"", "`alpn` \"spdy/3\" is not a protocol the https supervisor speaks; use [\"h2\", \"http/1.1\"]")]
    [InlineData("[\"h3\"]", "\"h3\"", "`alpn` \"h3\" is not supported yet; the https supervisor speaks HTTP/2 and HTTP/1.x: use [\"h2\", \"http/1.1\"]")]
    [InlineData("[]", "[]", "`alpn` needs at least one protocol, such as [\"http/1.1\"]")]
    [InlineData("11", "11", "`alpn` must be a string or a list of strings, not an integer")]
    [InlineData("[\"http/1.1\", 2]", "2", "`alpn` must hold strings, not an integer")]
    public async Task BadAlpn_IsRefusedAtTheValue(string value, string wrong, string message)
    {
        using var certificates = new HttpsTests.Certificates();

        (StartupException error, string path) = await RefusedAsync(certificates.Config("127.0.0.1:9", tlsExtra: $"alpn = {value}"));

        (int line, int column) = Find(path, $"alpn = {value}");
        column += "alpn = ".Length + value.IndexOf(wrong, StringComparison.Ordinal);
        Assert.Equal($"{path}:{line}:{column}: {message}", Assert.Single(error.Problems));
    }

    [Theory]
    [InlineData("alpm = [\"http/1.1\"]", "alpm", "did you mean `alpn`?")]
    [InlineData("strict_snl = true", "strict_snl", "did you mean `strict_sni`?")]
    [InlineData("ciphers = \"HIGH\"", "ciphers", "known keys are: certificates, strict_sni, min_version, alpn")]
    public async Task AKeyOfListenerTlsThatNoOneClaims_IsStillRefusedAtTheKey(string entry, string key, string hint)
    {
        using var certificates = new HttpsTests.Certificates();

        (StartupException error, string path) = await RefusedAsync(certificates.Config("127.0.0.1:9", tlsExtra: entry));

        (int line, int column) = Find(path, entry);
        Assert.Equal($"{path}:{line}:{column}: unknown key `{key}` in [listener.tls] of listener \"tls\"; {hint}", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task AQuotedDottedKeyOfTheListener_IsNotTakenForTheTlsKey()
    {
        using var certificates = new HttpsTests.Certificates();

        (StartupException error, string path) = await RefusedAsync(certificates.Config("127.0.0.1:9", listenerExtra: "\"tls.alpn\" = [\"http/1.1\"]"));

        (int line, int column) = Find(path, "\"tls.alpn\"");
        Assert.StartsWith($"{path}:{line}:{column}: unknown key `\"tls.alpn\"` in listener \"tls\"", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task WhenTheSupervisorIsUnknown_AlpnIsNotReportedAsUnknown()
    {
        using var certificates = new HttpsTests.Certificates();

        (StartupException error, _) = await RefusedAsync(certificates.Config("127.0.0.1:9", tlsExtra: "alpn = [\"http/1.1\"]").Replace("\"https\"", "\"htps\""));

        Assert.Contains(error.Problems, p => p.Contains("supervisor \"htps\""));
        Assert.DoesNotContain(error.Problems, p => p.Contains("alpn"));
    }

    [Fact]
    public async Task TheListenersList_IsWhatClientsNegotiate()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, tlsExtra: "alpn = \"http/1.0\""));

        using TlsClient offering = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["http/1.1", "http/1.0"]);
        using TlsClient silent = await TestPki.ConnectAsync(proxy.EndPoint(), "api.test");
        await Assert.ThrowsAnyAsync<Exception>(() => TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["h2"]));

        Assert.Equal("http/1.0", offering.Stream.NegotiatedApplicationProtocol.ToString());
        Assert.Equal(default, silent.Stream.NegotiatedApplicationProtocol);
        Assert.Equal(200, (await GetAsync(offering)).Status);
        Assert.Equal(200, (await GetAsync(silent)).Status);
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the refused h2-only handshake");
    }

    [SkippableFact]
    public async Task OpenSslClient_GetsTheListenersProtocol()
    {
        string? openssl = Tools.FindOnPath("openssl");
        Skip.If(openssl is null, "openssl is not installed (.ci/run installs it)");
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, tlsExtra: "alpn = [\"http/1.1\", \"http/1.0\"]"));

        (_, string output) = await Tools.RunAsync(openssl!,
            ["s_client", "-connect", $"127.0.0.1:{proxy.EndPoint().Port}", "-servername", "api.test", "-alpn", "h2,http/1.1",
             "-CAfile", certificates.Pki.AuthorityPath, "-verify_return_error", "-ign_eof"],
            input: "GET /alpn HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n");

        Assert.Contains("ALPN protocol: http/1.1", output);
        Assert.Contains("GET /alpn body=0", output);
    }

    [Fact]
    public async Task AReloadedCertificate_StillNegotiatesAlpn()
    {
        using var certificates = new HttpsTests.Certificates();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address, global: "hot_reload = true"));
        using (TlsClient before = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["spdy/3", "http/1.1"]))
        {
            Assert.Equal(SslApplicationProtocol.Http11, before.Stream.NegotiatedApplicationProtocol);
        }

        IssuedCertificate renewed = certificates.Pki.Issue("site", "site.test", "www.site.test");
        TlsClient? after = null;
        await Wait.UntilAsync(() =>
        {
            after?.Dispose();
            after = TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["spdy/3", "http/1.1"]).GetAwaiter().GetResult();
            return after.Presented.Thumbprint == renewed.Thumbprint;
        }, $"new handshakes to get the renewed certificate; log:\n{proxy.Logs.Dump()}");

        using (after)
        {
            Assert.Equal(SslApplicationProtocol.Http11, after!.Stream.NegotiatedApplicationProtocol);
            Assert.Equal(200, (await GetAsync(after)).Status);
        }
    }

    private static async Task<RawResponse> GetAsync(TlsClient client)
    {
        await client.Http.SendAsync("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
        return await client.Http.ReadResponseAsync();
    }
}
