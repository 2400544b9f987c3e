namespace PluginProxy.Http.Codec.H2;

/// <summary>Fixed values of HTTP/2 (RFC 9113).</summary>
internal static class Http2Protocol
{
    /// <summary>
    /// The client connection preface (§3.4): the 24 bytes a client sends first, before its SETTINGS frame.
    /// A server that does not receive them exactly treats the connection as in error.
    /// </summary>
    public static ReadOnlySpan<byte> ClientPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The length of <see cref="ClientPreface"/>.</summary>
    public const int ClientPrefaceLength = 24;

    /// <summary>The largest flow-control window, and the largest WINDOW_UPDATE increment (2^31-1, §6.9.1).</summary>
    public const int MaxWindowSize = int.MaxValue;

    /// <summary>The smallest value SETTINGS_MAX_FRAME_SIZE may take, and its default (2^14).</summary>
    public const int MinMaxFrameSize = 16384;

    /// <summary>The largest value SETTINGS_MAX_FRAME_SIZE may take (2^24-1).</summary>
    public const int MaxMaxFrameSize = 16777215;

    /// <summary>The largest stream identifier (2^31-1).</summary>
    public const int MaxStreamId = int.MaxValue;
}
