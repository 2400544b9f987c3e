using System.Text;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Routing;

/// <summary>
/// A listener's routes, compiled to bytes once, matched against a parsed request without allocating.
/// The first route whose every condition holds gives the backend; otherwise the listener's default backend.
/// </summary>
internal sealed class RouteTable
{
    private readonly CompiledRoute[] _routes;

    private sealed class CompiledRoute
    {
        public required string Backend;
        public required HttpRoute Rule;
        public byte[]? Host;
        public bool HostIsWildcard;
        public byte[]? Path;
        public byte[]? PathPrefix;
        public byte[][]? Methods;
        public byte[]? HeaderName;
        public byte[]? HeaderValue;
    }

    public RouteTable(IReadOnlyList<HttpRoute> rules)
    {
        _routes = rules.Select(rule => new CompiledRoute
        {
            Backend = rule.Backend,
            Rule = rule,
            Host = rule.Host is null ? null : Encoding.ASCII.GetBytes(rule.Host.StartsWith("*.", StringComparison.Ordinal) ? rule.Host[1..] : rule.Host),
            HostIsWildcard = rule.Host?.StartsWith("*.", StringComparison.Ordinal) == true,
            Path = rule.Path is null ? null : Encoding.ASCII.GetBytes(rule.Path),
            PathPrefix = rule.PathPrefix is null ? null : Encoding.ASCII.GetBytes(rule.PathPrefix),
            Methods = rule.Method?.Select(Encoding.ASCII.GetBytes).ToArray(),
            HeaderName = rule.Header?.Name is { } name ? Encoding.ASCII.GetBytes(name) : null,
            HeaderValue = rule.Header?.Value is { } value ? Encoding.Latin1.GetBytes(value) : null,
        }).ToArray();
    }

    public bool IsEmpty => _routes.Length == 0;

    /// <summary>The backend name of the first matching route, or null.</summary>
    /// <param name="request">The parsed request.</param>
    /// <param name="host">The request's host without port: an absolute-form target's authority, else the Host field.</param>
    /// <param name="path">The request's normalised path, without the query (docs/http.md, "Paths and request-targets").</param>
    /// <param name="serverName">The server name of the client's TLS handshake, or null.</param>
    public string? Match(HttpRequestHead request, ReadOnlySpan<byte> host, ReadOnlySpan<byte> path, string? serverName)
    {
        foreach (CompiledRoute route in _routes)
        {
            if (!route.Rule.MatchesSni(serverName))
            {
                continue;
            }

            if (route.Host is { } wanted)
            {
                bool hostMatches = route.HostIsWildcard
                    ? host.Length > wanted.Length && Ascii.EqualsIgnoreCase(host[^wanted.Length..], wanted)
                    : Ascii.EqualsIgnoreCase(host, wanted);
                if (!hostMatches)
                {
                    continue;
                }
            }

            if (route.Path is { } exact && !path.SequenceEqual(exact))
            {
                continue;
            }

            if (route.PathPrefix is { } prefix && !path.StartsWith(prefix))
            {
                continue;
            }

            if (route.Methods is { } methods && !MethodMatches(methods, request.RawMethod))
            {
                continue;
            }

            if (route.HeaderName is { } name)
            {
                int index = request.Headers.IndexOf(name);
                if (index < 0 || (route.HeaderValue is { } value && !HeaderValueIs(request.Headers, index, name, value)))
                {
                    continue;
                }
            }

            return route.Backend;
        }

        return null;
    }

    private static bool MethodMatches(byte[][] methods, ReadOnlySpan<byte> method)
    {
        foreach (byte[] candidate in methods)
        {
            if (method.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when some field named <paramref name="name"/> has exactly <paramref name="value"/>.</summary>
    private static bool HeaderValueIs(HttpHeaders headers, int first, byte[] name, byte[] value)
    {
        for (int i = first; i >= 0; i = headers.IndexOf(name, i + 1))
        {
            bool equal = headers.IsReceived(i)
                ? headers.RawValue(i).SequenceEqual(value)
                : headers.ValueAt(i) == Encoding.Latin1.GetString(value);
            if (equal)
            {
                return true;
            }
        }

        return false;
    }
}
