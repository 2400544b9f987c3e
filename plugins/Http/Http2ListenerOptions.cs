using PluginProxy.Abstractions.Options;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Http;

/// <summary>
/// <c>[listener.h2]</c>: the limits of the HTTP/2 client connections of an http or https listener (h2c with prior
/// knowledge, ALPN <c>h2</c>), bound as <see cref="HttpListenerOptions.H2"/>. The defaults are safe for a public
/// listener; the header list limit, the idle deadline and the write deadline follow the listener's
/// <c>max_request_head</c>, <c>timeout_keep_alive</c> and <c>timeout_client</c> (see docs/http2.md, "Defences").
/// </summary>
public sealed class Http2ListenerOptions : IValidatableOptions
{
    /// <summary>The options of a listener without <c>[listener.h2]</c>.</summary>
    public static Http2ListenerOptions Default { get; } = new();

    /// <summary><c>max_concurrent_streams</c>: SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce (a stream beyond it is refused).</summary>
    [OptionRange(1, 10_000)]
    public int MaxConcurrentStreams { get; init; } = 100;

    /// <summary><c>stream_window</c>: SETTINGS_INITIAL_WINDOW_SIZE, the request data one stream may have buffered, unread.</summary>
    [Size]
    [OptionRange(16 * 1024, 16 * 1024 * 1024)]
    public int StreamWindow { get; init; } = 128 * 1024;

    /// <summary><c>connection_window</c>: the request data all streams of a connection together may have buffered (at least <c>stream_window</c>).</summary>
    [Size]
    [OptionRange(64 * 1024, 64 * 1024 * 1024)]
    public int ConnectionWindow { get; init; } = 1024 * 1024;

    /// <summary><c>max_frame_size</c>: SETTINGS_MAX_FRAME_SIZE, the largest frame accepted (and the read buffer's size).</summary>
    [Size]
    [OptionRange(16_384, 16_777_215)]
    public int MaxFrameSize { get; init; } = 16_384;

    /// <summary><c>header_table_size</c>: SETTINGS_HEADER_TABLE_SIZE, the HPACK dynamic table of our decoder.</summary>
    [Size]
    [OptionRange(0, 65_536)]
    public int HeaderTableSize { get; init; } = 4096;

    /// <summary><c>max_resets</c>: RST_STREAM frames from the client on open streams per <c>flood_window</c> (Rapid Reset) before GOAWAY ENHANCE_YOUR_CALM.</summary>
    [OptionRange(1, 100_000)]
    public int MaxResets { get; init; } = 200;

    /// <summary><c>flood_window</c>: the window the flood limits (<c>max_resets</c>, <c>max_pings</c>, ...) count in.</summary>
    public TimeSpan FloodWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>max_pings</c>: PING frames (not ACKs) per <c>flood_window</c>.</summary>
    [OptionRange(1, 100_000)]
    public int MaxPings { get; init; } = 100;

    /// <summary><c>max_settings</c>: SETTINGS frames (not ACKs) per <c>flood_window</c>.</summary>
    [OptionRange(1, 100_000)]
    public int MaxSettings { get; init; } = 100;

    /// <summary><c>max_empty_frames</c>: empty DATA frames without END_STREAM per <c>flood_window</c>.</summary>
    [OptionRange(1, 100_000)]
    public int MaxEmptyFrames { get; init; } = 100;

    /// <summary><c>max_continuation_frames</c>: CONTINUATION frames one header block may take.</summary>
    [OptionRange(1, 10_000)]
    public int MaxContinuationFrames { get; init; } = 32;

    /// <summary><c>window_stall_timeout</c>: how long a response may wait for send window before its stream is reset (or the connection ended).</summary>
    public TimeSpan WindowStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>settings_ack_timeout</c>: how long the client may take to acknowledge our SETTINGS.</summary>
    public TimeSpan SettingsAckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (ConnectionWindow < StreamWindow)
        {
            yield return ("connection_window", $"`h2.connection_window` ({ConnectionWindow} bytes) must be at least `h2.stream_window` ({StreamWindow} bytes)");
        }
    }

    /// <summary>The connection limits these options give, with the listener's header list limit and deadlines.</summary>
    /// <param name="maxHeaderListSize">The listener's <c>max_request_head</c>.</param>
    /// <param name="idleTimeout">The listener's <c>timeout_keep_alive</c>.</param>
    /// <param name="writeTimeout">The listener's <c>timeout_client</c>.</param>
    internal Http2Limits ToLimits(int maxHeaderListSize, TimeSpan? idleTimeout, TimeSpan? writeTimeout) => new()
    {
        MaxConcurrentStreams = MaxConcurrentStreams,
        StreamWindow = StreamWindow,
        ConnectionWindow = ConnectionWindow,
        MaxFrameSize = MaxFrameSize,
        HeaderTableSize = HeaderTableSize,
        MaxClientResets = MaxResets,
        FloodWindow = FloodWindow,
        MaxPings = MaxPings,
        MaxSettingsFrames = MaxSettings,
        MaxEmptyFrames = MaxEmptyFrames,
        MaxContinuationFrames = MaxContinuationFrames,
        WindowStallTimeout = WindowStallTimeout,
        SettingsAckTimeout = SettingsAckTimeout,
        MaxHeaderListSize = maxHeaderListSize,
        IdleTimeout = idleTimeout,
        WriteTimeout = writeTimeout,
    };
}
