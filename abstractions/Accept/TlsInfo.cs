using System.Net.Security;
using System.Security.Authentication;

namespace PluginProxy.Abstractions;

/// <summary>What a TLS handshake settled, as analyzers, scripts and logs see it.</summary>
/// <param name="ServerName">The server name the client asked for (SNI), or null when it sent none.</param>
/// <param name="ApplicationProtocol">The protocol agreed by ALPN (<c>http/1.1</c>), or null when none was.</param>
/// <param name="Protocol">The TLS version (<see cref="SslProtocols.Tls12"/>, <see cref="SslProtocols.Tls13"/>).</param>
/// <param name="CipherSuite">The cipher suite agreed.</param>
public sealed record TlsInfo(string? ServerName, string? ApplicationProtocol, SslProtocols Protocol, TlsCipherSuite CipherSuite)
{
    /// <summary>The TLS version as logs write it: <c>TLSv1.2</c>, <c>TLSv1.3</c>.</summary>
    public string Version => Protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
#pragma warning disable SYSLIB0039 // Named only to describe an old client in logs.
        SslProtocols.Tls11 => "TLSv1.1",
        SslProtocols.Tls => "TLSv1",
#pragma warning restore SYSLIB0039
        _ => Protocol.ToString(),
    };
}
