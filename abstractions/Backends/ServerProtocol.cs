namespace PluginProxy.Abstractions;

/// <summary>
/// The HTTP version the proxy speaks to a server (<c>proto</c> of a server entry in <c>servers = [...]</c>). It says
/// nothing to the <c>tcp</c> supervisor, which forwards bytes.
/// </summary>
public enum ServerProtocol
{
    /// <summary><c>proto = "h1"</c> (the default): HTTP/1.1, one request at a time per connection, connections pooled.</summary>
    Http1,

    /// <summary>
    /// <c>proto = "h2"</c>: HTTP/2, many requests multiplexed on few connections. Over TLS the proxy offers ALPN
    /// <c>h2</c> in its handshake; without TLS it speaks h2c with prior knowledge (RFC 9113 §3.3).
    /// </summary>
    Http2,
}
