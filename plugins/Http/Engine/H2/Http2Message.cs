using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// What a stream's request and response live in: the version-independent message and the bytes its request head is a
/// view over. A connection keeps a few for its next streams (an HTTP/1.1 connection keeps its one across requests).
/// </summary>
internal sealed class Http2Message
{
    /// <summary>The message the engine runs its phases on.</summary>
    public HttpExchange Exchange { get; } = new();

    /// <summary>The request head's bytes (reused by the next stream when they are large enough).</summary>
    public byte[] Head = [];

    /// <summary>The stream that last carried this message, kept for the next one when it may serve again (<see cref="Http2ServerStream.Reusable"/>).</summary>
    public Http2ServerStream? Stream;
}
