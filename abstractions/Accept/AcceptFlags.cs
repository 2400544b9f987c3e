namespace PluginProxy.Abstractions;

/// <summary>
/// What the host's generic accept learns about, and sets on, each connection of a listener.
/// A listener lists them in <c>accept = [...]</c>; the names there are the snake_case forms of these members.
/// </summary>
[Flags]
public enum AcceptFlags
{
    /// <summary>No flag set.</summary>
    None = 0,

    /// <summary><c>nodelay</c>: set <c>TCP_NODELAY</c> on the accepted socket so small writes leave at once.</summary>
    NoDelay = 1 << 0,

    /// <summary><c>keepalive</c>: set <c>SO_KEEPALIVE</c> on the accepted socket so dead peers are eventually detected.</summary>
    KeepAlive = 1 << 1,

    /// <summary><c>reuseport</c>: set <c>SO_REUSEPORT</c> on the listening socket before it binds.</summary>
    ReusePort = 1 << 2,

    /// <summary><c>defer_accept</c>: set <c>TCP_DEFER_ACCEPT</c> on the listening socket, so the kernel completes the accept only once the client has sent data.</summary>
    DeferAccept = 1 << 3,

    /// <summary><c>original_dst</c>: read <c>SO_ORIGINAL_DST</c> after accept (the destination before an iptables REDIRECT).</summary>
    OriginalDestination = 1 << 4,

    /// <summary><c>proxy_protocol</c>: read a PROXY protocol v1 or v2 header before anything else; the client address it carries becomes the session's client.</summary>
    ProxyProtocol = 1 << 5,

    /// <summary><c>transparent</c>: set <c>IP_TRANSPARENT</c> on the listening socket (needs <c>CAP_NET_ADMIN</c>), so it can accept connections for foreign addresses.</summary>
    Transparent = 1 << 6,
}
