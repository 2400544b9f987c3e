namespace PluginProxy.Http.Codec.H2;

/// <summary>The frame types of RFC 9113 §6. A frame of any other type is ignored by the receiver (§4.1, §5.5).</summary>
internal enum Http2FrameType : byte
{
    /// <summary>DATA (§6.1): a stream's content.</summary>
    Data = 0x0,

    /// <summary>HEADERS (§6.2): opens a stream and carries a field block fragment.</summary>
    Headers = 0x1,

    /// <summary>PRIORITY (§6.3): deprecated priority signal, still parsed and checked.</summary>
    Priority = 0x2,

    /// <summary>RST_STREAM (§6.4): ends one stream with an error code.</summary>
    RstStream = 0x3,

    /// <summary>SETTINGS (§6.5): connection parameters, or the acknowledgement of the peer's.</summary>
    Settings = 0x4,

    /// <summary>PUSH_PROMISE (§6.6): a server announcing a pushed stream.</summary>
    PushPromise = 0x5,

    /// <summary>PING (§6.7): eight opaque bytes, echoed with ACK.</summary>
    Ping = 0x6,

    /// <summary>GOAWAY (§6.8): the connection is shutting down.</summary>
    GoAway = 0x7,

    /// <summary>WINDOW_UPDATE (§6.9): flow-control credit for a stream or the connection.</summary>
    WindowUpdate = 0x8,

    /// <summary>CONTINUATION (§6.10): the rest of a field block started by HEADERS or PUSH_PROMISE.</summary>
    Continuation = 0x9,
}
