using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Http.Routing;

/// <summary>
/// One <c>[[listener.route]]</c> of an http (or https) listener, bound by the http supervisor from
/// <see cref="ListenerSettings.Table"/> (<see cref="HttpListenerOptions.Route"/>): the conditions a request must meet
/// (all of those given) to go to <see cref="Backend"/>. Routes are tried in order; the first match wins, else the
/// listener's default backend.
/// </summary>
public sealed class HttpRoute : IValidatableOptions
{
    /// <summary><c>backend</c>: the backend the matching requests go to. The host reads it too, and refuses a name that is no backend.</summary>
    public string Backend { get; init; } = "";

    /// <summary><c>host</c>: the host, case-insensitive, without port; <c>*.example.com</c> matches any subdomain. Null: any host.</summary>
    public string? Host { get; init; }

    /// <summary>
    /// <c>sni</c>: the server name the client asked for in its TLS handshake (on an https listener, the name of the
    /// completed handshake), case-insensitive; <c>*.example.com</c> matches any subdomain. Null: any name, or none.
    /// </summary>
    public string? Sni { get; init; }

    /// <summary><c>path</c>: the exact (normalised) path. Null: any path.</summary>
    public string? Path { get; init; }

    /// <summary><c>path_prefix</c>: a prefix of the (normalised) path, case-sensitive. Null: any path.</summary>
    public string? PathPrefix { get; init; }

    /// <summary><c>method</c>: a method or a list of them, any of which matches. Null: any method.</summary>
    public IReadOnlyList<string>? Method { get; init; }

    /// <summary><c>header</c>: a header that must be present, and maybe its value. Null: no header condition.</summary>
    public HttpRouteHeader? Header { get; init; }

    /// <summary>True when <see cref="Sni"/> is null or <paramref name="serverName"/> matches it.</summary>
    public bool MatchesSni(string? serverName) => Sni is null || HostPattern.Matches(Sni, serverName);

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        foreach ((string key, string? name) in new[] { ("host", Host), ("sni", Sni) })
        {
            if (name is not null && HostPattern.Problem(key, name) is { } problem)
            {
                yield return (key, problem);
            }
        }

        foreach ((string key, string? path) in new[] { ("path", Path), ("path_prefix", PathPrefix) })
        {
            if (path is not null && !path.StartsWith('/'))
            {
                yield return (key, $"a route path must start with '/', not \"{path}\"");
            }
        }

        for (int i = 0; i < (Method?.Count ?? 0); i++)
        {
            string method = Method![i];
            if (method.Length == 0 || !method.All(HttpSyntax.IsTokenChar))
            {
                yield return ($"method[{i}]", $"route `method` \"{method}\" is not a method name");
            }
        }
    }
}
