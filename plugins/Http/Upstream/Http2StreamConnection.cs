using PluginProxy.Abstractions;

namespace PluginProxy.Http.Upstream;

/// <summary>A request stream to an HTTP/2 server, as the engine's server connection (never pooled itself: its connection is).</summary>
internal sealed class Http2StreamConnection(Http2StreamTransport transport, IServer server) : ServerConnection(transport, server)
{
    /// <summary>The stream, as the HTTP/1.1 byte stream the engine speaks.</summary>
    public Http2StreamTransport Stream => transport;

    public override void Dispose() => transport.Dispose();
}
