using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A throwaway certificate authority made at test time (no private key is ever committed): issues server certificates
/// for given DNS names as PEM files (leaf then CA: a chain) with their keys, and checks what a server presented.
/// </summary>
internal sealed class TestPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestPki(string folder, string name = "PluginProxy Test CA")
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        AuthorityPath = Path.Combine(folder, "ca.pem");
        File.WriteAllText(AuthorityPath, Authority.ExportCertificatePem());
    }

    public string Folder { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>The CA certificate as a PEM file (for <c>verify = "ca.pem"</c> and for clients).</summary>
    public string AuthorityPath { get; }

    /// <summary>Issues a certificate for <paramref name="dnsNames"/> into <c>{stem}.pem</c> (with the CA after it) and <c>{stem}.key</c>.</summary>
    public IssuedCertificate Issue(string stem, params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={(dnsNames.Length > 0 ? dnsNames[0] : stem)}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (string name in dnsNames)
        {
            if (IPAddress.TryParse(name, out IPAddress? address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using X509Certificate2 issued = request.Create(Authority.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        string certPath = Path.Combine(Folder, stem + ".pem");
        string keyPath = Path.Combine(Folder, stem + ".key");
        File.WriteAllText(certPath, issued.ExportCertificatePem() + "\n" + Authority.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new IssuedCertificate(certPath, keyPath, X509CertificateLoader.LoadCertificate(issued.RawData));
    }

    /// <summary>True when <paramref name="presented"/> chains to this CA.</summary>
    public bool Trusts(X509Certificate? presented)
    {
        if (presented is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(presented.GetRawCertData()));
    }

    public void Dispose()
    {
        _caKey.Dispose();
        Authority.Dispose();
    }

    /// <summary>Connects to <paramref name="endPoint"/> and completes a TLS handshake asking for <paramref name="serverName"/>.</summary>
    /// <returns>The client (HTTP over the TLS stream) and what the server presented and agreed.</returns>
    public static async Task<TlsClient> ConnectAsync(IPEndPoint endPoint, string? serverName, IEnumerable<string>? alpn = null,
        SslProtocols protocols = SslProtocols.None)
    {
        Socket socket = await SocketExtensions.ConnectAsync(endPoint);
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: false));
        X509Certificate? presented = null;
        var options = new SslClientAuthenticationOptions
        {
            // An IP address as TargetHost sends no SNI, as a client does that connects by address.
            TargetHost = serverName ?? endPoint.Address.ToString(),
            EnabledSslProtocols = protocols,
            ApplicationProtocols = alpn?.Select(p => new SslApplicationProtocol(p)).ToList(),
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return true;
            },
        };
        using var timeout = new CancellationTokenSource(Wait.DefaultDeadline);
        try
        {
            await stream.AuthenticateAsClientAsync(options, timeout.Token);
        }
        catch
        {
            await stream.DisposeAsync();
            socket.Dispose();
            throw;
        }

        return new TlsClient(RawHttp.OverTls(socket, stream), stream, (X509Certificate2)presented!);
    }
}

/// <summary>The files of an issued certificate, and the certificate.</summary>
internal sealed record IssuedCertificate(string CertPath, string KeyPath, X509Certificate2 Certificate)
{
    public string Thumbprint => Certificate.Thumbprint;
}

/// <summary>A TLS client connection: HTTP over it, the stream (ALPN, version), and the certificate the server presented.</summary>
internal sealed record TlsClient(RawHttp Http, SslStream Stream, X509Certificate2 Presented) : IDisposable
{
    public void Dispose() => Http.Dispose();
}
