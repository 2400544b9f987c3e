namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The HTTP version a message travelled with on the wire. Analyzers and scripts see the same message whatever the
/// version; this says how it was framed (for the log, and for what only HTTP/1 has, such as HTTP/1.0 keep-alive).
/// </summary>
public enum HttpProtocol
{
    /// <summary>HTTP/1.0: connections close after each exchange unless both sides ask to keep them.</summary>
    Http10 = 10,

    /// <summary>HTTP/1.1: connections persist unless a side says <c>Connection: close</c>.</summary>
    Http11 = 11,

    /// <summary>HTTP/2: many streams on one connection, heads in HPACK, bodies in DATA frames.</summary>
    Http2 = 20,
}
