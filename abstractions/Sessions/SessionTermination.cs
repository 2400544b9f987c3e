namespace PluginProxy.Abstractions;

/// <summary>How a session (or a stream) ended. Written in logs as the snake_case form of the name.</summary>
public enum SessionTermination
{
    /// <summary>Both sides closed in order.</summary>
    Normal,

    /// <summary>The client closed or reset the connection before the exchange completed.</summary>
    ClientAborted,

    /// <summary>The server closed or reset the connection before the exchange completed.</summary>
    ServerAborted,

    /// <summary>The client side stayed inactive longer than <c>timeout_client</c>.</summary>
    ClientTimeout,

    /// <summary>The server side stayed inactive longer than <c>timeout_server</c>.</summary>
    ServerTimeout,

    /// <summary>A joined connection stayed inactive in both directions longer than <c>timeout_tunnel</c>.</summary>
    TunnelTimeout,

    /// <summary>The request was not analyzed within its timeout (for HTTP: the request head did not arrive within <c>timeout_request</c>).</summary>
    RequestTimeout,

    /// <summary>The accept handshake (PROXY header, TLS) failed, was malformed, or did not finish within <c>timeout_client_hs</c>.</summary>
    HandshakeFailed,

    /// <summary>The backend had no usable server.</summary>
    NoServer,

    /// <summary>Every server tried refused the connection or reset it.</summary>
    ServerRefused,

    /// <summary>Every server tried failed to accept within <c>timeout_connect</c>.</summary>
    ConnectTimeout,

    /// <summary>No backend was chosen: the listener has no default and no analyzer picked one.</summary>
    NoBackend,

    /// <summary>A flow analyzer stopped the stream with its own reply (a deny, a redirect, an error).</summary>
    AnalyzerStopped,

    /// <summary>The client sent something the supervisor refuses (malformed or over a limit).</summary>
    BadRequest,

    /// <summary>The server sent something the supervisor refuses.</summary>
    BadResponse,

    /// <summary>A supervisor, analyzer or script threw; only this session ended.</summary>
    InternalError,

    /// <summary>The proxy was stopping and its grace time ran out.</summary>
    Shutdown,

    /// <summary>The TLS handshake with every server tried failed (for example its certificate did not verify).</summary>
    ServerHandshakeFailed,

    /// <summary>Every server that could take the stream stayed at its <c>maxconn</c> for <c>timeout_queue</c> (HTTP answers 503).</summary>
    QueueTimeout,
}
