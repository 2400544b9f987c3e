using System.Buffers.Binary;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The six settings of RFC 9113 §6.5.2 as one endpoint declared them. <c>new Http2Settings()</c> holds the protocol's
/// initial values (what holds before any SETTINGS frame); <c>default</c> does not, so use the constructor.
/// </summary>
internal struct Http2Settings
{
    /// <summary>The initial SETTINGS_HEADER_TABLE_SIZE.</summary>
    public const uint DefaultHeaderTableSize = 4096;

    /// <summary>The initial SETTINGS_INITIAL_WINDOW_SIZE.</summary>
    public const uint DefaultInitialWindowSize = 65535;

    /// <summary>The initial SETTINGS_MAX_FRAME_SIZE.</summary>
    public const uint DefaultMaxFrameSize = Http2Protocol.MinMaxFrameSize;

    /// <summary>"No limit", the initial value of SETTINGS_MAX_CONCURRENT_STREAMS and SETTINGS_MAX_HEADER_LIST_SIZE.</summary>
    public const uint Unlimited = uint.MaxValue;

    /// <summary>The protocol's initial values.</summary>
    public Http2Settings()
    {
    }

    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the largest HPACK dynamic table this endpoint's decoder accepts.</summary>
    public uint HeaderTableSize { get; set; } = DefaultHeaderTableSize;

    /// <summary>SETTINGS_ENABLE_PUSH.</summary>
    public bool EnablePush { get; set; } = true;

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS (<see cref="Unlimited"/> when never sent).</summary>
    public uint MaxConcurrentStreams { get; set; } = Unlimited;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE, at most 2^31-1.</summary>
    public uint InitialWindowSize { get; set; } = DefaultInitialWindowSize;

    /// <summary>SETTINGS_MAX_FRAME_SIZE, 16384 to 16777215.</summary>
    public uint MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE (<see cref="Unlimited"/> when never sent).</summary>
    public uint MaxHeaderListSize { get; set; } = Unlimited;

    /// <summary>
    /// Checks and applies the values of a SETTINGS payload (framing already checked by
    /// <see cref="FramePayloads.CheckSettings"/>), in order, later values winning. ENABLE_PUSH other than 0 or 1 and
    /// MAX_FRAME_SIZE outside 16384..16777215 are connection PROTOCOL_ERRORs, INITIAL_WINDOW_SIZE above 2^31-1 a
    /// connection FLOW_CONTROL_ERROR; unknown identifiers are ignored. On an error nothing is applied.
    /// </summary>
    /// <exception cref="ArgumentException">The payload is not a multiple of six bytes.</exception>
    public Http2Error Apply(ReadOnlySpan<byte> payload)
    {
        if (payload.Length % 6 != 0)
        {
            throw new ArgumentException("A SETTINGS payload is a multiple of 6 bytes.", nameof(payload));
        }

        for (int i = 0; i < payload.Length; i += 6)
        {
            Http2Error error = Check((Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(payload[i..]),
                BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]));
            if (error.IsError)
            {
                return error;
            }
        }

        for (int i = 0; i < payload.Length; i += 6)
        {
            Set((Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(payload[i..]), BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]));
        }

        return Http2Error.None;
    }

    /// <summary>Checks one setting's value (§6.5.2).</summary>
    public static Http2Error Check(Http2SettingId id, uint value) => id switch
    {
        Http2SettingId.EnablePush when value > 1
            => Http2Error.Connection(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH is not 0 or 1"),
        Http2SettingId.InitialWindowSize when value > Http2Protocol.MaxWindowSize
            => Http2Error.Connection(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1"),
        Http2SettingId.MaxFrameSize when value is < Http2Protocol.MinMaxFrameSize or > Http2Protocol.MaxMaxFrameSize
            => Http2Error.Connection(Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE outside 16384..16777215"),
        _ => Http2Error.None,
    };

    private void Set(Http2SettingId id, uint value)
    {
        switch (id)
        {
            case Http2SettingId.HeaderTableSize:
                HeaderTableSize = value;
                break;
            case Http2SettingId.EnablePush:
                EnablePush = value == 1;
                break;
            case Http2SettingId.MaxConcurrentStreams:
                MaxConcurrentStreams = value;
                break;
            case Http2SettingId.InitialWindowSize:
                InitialWindowSize = value;
                break;
            case Http2SettingId.MaxFrameSize:
                MaxFrameSize = value;
                break;
            case Http2SettingId.MaxHeaderListSize:
                MaxHeaderListSize = value;
                break;
        }
    }
}
