using System.Net.Security;
using System.Reflection;
using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Https;

/// <summary>
/// What the https supervisor keeps per listener configuration (a reload brings new <see cref="ListenerSettings"/>, so a
/// new one): the listener's bound options, and the server-side handshake options it hands to <see cref="SslStream"/>.
/// The host's certificates give one shared options instance per certificate, without ALPN; this adds the listener's
/// application protocols on a copy of each, made the first time that instance is handed out and reused by every later
/// handshake. A certificate reloaded from its files comes as a new instance, so it gets a new copy, and the copy of the
/// old one goes with it.
/// </summary>
internal sealed class ListenerHandshake
{
    /// <summary>Every option the host may set, copied as it is: only the application protocols differ.</summary>
    private static readonly PropertyInfo[] Copied = typeof(SslServerAuthenticationOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && p.Name != nameof(SslServerAuthenticationOptions.ApplicationProtocols))
        .ToArray();

    private readonly ITlsCertificates? _certificates;
    private readonly List<SslApplicationProtocol> _protocols;
    private readonly ConditionalWeakTable<SslServerAuthenticationOptions, SslServerAuthenticationOptions> _copies = new();
    private readonly ConditionalWeakTable<SslServerAuthenticationOptions, SslServerAuthenticationOptions>.CreateValueCallback _copy;

    public ListenerHandshake(ListenerSettings listener)
    {
        Options = HttpsListenerOptions.Bind(listener);
        _certificates = listener.Tls?.Certificates;
        _protocols = Options.Value.Alpn.Select(p => new SslApplicationProtocol(p)).ToList();
        _copy = WithProtocols;
    }

    /// <summary>The listener's https options and their errors (a configuration with errors never runs).</summary>
    public OptionsBinding<HttpsListenerOptions> Options { get; }

    /// <summary>
    /// The handshake options for a client asking for <paramref name="serverName"/>: the certificate the host selects,
    /// offering the listener's protocols; null when the host refuses the name (<c>strict_sni</c>). Allocates nothing
    /// once each certificate has been handed out.
    /// </summary>
    public SslServerAuthenticationOptions? Select(string? serverName)
    {
        if (_certificates?.Select(serverName) is not { } shared)
        {
            return null;
        }

        return _copies.GetValue(shared, _copy);
    }

    private SslServerAuthenticationOptions WithProtocols(SslServerAuthenticationOptions shared)
    {
        var copy = new SslServerAuthenticationOptions();
        foreach (PropertyInfo property in Copied)
        {
            property.SetValue(copy, property.GetValue(shared));
        }

        copy.ApplicationProtocols = _protocols;
        return copy;
    }
}
