namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The frame flags of RFC 9113 §6. A flag's meaning depends on the frame type (END_STREAM and ACK share a bit);
/// flags a type does not define are ignored.
/// </summary>
[Flags]
internal enum Http2FrameFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>END_STREAM on DATA and HEADERS: the sender's last frame on the stream.</summary>
    EndStream = 0x1,

    /// <summary>ACK on SETTINGS and PING.</summary>
    Ack = 0x1,

    /// <summary>END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION: the field block is complete.</summary>
    EndHeaders = 0x4,

    /// <summary>PADDED on DATA, HEADERS and PUSH_PROMISE: a pad length byte starts the payload.</summary>
    Padded = 0x8,

    /// <summary>PRIORITY on HEADERS: five bytes of priority fields follow the pad length.</summary>
    Priority = 0x20,
}
