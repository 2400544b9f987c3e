using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Tcp.Routing;

/// <summary>
/// One <c>[[listener.route]]</c> of a tcp listener, bound by the tcp supervisor from <see cref="ListenerSettings.Table"/>
/// (<see cref="TcpRoutes"/>): a tcp session sees no HTTP request, so <see cref="Sni"/>, the server name of the client's
/// TLS ClientHello (read by <c>tls_sni</c> without decrypting), is its only condition. Routes are tried in order; the
/// first whose <c>sni</c> matches wins, else the listener's default backend.
/// </summary>
public sealed class TcpRoute : IValidatableOptions
{
    /// <summary><c>backend</c>: the backend the matching sessions go to. The host reads it too, and refuses a name that is no backend.</summary>
    public string Backend { get; init; } = "";

    /// <summary>
    /// <c>sni</c>: the server name, case-insensitive; <c>*.example.com</c> matches any subdomain. Null: the route has no
    /// condition a tcp session can meet, and is not tried.
    /// </summary>
    public string? Sni { get; init; }

    /// <summary>True when <see cref="Sni"/> is set and <paramref name="serverName"/> matches it.</summary>
    public bool MatchesSni(string? serverName) => Sni is not null && HostPattern.Matches(Sni, serverName);

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (Sni is not null && HostPattern.Problem("sni", Sni) is { } problem)
        {
            yield return ("sni", problem);
        }
    }
}
