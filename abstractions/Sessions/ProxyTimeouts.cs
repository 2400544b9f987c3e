namespace PluginProxy.Abstractions;

/// <summary>
/// The timeouts that apply to a listener's sessions, resolved from <c>[defaults]</c> and the listener's own keys.
/// A null value means "no timeout".
/// </summary>
public sealed record ProxyTimeouts
{
    /// <summary><c>timeout_connect</c>: the most time a connection to a server may take.</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>timeout_client</c>: the most time the client side may stay inactive (nothing read from it nor written to it).</summary>
    public TimeSpan? Client { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>timeout_queue</c>: the most time a stream may wait for a slot on a server at its <c>maxconn</c> (then 503).</summary>
    public TimeSpan Queue { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>timeout_server</c>: the most time the server side may stay inactive.</summary>
    public TimeSpan? Server { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>timeout_tunnel</c>: once both ends are joined with no analyzer left (a tcp session after connect, an HTTP upgrade),
    /// the inactivity allowed on both sides together; it supersedes <see cref="Client"/> and <see cref="Server"/>. Null: they apply.
    /// </summary>
    public TimeSpan? Tunnel { get; init; }

    /// <summary><c>timeout_request</c>: the most time the request channel may stay held for analysis (the whole HTTP request head must arrive within it).</summary>
    public TimeSpan? Request { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>timeout_keep_alive</c>: the most time an idle keep-alive client connection waits for its next request.</summary>
    public TimeSpan? KeepAlive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>timeout_client_hs</c>: the most time the accept handshake (PROXY header, TLS handshake) may take.</summary>
    public TimeSpan ClientHandshake { get; init; } = TimeSpan.FromSeconds(10);
}
