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
}
