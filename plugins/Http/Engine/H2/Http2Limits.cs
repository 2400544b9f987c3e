namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The limits of one client-facing HTTP/2 connection (<see cref="Http2ClientConnection"/>): what we advertise in our
/// SETTINGS, the flow-control windows that bound the memory a client can make us hold, and the flood defences. The
/// defaults are safe for a public listener; tests lower them.
/// </summary>
/// <remarks>
/// Memory per connection is bounded by <see cref="ConnectionWindow"/> (request data buffered, whatever the number of
/// streams), the read buffer (<see cref="MaxFrameSize"/> + 9 bytes, rented only while bytes are there), one header block
/// being assembled (<see cref="MaxHeaderBlockSize"/>), the decoded heads of at most <see cref="MaxConcurrentStreams"/>
/// streams (each at most about <see cref="MaxHeaderListSize"/>), and the HPACK tables. Time is bounded by the four
/// deadlines at the end (<see cref="IdleTimeout"/>, <see cref="SettingsAckTimeout"/>, <see cref="WriteTimeout"/>,
/// <see cref="WindowStallTimeout"/>), checked by one coarse timer (<see cref="Http2Deadlines"/>).
/// </remarks>
internal sealed record Http2Limits
{
    /// <summary>The defaults.</summary>
    public static Http2Limits Default { get; } = new();

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce (a stream beyond it is refused with REFUSED_STREAM).</summary>
    public int MaxConcurrentStreams { get; init; } = 100;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE we advertise: the request data one stream may have buffered, unread.</summary>
    public int StreamWindow { get; init; } = 128 * 1024;

    /// <summary>The connection receive window we open at the start: the request data all streams together may have buffered.</summary>
    public int ConnectionWindow { get; init; } = 1024 * 1024;

    /// <summary>SETTINGS_MAX_FRAME_SIZE we advertise (16384..16777215): the largest frame we accept, and the read buffer's size.</summary>
    public int MaxFrameSize { get; init; } = 16384;

    /// <summary>The largest DATA frame we send, whatever larger size the client allows.</summary>
    public int MaxSendFrameSize { get; init; } = 16384;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE we advertise: a request head above it is answered 431, the connection goes on.</summary>
    public int MaxHeaderListSize { get; init; } = 16384;

    /// <summary>
    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table of our decoder (0..65536). Below the protocol's 4096 it holds
    /// once the client acknowledged our SETTINGS; until then the decoder accepts 4096.
    /// </summary>
    public int HeaderTableSize { get; init; } = 4096;

    /// <summary>The HPACK dynamic table our encoder uses for responses (at most what the client allows).</summary>
    public int EncoderTableSize { get; init; } = 4096;

    /// <summary>The largest compressed header block (HEADERS plus CONTINUATION fragments): beyond it, a connection error ENHANCE_YOUR_CALM.</summary>
    public int MaxHeaderBlockSize { get; init; } = 64 * 1024;

    /// <summary>The most CONTINUATION frames one header block may take (empty ones included): beyond it, ENHANCE_YOUR_CALM.</summary>
    public int MaxContinuationFrames { get; init; } = 32;

    /// <summary>The window the flood counters below count in.</summary>
    public TimeSpan FloodWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Client RST_STREAM frames of open streams per <see cref="FloodWindow"/> (Rapid Reset, CVE-2023-44487) before GOAWAY ENHANCE_YOUR_CALM.</summary>
    public int MaxClientResets { get; init; } = 200;

    /// <summary>Streams we refuse (too many concurrent, or malformed) per <see cref="FloodWindow"/> before ENHANCE_YOUR_CALM.</summary>
    public int MaxRefusedStreams { get; init; } = 200;

    /// <summary>SETTINGS frames (not ACKs) per <see cref="FloodWindow"/> before ENHANCE_YOUR_CALM.</summary>
    public int MaxSettingsFrames { get; init; } = 100;

    /// <summary>PING frames (not ACKs) per <see cref="FloodWindow"/> before ENHANCE_YOUR_CALM.</summary>
    public int MaxPings { get; init; } = 100;

    /// <summary>Empty DATA frames without END_STREAM (frames that carry nothing) per <see cref="FloodWindow"/> before ENHANCE_YOUR_CALM.</summary>
    public int MaxEmptyFrames { get; init; } = 100;

    /// <summary>
    /// How many streams we reset are remembered, so the frames the client sent before it saw our RST_STREAM are ignored;
    /// and how many closed streams, so HEADERS on one is told apart (STREAM_CLOSED) from a stream id going back (PROTOCOL_ERROR).
    /// </summary>
    public int ResetStreamsRemembered { get; init; } = 64;

    /// <summary>
    /// How long the connection may stay without an open stream (from its start, or since its last stream closed) before
    /// GOAWAY NO_ERROR closes it: the role of the listener's <c>timeout_keep_alive</c>. Null: no limit.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the client may take to acknowledge our SETTINGS before GOAWAY SETTINGS_TIMEOUT (RFC 9113 §6.5.3). Null: no limit.</summary>
    public TimeSpan? SettingsAckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one write to the transport may stay pending (the client does not read) before the connection is aborted:
    /// the transport is closed without GOAWAY, every stream is aborted. The role of the listener's <c>timeout_client</c>. Null: no limit.
    /// </summary>
    public TimeSpan? WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a response may wait for send window: a stream whose own window stays exhausted that long is reset with
    /// CANCEL; when the connection window stays exhausted that long while a stream waits, GOAWAY ENHANCE_YOUR_CALM. Null: no limit.
    /// </summary>
    public TimeSpan? WindowStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the values; throws <see cref="ArgumentOutOfRangeException"/> naming the first wrong one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentStreams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(StreamWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionWindow, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, 16384);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, 16777215);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendFrameSize);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxHeaderListSize);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderTableSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HeaderTableSize, 65536);
        ArgumentOutOfRangeException.ThrowIfNegative(EncoderTableSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeaderBlockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxContinuationFrames);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FloodWindow, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(ResetStreamsRemembered);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout ?? TimeSpan.MaxValue, TimeSpan.Zero, nameof(IdleTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SettingsAckTimeout ?? TimeSpan.MaxValue, TimeSpan.Zero, nameof(SettingsAckTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WriteTimeout ?? TimeSpan.MaxValue, TimeSpan.Zero, nameof(WriteTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WindowStallTimeout ?? TimeSpan.MaxValue, TimeSpan.Zero, nameof(WindowStallTimeout));
    }
}
