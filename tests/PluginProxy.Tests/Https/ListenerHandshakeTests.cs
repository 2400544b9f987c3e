using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Https;

namespace PluginProxy.Tests.Https;

/// <summary>
/// The https supervisor's per-listener handshake options: the host's shared options per certificate (no ALPN) are copied
/// once with the listener's protocols, the copy is reused by every handshake without allocating, and a certificate
/// reloaded by the host (a new options instance) gets a new copy.
/// </summary>
public class ListenerHandshakeTests
{
    /// <summary>Certificates whose options the test swaps, as a hot reload does.</summary>
    private sealed class SwappableCertificates(SslServerAuthenticationOptions? current) : ITlsCertificates
    {
        public SslServerAuthenticationOptions? Current { get; set; } = current;

        public SslServerAuthenticationOptions? Select(string? serverName) => Current;
    }

    private static SslServerAuthenticationOptions HostOptions() => new()
    {
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        AllowRenegotiation = false,
        AllowTlsResume = false,
    };

    private static ListenerSettings Listener(ITlsCertificates certificates, object? alpn) => new()
    {
        Name = "tls",
        Supervisor = "https",
        Timeouts = new ProxyTimeouts(),
        Tls = new TlsSettings { Certificates = certificates },
        Table = OptionTable.From(alpn is null ? [] : [new("tls", new Dictionary<string, object?> { ["alpn"] = alpn })], "proxy.toml"),
    };

    [Fact]
    public void TheHostsOptions_AreCopiedOnceWithTheListenersProtocols_AndLeftAsTheyAre()
    {
        SslServerAuthenticationOptions shared = HostOptions();
        var supervisor = new HttpsSupervisor();
        ListenerSettings listener = Listener(new SwappableCertificates(shared), new[] { "http/1.0", "http/1.1" });

        SslServerAuthenticationOptions? offered = supervisor.HandshakeOf(listener).Select("site.test");

        Assert.NotNull(offered);
        Assert.NotSame(shared, offered);
        Assert.Null(shared.ApplicationProtocols);
        Assert.Equal([new SslApplicationProtocol("http/1.0"), SslApplicationProtocol.Http11], offered.ApplicationProtocols!);
        Assert.Equal(SslProtocols.Tls13, offered.EnabledSslProtocols);
        Assert.Equal(X509RevocationMode.NoCheck, offered.CertificateRevocationCheckMode);
        Assert.False(offered.AllowRenegotiation);
        Assert.False(offered.AllowTlsResume);
        Assert.Same(offered, supervisor.HandshakeOf(listener).Select("www.site.test"));
    }

    [Fact]
    public void WithoutAlpn_TheListenerOffersH2ThenHttp11()
    {
        var supervisor = new HttpsSupervisor();
        ListenerSettings listener = Listener(new SwappableCertificates(HostOptions()), alpn: null);

        Assert.Empty(supervisor.CheckListener(listener));
        Assert.Equal([SslApplicationProtocol.Http2, SslApplicationProtocol.Http11], supervisor.HandshakeOf(listener).Select(null)!.ApplicationProtocols!);
    }

    [Fact]
    public void AHandshake_AllocatesNothing_OnceTheCertificateWasHandedOut()
    {
        var supervisor = new HttpsSupervisor();
        ListenerSettings listener = Listener(new SwappableCertificates(HostOptions()), "http/1.1");
        ListenerHandshake handshake = supervisor.HandshakeOf(listener);
        handshake.Select("site.test");

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            supervisor.HandshakeOf(listener).Select("site.test");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void AReloadedCertificate_GetsItsOwnCopy()
    {
        var certificates = new SwappableCertificates(HostOptions());
        ListenerHandshake handshake = new HttpsSupervisor().HandshakeOf(Listener(certificates, "http/1.1"));
        SslServerAuthenticationOptions? first = handshake.Select("site.test");

        SslServerAuthenticationOptions reloaded = HostOptions();
        certificates.Current = reloaded;
        SslServerAuthenticationOptions? second = handshake.Select("site.test");

        Assert.NotSame(first, second);
        Assert.Equal([SslApplicationProtocol.Http11], second!.ApplicationProtocols!);
        Assert.Same(second, handshake.Select("site.test"));
        Assert.Null(reloaded.ApplicationProtocols);
    }

    [Fact]
    public void ANameTheHostRefuses_IsRefused()
    {
        ListenerHandshake handshake = new HttpsSupervisor().HandshakeOf(Listener(new SwappableCertificates(null), "http/1.1"));

        Assert.Null(handshake.Select("unknown.test"));
    }

    [Fact]
    public void CheckListener_ClaimsTlsAlpn_AndReportsEachBadProtocol()
    {
        var supervisor = new HttpsSupervisor();
        ListenerSettings listener = Listener(new SwappableCertificates(HostOptions()), new[] { "http/1.1", "h3", "gopher" });

        IReadOnlyList<OptionError> errors = supervisor.CheckListener(listener);

        Assert.Equal(["tls.alpn"], supervisor.ListenerKeys);
        Assert.Equal(
            ["`alpn` \"h3\" is not supported yet; the https supervisor speaks HTTP/2 and HTTP/1.x: use [\"h2\", \"http/1.1\"]",
             "`alpn` \"gopher\" is not a protocol the https supervisor speaks; use [\"h2\", \"http/1.1\"]"],
            errors.Select(e => e.Message));
    }
}
