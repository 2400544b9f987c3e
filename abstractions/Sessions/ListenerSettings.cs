namespace PluginProxy.Abstractions;

/// <summary>
/// The settings of one listener (one <c>[[listener]]</c> table) that a protocol supervisor needs while running a session.
/// Immutable: a configuration reload produces new settings for new sessions.
/// </summary>
public sealed record ListenerSettings
{
    /// <summary>The listener's <c>name</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The supervisor named by <c>supervisor</c>.</summary>
    public required string Supervisor { get; init; }

    /// <summary>The default backend (<c>backend</c>), or null when the listener names none (every stream must then be routed by an analyzer).</summary>
    public string? DefaultBackend { get; init; }

    /// <summary>The timeouts of this listener's sessions.</summary>
    public required ProxyTimeouts Timeouts { get; init; }

    /// <summary><c>max_request_head</c>: the read limit of the held request channel, in bytes.</summary>
    public int MaxRequestHead { get; init; } = 16384;

    /// <summary><c>max_request_body</c>: the largest request body accepted, in bytes, or null for no limit.</summary>
    public long? MaxRequestBody { get; init; }

    /// <summary><c>buffer_size</c>: the size of the pooled buffers used while data flows, in bytes.</summary>
    public int BufferSize { get; init; } = 65536;

    /// <summary><c>forwardfor</c>: whether HTTP supervisors add <c>X-Forwarded-*</c> headers.</summary>
    public bool ForwardFor { get; init; }

    /// <summary>The routes (<c>[[listener.route]]</c>), in order: the first match wins.</summary>
    public IReadOnlyList<RouteRule> Routes { get; init; } = [];

    /// <summary><c>no_route_status</c>: the status answered when no route matches and there is no default backend (404 or 503).</summary>
    public int NoRouteStatus { get; init; } = 503;

    /// <summary><c>access_log</c>: whether the supervisor writes a line per stream.</summary>
    public bool AccessLog { get; init; } = true;

    /// <summary><c>[listener.tls]</c>: certificates and handshake settings for a TLS-terminating supervisor; null when absent.</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>Further listener keys that plugins define for themselves, as parsed values (strings, numbers, booleans, arrays, tables).</summary>
    public IReadOnlyDictionary<string, object?> Options { get; init; } = new Dictionary<string, object?>();
}
