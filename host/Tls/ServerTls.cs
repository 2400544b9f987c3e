using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Tls;

/// <summary>
/// TLS to one server (<c>tls = true</c> on a server entry): the name sent as SNI and checked in the server's certificate,
/// and how the certificate is verified — the system's trust store, a CA file, or not at all (<c>verify = "none"</c>).
/// </summary>
internal sealed class ServerTls
{
    private readonly SslClientAuthenticationOptions _options;

    // The thumbprints of the CA file's certificates, so that a reload can tell an edited CA file from the same one.
    private readonly string _authorities;

    private ServerTls(string targetHost, string verify, SslClientAuthenticationOptions options, string authorities)
    {
        TargetHost = targetHost;
        Verify = verify;
        _options = options;
        _authorities = authorities;
    }

    /// <summary>The ALPN protocols offered in the handshake: <c>h2</c> for an HTTP/2 server, none otherwise.</summary>
    public IReadOnlyList<SslApplicationProtocol> ApplicationProtocols => _options.ApplicationProtocols ?? [];

    /// <summary>The name asked for (SNI, unless it is an IP address) and expected in the certificate.</summary>
    public string TargetHost { get; }

    /// <summary>How the certificate is verified, as written: <c>system</c>, <c>none</c>, or the CA file.</summary>
    public string Verify { get; }

    /// <param name="targetHost">The <c>sni</c> given, else the host part of the server's address.</param>
    /// <param name="verify">"system", "none", or the path of the CA file the certificates in <paramref name="authorities"/> come from.</param>
    /// <param name="authorities">The CA file's certificates, or null.</param>
    /// <param name="http2">
    /// True for a server with <c>proto = "h2"</c>: the handshake offers ALPN <c>h2</c>. Otherwise no ALPN is offered (an
    /// HTTP/1.1 server needs none).
    /// </param>
    public static ServerTls Create(string targetHost, string verify, X509Certificate2Collection? authorities, bool http2 = false)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        if (http2)
        {
            options.ApplicationProtocols = [SslApplicationProtocol.Http2];
        }

        if (verify == "none")
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (authorities is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(authorities);
            options.CertificateChainPolicy = policy;
        }

        string thumbprints = authorities is null ? "" : string.Join(",", authorities.Select(c => c.Thumbprint));
        return new ServerTls(targetHost, verify, options, thumbprints);
    }

    /// <summary>True when <paramref name="other"/> connects the same way: same name, same verification, same CA certificates, same ALPN.</summary>
    public static bool SameSettings(ServerTls? one, ServerTls? other) =>
        one is null || other is null
            ? one is null && other is null
            : one.TargetHost == other.TargetHost && one.Verify == other.Verify && one._authorities == other._authorities
                && one.ApplicationProtocols.SequenceEqual(other.ApplicationProtocols);

    /// <summary>Runs the client side of the handshake over a connected socket.</summary>
    /// <exception cref="AuthenticationException">The handshake or the verification failed.</exception>
    public async Task<TlsTransport> HandshakeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsClientAsync(_options, cancellationToken).ConfigureAwait(false);
            return new TlsTransport(socket, stream);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
