using System.Net.Security;
using System.Security.Authentication;

namespace PluginProxy.Abstractions;

/// <summary>
/// A listener's <c>[listener.tls]</c>: what a TLS-terminating supervisor (<c>https</c>) needs for its handshakes. The host
/// loads the certificates, checks them, and swaps in new ones when their files change (with <c>hot_reload</c>). What only
/// a protocol understands is not here: the supervisor reads it from <see cref="ListenerSettings.Table"/> (the https
/// supervisor owns <c>tls.alpn</c> and offers its application protocols itself).
/// </summary>
public sealed class TlsSettings
{
    /// <summary>Chooses the certificate (and with it the whole server-side handshake options) for each client.</summary>
    public required ITlsCertificates Certificates { get; init; }

    /// <summary><c>strict_sni</c>: refuse a client whose server name matches no certificate (else it gets the first one).</summary>
    public bool StrictSni { get; init; }

    /// <summary><c>min_version</c>: the TLS versions accepted (1.2 and 1.3 by default).</summary>
    public SslProtocols Protocols { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;
}

/// <summary>The certificates of a TLS listener, chosen by server name (SNI).</summary>
public interface ITlsCertificates
{
    /// <summary>
    /// The server-side handshake options for a client asking for <paramref name="serverName"/> (null: no SNI): the
    /// certificate whose names match it exactly, else one whose wildcard (<c>*.example.com</c>) matches, else the first
    /// certificate — or null when <see cref="TlsSettings.StrictSni"/> is set and nothing matched. The options carry the
    /// listener's TLS versions and no application protocols (ALPN): a supervisor that offers some sets them on a copy,
    /// made once per returned instance. The same instance is returned for every handshake until the certificates are
    /// reloaded (a new instance then): do not change it.
    /// </summary>
    SslServerAuthenticationOptions? Select(string? serverName);
}
