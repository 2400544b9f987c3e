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

    /// <summary><c>buffer_size</c>: the size of the pooled buffers used while data flows, in bytes.</summary>
    public int BufferSize { get; init; } = 65536;

    /// <summary><c>access_log</c>: whether the supervisor writes a line per stream.</summary>
    public bool AccessLog { get; init; } = true;

    /// <summary>
    /// <c>track</c>: the stick tables every request of this listener is counted in, under the table's key (requests and
    /// their rate; error answers at the stream's end). Empty when the listener tracks nothing.
    /// </summary>
    public IReadOnlyList<Tables.IStickTable> Track { get; init; } = [];

    /// <summary>
    /// The names of the configuration's <c>[[store]]</c>s, so that a plugin can check the store its options name (and
    /// find it in <see cref="Stores.IStores"/> once the configuration runs).
    /// </summary>
    public IReadOnlyList<string> StoreNames { get; init; } = [];

    /// <summary><c>[listener.tls]</c>: certificates and handshake settings for a TLS-terminating supervisor; null when absent.</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>
    /// The <c>[[listener]]</c> table as written, with the place of every key and value, for plugins to bind their own
    /// options from (<see cref="PluginProxy.Abstractions.Options.OptionsBinder"/>): the host's keys, the keys plugins own (<c>forwardfor</c>),
    /// <c>options</c>, and the routes (<c>[[listener.route]]</c>, the array of tables <c>route</c>: the host reads only
    /// their <c>backend</c>; their conditions belong to the supervisor that routes by them). A key a plugin owns that the
    /// listener leaves out and <c>[defaults]</c> sets is added from there.
    /// </summary>
    public PluginProxy.Abstractions.Options.OptionTable Table { get; init; } = PluginProxy.Abstractions.Options.OptionTable.Empty;

    /// <summary>Further listener keys that plugins define for themselves, as parsed values (strings, numbers, booleans, arrays, tables); <see cref="Table"/> has them with their places.</summary>
    public IReadOnlyDictionary<string, object?> Options { get; init; } = new Dictionary<string, object?>();
}
