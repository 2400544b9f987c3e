using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// Thrown by the reads and writes of a <see cref="Http2ClientStream"/> once the stream ended abnormally: reset by either
/// side, or its connection ended first. <see cref="WasRefused"/> says whether the server did not process the request,
/// so it is safe to send again on another connection.
/// </summary>
internal sealed class Http2StreamAbortedException : IOException
{
    /// <param name="message">Why the stream ended.</param>
    /// <param name="code">The RST_STREAM or GOAWAY code, if any.</param>
    /// <param name="wasRefused">True when the server did not process the request.</param>
    public Http2StreamAbortedException(string message, Http2ErrorCode? code, bool wasRefused)
        : base(message)
    {
        Code = code;
        WasRefused = wasRefused;
    }

    /// <summary>The RST_STREAM code (ours or the server's) or the connection's GOAWAY code, if any.</summary>
    public Http2ErrorCode? Code { get; }

    /// <summary>True when the server did not process the request (REFUSED_STREAM, above a GOAWAY's last stream id, or never sent).</summary>
    public bool WasRefused { get; }
}
