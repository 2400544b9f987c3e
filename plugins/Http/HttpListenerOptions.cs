using PluginProxy.Abstractions.Options;
using PluginProxy.Http.Routing;

namespace PluginProxy.Http;

/// <summary>
/// The keys of a <c>[[listener]]</c> table that the http supervisor owns (and https, which runs it), bound from
/// <see cref="PluginProxy.Abstractions.ListenerSettings.Table"/> once per listener configuration
/// (<see cref="HttpSupervisor.OptionsFor"/>), the conditions of its routes included. The host reads the rest of the
/// table, and of each route only its <c>backend</c>.
/// </summary>
public sealed class HttpListenerOptions : IValidatableOptions
{
    /// <summary>The options of a listener that sets none of these keys.</summary>
    public static HttpListenerOptions Default { get; } = new();

    /// <summary><c>forwardfor</c>: whether to add <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>.</summary>
    [OptionKey("forwardfor")]
    public bool ForwardFor { get; init; }

    /// <summary><c>no_route_status</c>: the status answered when no route matches and there is no default backend (404 or 503).</summary>
    [OptionRange(404, 503)]
    public int NoRouteStatus { get; init; } = 503;

    /// <summary><c>max_request_body</c> (also in <c>[defaults]</c>): the largest request body accepted, in bytes, or null for no limit.</summary>
    [Size]
    public long? MaxRequestBody { get; init; }

    /// <summary>
    /// <c>park_idle_after</c>: how long an HTTP/1.x client connection on plain TCP waits idle between requests before the
    /// supervisor hands it back to the host, which keeps it for a few hundred bytes (no socket object, no session) until
    /// the client sends again or <c>timeout_keep_alive</c> ends it. Resuming costs a few system calls, so it is not done
    /// between requests that follow each other closely. Set it above <c>timeout_keep_alive</c> to never park.
    /// </summary>
    public TimeSpan ParkIdleAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>[[listener.route]]</c>: the routes, in order (the first match wins; <see cref="RouteTable"/> compiles them).</summary>
    public IReadOnlyList<HttpRoute> Route { get; init; } = [];

    /// <summary><c>[listener.h2]</c>: the limits of the listener's HTTP/2 client connections.</summary>
    public Http2ListenerOptions H2 { get; init; } = Http2ListenerOptions.Default;

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (NoRouteStatus is not (404 or 503))
        {
            yield return ("no_route_status", $"`no_route_status` must be 404 or 503, not {NoRouteStatus}");
        }
    }
}
