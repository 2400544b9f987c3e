namespace PluginProxy.Abstractions;

/// <summary>
/// Which requests may go on an idle pooled connection to a server (<c>http_reuse</c> in <c>[[backend]]</c> or
/// <c>[defaults]</c>), as HAProxy's <c>http-reuse</c>. A server may close an idle connection at any moment, possibly
/// just as a request is sent on it; such a request never reached the server.
/// </summary>
public enum HttpReuse
{
    /// <summary>
    /// <c>safe</c> (the default): only a replayable request (an idempotent method whose whole body the proxy holds) goes
    /// on an idle connection, and is sent again on a new connection if that one turns out closed; any other request gets
    /// a new connection. No request fails because of reuse.
    /// </summary>
    Safe,

    /// <summary>
    /// <c>always</c>: every request may go on an idle connection. A request that cannot be replayed and meets a connection
    /// the server was closing fails with 502 (nginx's behaviour); for servers that never close idle connections early.
    /// </summary>
    Always,
}
