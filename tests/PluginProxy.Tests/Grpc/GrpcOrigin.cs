using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// A real gRPC origin: ASP.NET Core gRPC on Kestrel serving <see cref="EchoService"/> on 127.0.0.1, on an ephemeral port
/// that speaks HTTP/2 without TLS (h2c with prior knowledge, as gRPC clients do) and, when asked, on a second ephemeral
/// port that speaks HTTP/2 over TLS (ALPN <c>h2</c>). Logs nothing. Disposing stops it (calls still open are aborted).
/// </summary>
internal sealed class GrpcOrigin : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);
    private readonly WebApplication _app;

    private GrpcOrigin(WebApplication app, Uri uri, Uri? tlsUri, X509Certificate2? certificate)
    {
        _app = app;
        Uri = uri;
        TlsUri = tlsUri;
        Certificate = certificate;
        Observations = app.Services.GetRequiredService<EchoObservations>();
    }

    /// <summary>The h2c endpoint, <c>http://127.0.0.1:port</c> (for <see cref="GrpcClients.CreateChannel(Uri, X509Certificate2?)"/>).</summary>
    public Uri Uri { get; }

    /// <summary>The h2c endpoint's port.</summary>
    public int Port => Uri.Port;

    /// <summary>The h2c endpoint as <c>127.0.0.1:port</c> (for a proxy.toml backend).</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The TLS endpoint, <c>https://127.0.0.1:port</c>, or null when the origin was started without one.</summary>
    public Uri? TlsUri { get; }

    /// <summary>The TLS endpoint's port (throws when there is none).</summary>
    public int TlsPort => (TlsUri ?? throw new InvalidOperationException("this origin has no TLS endpoint")).Port;

    /// <summary>The TLS endpoint as <c>127.0.0.1:port</c> (throws when there is none).</summary>
    public string TlsAddress => $"127.0.0.1:{TlsPort}";

    /// <summary>The certificate the TLS endpoint presents (a client trusts it to connect), or null without one.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>What the service observed: the calls and the cancellations.</summary>
    public EchoObservations Observations { get; }

    /// <summary>Starts an origin with the h2c endpoint only.</summary>
    public static Task<GrpcOrigin> StartAsync() => StartAsync(tls: false, certificate: null);

    /// <summary>
    /// Starts an origin with the h2c endpoint and a TLS endpoint presenting <paramref name="certificate"/> (it needs its
    /// private key), or, when null, a self-signed certificate made now for <c>127.0.0.1</c> and <c>localhost</c>.
    /// </summary>
    public static Task<GrpcOrigin> StartWithTlsAsync(X509Certificate2? certificate = null)
        => StartAsync(tls: true, certificate ?? SelfSigned());

    /// <summary>A channel to the h2c endpoint (the caller disposes it).</summary>
    public global::Grpc.Net.Client.GrpcChannel CreateChannel() => GrpcClients.CreateChannel(Uri);

    /// <summary>A channel to the TLS endpoint that trusts <see cref="Certificate"/> (the caller disposes it).</summary>
    public global::Grpc.Net.Client.GrpcChannel CreateTlsChannel()
        => GrpcClients.CreateChannel(TlsUri ?? throw new InvalidOperationException("this origin has no TLS endpoint"), Certificate);

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(StopGrace);
        try
        {
            await _app.StopAsync(grace.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    private static async Task<GrpcOrigin> StartAsync(bool tls, X509Certificate2? certificate)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<EchoObservations>();
        builder.Services.AddGrpc(options => options.EnableDetailedErrors = true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            if (tls)
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    listen.UseHttps(certificate!);
                });
            }
        });

        WebApplication app = builder.Build();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        try
        {
            ICollection<string> addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            Uri plain = new(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
            Uri? secure = tls ? new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal))) : null;
            return new GrpcOrigin(app, plain, secure, certificate);
        }
        catch
        {
            await app.StopAsync();
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, with its key, valid from yesterday for ten days.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=grpc-origin", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10));
        // Through PKCS#12 so the key is a persisted one that any TLS stack can use.
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), password: null);
    }
}
