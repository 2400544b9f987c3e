namespace PluginProxy.Abstractions;

/// <summary>
/// One <c>[[listener.route]]</c>: the conditions a stream must meet (all of those given) to go to <see cref="Backend"/>.
/// Routes are tried in order; the first match wins, else the listener's default backend.
/// </summary>
public sealed record RouteRule
{
    /// <summary>The backend the matching streams go to.</summary>
    public required string Backend { get; init; }

    /// <summary>The host, case-insensitive, without port; <c>*.example.com</c> matches any subdomain. Null: any host.</summary>
    public string? Host { get; init; }

    /// <summary>The exact path. Null: any path.</summary>
    public string? Path { get; init; }

    /// <summary>A path prefix (case-sensitive). Null: any path.</summary>
    public string? PathPrefix { get; init; }

    /// <summary>The methods, any of which matches. Null: any method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>A header that must be present (case-insensitive name). Null: no header condition.</summary>
    public string? HeaderName { get; init; }

    /// <summary>The value the header must have (exact); null: presence is enough.</summary>
    public string? HeaderValue { get; init; }

    /// <summary>
    /// The server name the client asked for in its TLS handshake (SNI), case-insensitive; <c>*.example.com</c> matches
    /// any subdomain. On a tcp listener it is read from the ClientHello without decrypting (the <c>tls_sni</c> analyzer);
    /// on an https listener it is the name of the completed handshake. Null: any name, or none.
    /// </summary>
    public string? Sni { get; init; }

    /// <summary>True when <see cref="Sni"/> is null or <paramref name="serverName"/> matches it.</summary>
    public bool MatchesSni(string? serverName) => Sni is null || NameMatches(Sni, serverName);

    /// <summary>
    /// True when <paramref name="name"/> matches <paramref name="pattern"/>: equal ignoring case, or, for a pattern
    /// <c>*.example.com</c>, any name ending in <c>.example.com</c> with at least one label before it.
    /// </summary>
    public static bool NameMatches(string pattern, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        ReadOnlySpan<char> candidate = name.AsSpan().TrimEnd('.');
        return pattern.StartsWith("*.", StringComparison.Ordinal)
            ? candidate.Length > pattern.Length - 1 && candidate.EndsWith(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase)
            : candidate.Equals(pattern, StringComparison.OrdinalIgnoreCase);
    }
}
