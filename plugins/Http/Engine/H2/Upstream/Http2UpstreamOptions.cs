namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// What a <see cref="Http2ServerConnection"/> advertises to the server and how much it buffers. The defaults bound a
/// connection's buffered response data to <see cref="ConnectionWindow"/>; tests lower them.
/// </summary>
internal sealed class Http2UpstreamOptions
{
    /// <summary>The defaults.</summary>
    public static Http2UpstreamOptions Default { get; } = new();

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE we advertise: the response data one stream may buffer unread.</summary>
    public int StreamWindow { get; init; } = 256 * 1024;

    /// <summary>The connection receive window (opened by a WINDOW_UPDATE after our SETTINGS): all streams' unread data together.</summary>
    public int ConnectionWindow { get; init; } = 1024 * 1024;

    /// <summary>SETTINGS_MAX_FRAME_SIZE we advertise (the read buffer holds one frame of it).</summary>
    public int MaxFrameSize { get; init; } = 16384;

    /// <summary>The largest DATA payload we send, whatever the server accepts.</summary>
    public int MaxSendFrameSize { get; init; } = 16384;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce on response heads.</summary>
    public int MaxHeaderListSize { get; init; } = 64 * 1024;

    /// <summary>SETTINGS_HEADER_TABLE_SIZE we advertise (our HPACK decoder's table).</summary>
    public int HeaderTableSize { get; init; } = 4096;

    /// <summary>The most our HPACK encoder's dynamic table uses (less when the server says so).</summary>
    public int EncoderTableSize { get; init; } = 4096;

    /// <summary>The largest response header block (HEADERS + CONTINUATION) assembled before decoding.</summary>
    public int MaxHeaderBlockSize { get; init; } = 128 * 1024;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside what HTTP/2 allows.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamWindow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionWindow, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, Codec.H2.Http2Protocol.MinMaxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, Codec.H2.Http2Protocol.MaxMaxFrameSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendFrameSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderListSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(EncoderTableSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderBlockSize, 1);
    }
}
